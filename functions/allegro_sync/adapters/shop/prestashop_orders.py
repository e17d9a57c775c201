"""PrestaShop as the shop: Allegro orders become PrestaShop orders through its Webservice API.

PrestaShop documents an order as built from its parts: a customer, an address, a cart with `cart_rows`,
then `POST /api/orders` naming the cart (Order::addWs runs the payment module's validateOrder, which
generates the order's own `reference` and takes the stock of every cart row). So, like WooCommerce,
the stock an Allegro sale took moves in PrestaShop by the order itself; writing `stock_availables` as well
would take every sale twice. Cancelling (state PS_OS_CANCELED, through `order_histories`) gives it back.

Exactly once under retries: the order's `payment` label carries the checkout form id
(`Allegro <form id>`; validateOrder stores the label it is given), the order id is kept in the `OrderIndex`
(claimed before the create), and before creating anything the order is looked up by that label, the
customer by e-mail, the address by its alias and the cart by customer and address: a retry after a crash
reuses what the first attempt made. A combined payment (MERGED) cancels the replaced order once the
combined one exists, as the WooCommerce adapter does.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from allegro_sync.adapters.shop.prestashop import Webservice, WebserviceError, xml_body
from allegro_sync.adapters.shop.woocommerce_rest import MERGED, OrderIndex, claim_to_create
from allegro_sync.contracts.messages import OrderChanged
from allegro_sync.contracts.shop import ShopAck, ShopRejected, ShopUnavailable

PAYMENT_PREFIX = "Allegro "


@dataclass(frozen=True)
class Setup:
    """The shop's own ids an order needs (docs/shop-adapters.md: where to find them in the back office)."""

    id_lang: int = 1
    id_currency: int = 1
    id_country: int = 14  # Poland in a default installation
    id_carrier: int = 1
    module: str = "ps_wirepayment"
    state_paid: int = 2  # PS_OS_PAYMENT
    state_cancelled: int = 6  # PS_OS_CANCELED
    state_awaiting: int = 10  # PS_OS_BANKWIRE: bought, not paid yet


def _label(form_id: str) -> str:
    return PAYMENT_PREFIX + form_id


def _first(answer: Any, resource: str) -> dict[str, Any] | None:
    rows = answer.get(resource) if isinstance(answer, dict) else None
    return rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else None


def _created(answer: Any, kind: str) -> int:
    row = answer.get(kind) if isinstance(answer, dict) else None
    if not isinstance(row, dict) or not str(row.get("id", "")).isdigit():
        raise ShopUnavailable(f"PrestaShop created a {kind} but did not say its id; will retry")
    return int(row["id"])


class PrestaShopShop:
    """`ShopOrderSink` over PrestaShop's Webservice API (the key as HTTP Basic user)."""

    def __init__(
        self,
        url: str,
        key: str,
        http: httpx.Client,
        index: OrderIndex,
        *,
        setup: Setup | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ws, self._index, self._setup, self._clock = (
            Webservice(url, key, http),
            index,
            setup or Setup(),
            clock,
        )
        self._currencies: dict[str, tuple[int, str]] = {}  # ISO code -> (id_currency, conversion_rate)

    def _call(
        self, method: str, resource: str, params: dict[str, str] | None = None, body: bytes = b""
    ) -> Any:
        try:
            return self._ws.call(method, resource, params, body)
        except WebserviceError as exc:
            if exc.status == 0 or exc.status >= 500 or exc.status in (408, 409, 429):
                raise ShopUnavailable(f"{exc}; will retry") from None
            raise ShopRejected(str(exc)) from None

    def check(self) -> None:
        """One product read with the key: the URL is a PrestaShop webservice and the key may read products."""
        try:
            self._call("GET", "products", {"display": "[id]", "limit": "1"})
        except ShopRejected as error:
            if " 401" in str(error) or " 403" in str(error):
                raise ShopRejected("PrestaShop refused the webservice key (401/403)") from None
            raise

    def deliver(self, message: OrderChanged) -> ShopAck:
        form_id = message.checkout_form_id
        order_id = self._order_id(form_id)
        if message.status == MERGED:
            return self._close_merged(message, order_id)
        if order_id is None:
            claim_to_create(self._index, form_id, self._now())
            order_id = self._create(message)
            self._index.set(form_id, order_id)
        self._move(order_id, self._state(message))
        return ShopAck(applied_at=self._now(), shop_order_id=str(order_id))

    def _state(self, message: OrderChanged) -> int:
        """Always a state of ours: validateOrder leaves an order whose amount is not the cart's own total
        (an Allegro price differs from the shop's) in PS_OS_ERROR, which takes no stock; leaving it does."""
        if message.status == "CANCELLED":
            return self._setup.state_cancelled
        return (
            self._setup.state_paid if message.status == "READY_FOR_PROCESSING" else self._setup.state_awaiting
        )

    def _order_id(self, form_id: str) -> int | None:
        known = self._index.get(form_id)
        if known is not None and known.shop_order_id is not None:
            return known.shop_order_id
        found = _first(
            self._call("GET", "orders", {"display": "[id]", "filter[payment]": f"[{_label(form_id)}]"}),
            "orders",
        )
        if found is None:
            return None
        if known is not None:
            self._index.set(form_id, int(found["id"]))
        return int(found["id"])

    def _close_merged(self, message: OrderChanged, order_id: int | None) -> ShopAck:
        """Cancel the replaced purchase's order, but only after the combined order took the stock."""
        if order_id is None:
            return ShopAck(applied_at=self._now())  # PrestaShop never had this purchase
        if message.merged_into is None or self._order_id(message.merged_into) is None:
            raise ShopUnavailable(f"order {message.merged_into} is not in PrestaShop yet; will retry")
        self._move(order_id, self._setup.state_cancelled)
        return ShopAck(applied_at=self._now(), shop_order_id=str(order_id))

    def _move(self, order_id: int, state: int) -> None:
        """A new state through `order_histories` (what moves stock and sends the mails), once."""
        order = _first(
            self._call("GET", "orders", {"display": "[id,current_state]", "filter[id]": f"[{order_id}]"}),
            "orders",
        )
        if order is not None and str(order.get("current_state")) == str(state):
            return
        self._call(
            "POST",
            "order_histories",
            body=xml_body("order_history", {"id_order": order_id, "id_order_state": state}),
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _create(self, message: OrderChanged) -> int:
        rows = [r for r in (self._row(line.sku, line.quantity) for line in message.lines) if r is not None]
        if not rows:
            skus = ", ".join(str(line.sku) for line in message.lines)
            raise ShopRejected(
                f"no PrestaShop product has the reference of any line ({skus}); add it and resend"
            )
        currency, rate = self._currency(message)  # before anything is made: a missing one changes nothing
        customer = self._customer(message)
        address = self._address(message, customer)
        cart = self._cart(customer, address, rows, currency)
        total = sum((Decimal(line.unit_price or "0") * line.quantity for line in message.lines), Decimal("0"))
        s = self._setup
        body = xml_body(
            "order",
            {
                "id_address_delivery": address,
                "id_address_invoice": address,
                "id_cart": cart,
                "id_currency": currency,
                "id_lang": s.id_lang,
                "id_customer": customer,
                "id_carrier": s.id_carrier,
                "module": s.module,
                "payment": _label(message.checkout_form_id),
                "total_paid": total,
                "total_paid_real": total,
                "total_products": total,
                "total_products_wt": total,
                "conversion_rate": rate,
            },
            {
                "order_rows": [
                    {"product_id": p, "product_attribute_id": a, "product_quantity": q} for p, a, q in rows
                ]
            },
        )
        return _created(self._call("POST", "orders", body=body), "order")

    def _row(self, sku: str | None, quantity: int) -> tuple[int, int, int] | None:
        """(id_product, id_product_attribute, quantity) for a line, found by `reference`."""
        if not sku:
            return None
        product = _first(
            self._call("GET", "products", {"display": "[id]", "filter[reference]": f"[{sku}]"}), "products"
        )
        if product is not None:
            return int(product["id"]), 0, quantity
        found = self._call(
            "GET", "combinations", {"display": "[id,id_product]", "filter[reference]": f"[{sku}]"}
        )
        combination = _first(found, "combinations")
        return (
            None
            if combination is None
            else (int(combination["id_product"]), int(combination["id"]), quantity)
        )

    def _customer(self, message: OrderChanged) -> int:
        buyer = message.buyer or {}
        email = str(buyer.get("email") or f"{message.checkout_form_id}@allegro.invalid")
        found = _first(
            self._call("GET", "customers", {"display": "[id]", "filter[email]": f"[{email}]"}), "customers"
        )
        if found is not None:
            return int(found["id"])
        password = hashlib.sha256(f"{email}:{time.time_ns()}".encode()).hexdigest()[
            :32
        ]  # never used to log in
        fields = {
            "firstname": buyer.get("firstName") or "Allegro",
            "lastname": buyer.get("lastName") or "Kupujący",
            "email": email,
            "passwd": password,
            "active": 1,
            "id_lang": self._setup.id_lang,
        }
        return _created(self._call("POST", "customers", body=xml_body("customer", fields)), "customer")

    def _address(self, message: OrderChanged, customer: int) -> int:
        alias = message.checkout_form_id[:32]
        found = self._call(
            "GET",
            "addresses",
            {"display": "[id]", "filter[id_customer]": f"[{customer}]", "filter[alias]": f"[{alias}]"},
        )
        if (row := _first(found, "addresses")) is not None:
            return int(row["id"])
        source = (message.delivery or {}).get("address") or (message.buyer or {}).get("address") or {}
        buyer = message.buyer or {}
        fields = {
            "id_customer": customer,
            "id_country": self._setup.id_country,
            "alias": alias,
            "firstname": source.get("firstName") or buyer.get("firstName") or "Allegro",
            "lastname": source.get("lastName") or buyer.get("lastName") or "Kupujący",
            "address1": source.get("street") or "-",
            "city": source.get("city") or "-",
            "postcode": source.get("zipCode") or source.get("postCode") or "",
            "phone": source.get("phoneNumber") or buyer.get("phoneNumber") or "",
            "other": _label(message.checkout_form_id),
        }
        return _created(self._call("POST", "addresses", body=xml_body("address", fields)), "address")

    def _currency(self, message: OrderChanged) -> tuple[int, str]:
        """(id_currency, conversion_rate) of the currency the buyer paid in (issue 16: CZK, EUR, HUF from
        allegro.cz, .sk, .hu): PLN is the configured `id_currency`; another is found by `iso_code` in the
        `currencies` resource, active and not deleted. A shop without it refuses with what to do."""
        code = next((line.currency for line in message.lines if line.currency), None) or "PLN"
        if code == "PLN":
            return self._setup.id_currency, "1"
        if code not in self._currencies:
            found = _first(
                self._call(
                    "GET",
                    "currencies",
                    {
                        "display": "[id,conversion_rate]",
                        "filter[iso_code]": f"[{code}]",
                        "filter[active]": "[1]",
                        "filter[deleted]": "[0]",
                    },
                ),
                "currencies",
            )
            if found is None:
                raise ShopRejected(
                    f"PrestaShop has no active currency {code} for this allegro order: add it "
                    "(International > Localization > Currencies) and replay the order"
                )
            self._currencies[code] = (int(found["id"]), str(found.get("conversion_rate") or "1"))
        return self._currencies[code]

    def _cart(self, customer: int, address: int, rows: list[tuple[int, int, int]], currency: int) -> int:
        found = self._call(
            "GET",
            "carts",
            {
                "display": "[id]",
                "filter[id_customer]": f"[{customer}]",
                "filter[id_address_delivery]": f"[{address}]",
            },
        )
        if (row := _first(found, "carts")) is not None:
            return int(row["id"])
        s = self._setup
        fields = {
            "id_customer": customer,
            "id_address_delivery": address,
            "id_address_invoice": address,
            "id_currency": currency,
            "id_lang": s.id_lang,
            "id_carrier": s.id_carrier,
        }
        lines = [
            {"id_product": p, "id_product_attribute": a, "id_address_delivery": address, "quantity": q}
            for p, a, q in rows
        ]
        return _created(
            self._call("POST", "carts", body=xml_body("cart", fields, {"cart_rows": lines})), "cart"
        )
