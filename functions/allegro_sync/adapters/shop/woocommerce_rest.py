"""WooCommerce as the shop: Allegro orders become WooCommerce orders through its REST API (wc/v3).

Stock is reduced by WooCommerce itself, never by us: WooCommerce reduces stock when an order is paid
(`set_paid: true` runs payment_complete) or enters `on-hold`/`processing`, and gives it back when the
order is cancelled. Writing `stock_quantity` as well would take every sale twice, so this adapter only
chooses the order status from the lines' `stock_effect`:

- a line TAKEN by the ledger and the order paid -> `processing` + `set_paid` (WooCommerce reduces stock);
- TAKEN but not paid yet -> `on-hold` (WooCommerce reduces stock too);
- nothing taken yet -> `pending` (no stock change); CANCELLED -> `cancelled` (WooCommerce restores it).

A combined payment (allegro-api #1111): the new form arrives as a new WooCommerce order (WooCommerce
reduces its stock), and each form it replaced arrives as status MERGED: once the new order exists, the
replaced order is cancelled (WooCommerce restores what it had reduced), so every unit is reduced once in
the end, and never restored before the new order has taken it (in between stock errs low, never high).
A later address change (BUYER_MODIFIED after payment, #3730) updates the order's shipping address.

Idempotency: WooCommerce cannot filter orders by meta, so the order id it gave us is kept in an
`OrderIndex` (the `orders` table). The index is claimed BEFORE the create; a crash between the create
and saving the id leaves a claim without an id, and the next attempt looks for an order carrying our
`_allegro_checkout_form_id` meta created since the claim before creating anything. The claim is exclusive
(`claim_to_create`): two states of a new order delivered at once by two workers create one order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

from allegro_sync.adapters.shop.errors import refusal_code
from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned, OutboxLine
from allegro_sync.contracts.shop import LabelLink, ShopAck, ShopDown, ShopRejected, ShopUnavailable

ACCOUNT_META = "_allegro_account"
API = "/wp-json/wc/v3"
RECOVERY_MARGIN = timedelta(minutes=10)  # shop and Lambda clocks may disagree by a few minutes
RECOVERY_PAGES = 5
# A claim's holder is surely gone after this long (the shop notifier lives at most 60 s): two deliveries of
# one new order (two of its states on the standard outbox queue) never both create it.
CLAIM_LEASE = timedelta(minutes=2)
MERGED = "MERGED"  # our status for a form a combined payment replaced (contracts.messages.OrderChanged)
READ_TIMEOUT_SECONDS = 5.0  # reads made while a webhook delivery waits for our answer
VARIATION_PAGES = 5  # 500 variations: WooCommerce's admin itself pages variations by 15


@dataclass(frozen=True)
class IndexedOrder:
    claimed_at: datetime
    shop_order_id: int | None = None


class OrderIndex(Protocol):
    """Allegro checkout form id -> the WooCommerce order created for it."""

    def get(self, checkout_form_id: str) -> IndexedOrder | None: ...

    def claim(self, checkout_form_id: str, at: datetime) -> bool:
        """Record 'about to create': True when this delivery may create the order now. Exclusive: False
        while another delivery's claim is younger than `CLAIM_LEASE` (it may be creating the order this
        very moment) and once an order is recorded; a claim whose holder died without an order is taken
        over after its lease."""
        ...

    def set(self, checkout_form_id: str, shop_order_id: int) -> None: ...


def claim_to_create(index: OrderIndex, form_id: str, at: datetime) -> None:
    """Claim the shop order's creation, or raise for a retry: another delivery of this order (an older or
    newer state of it) holds the claim, and the retry finds the order it created."""
    if not index.claim(form_id, at):
        raise ShopUnavailable(f"another delivery is creating the shop's order for {form_id}; will retry")


def woocommerce_status(message: OrderChanged) -> tuple[str, bool]:
    """(WooCommerce status, set_paid) for the message, chosen so WooCommerce moves stock exactly as we did."""
    if message.status in ("CANCELLED", MERGED):
        return "cancelled", False
    taken = any(line.stock_effect == "TAKEN" for line in message.lines)
    paid = message.status == "READY_FOR_PROCESSING"
    if paid:
        return "processing", True
    return ("on-hold" if taken else "pending"), False


def _gmt(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _total(line: OutboxLine) -> str | None:
    if line.unit_price is None:
        return None
    try:
        return str(Decimal(line.unit_price) * line.quantity)
    except InvalidOperation:
        return None


def _address(source: dict[str, Any] | None) -> dict[str, str]:
    """Allegro's buyer / delivery address -> WooCommerce's billing / shipping fields (what is there)."""
    if not source:
        return {}
    address = source.get("address") if isinstance(source.get("address"), dict) else source
    assert isinstance(address, dict)
    fields = {
        "first_name": address.get("firstName") or source.get("firstName"),
        "last_name": address.get("lastName") or source.get("lastName"),
        "company": address.get("companyName") or source.get("companyName"),
        "address_1": address.get("street"),
        "city": address.get("city"),
        "postcode": address.get("zipCode") or address.get("postCode"),
        "country": address.get("countryCode"),
        "phone": address.get("phoneNumber") or source.get("phoneNumber"),
        "email": source.get("email"),
    }
    return {k: str(v) for k, v in fields.items() if v}


class WooCommerceRest:
    """WooCommerce's REST API (wc/v3) with the shop's consumer key/secret (HTTP Basic over HTTPS)."""

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, http: httpx.Client) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the WooCommerce URL must start with https:// (http:// only for a local shop)")
        self._base = url.rstrip("/") + API
        self._auth = httpx.BasicAuth(consumer_key, consumer_secret)
        self._http = http

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._request(method, path, json=json, params=params)
        try:
            return response.json()
        except ValueError:
            raise ShopUnavailable(f"WooCommerce sent non-JSON to {method} {path}") from None

    def _request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The answer of a 2xx call; ShopUnavailable (retry) or ShopRejected otherwise."""
        try:
            response = self._http.request(
                method, self._base + path, json=json, params=params, auth=self._auth
            )
        except httpx.HTTPError as exc:
            raise ShopDown(f"WooCommerce did not answer: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (408, 409, 429):
            raise ShopDown(f"WooCommerce answered {status} to {method} {path}; will retry")
        if not 200 <= status < 300:
            raise ShopRejected(f"WooCommerce refused {method} {path} with {status}: {refusal_code(response)}")
        return response


class WooCommerceProducts(WooCommerceRest):
    """Reads what a webhook delivery leaves out: a variation's parent, a variable product's variations.

    WooCommerce delivers a variable product with only its variation ids, and each variation on its own
    (`type: "variation"`, `parent_id`) without the parent's name, description, images, categories or
    shared attributes (class-wc-webhook.php: `product.updated` hooks `woocommerce_update_product_variation`
    and the payload is `GET /wc/v3/products/<id>`). `GET /products/<id>` and
    `GET /products/<id>/variations` give the rest (WC_REST_Product_Variations_Controller, post type
    `product_variation`).
    """

    def product(self, product_id: int) -> dict[str, Any]:
        found = self._call("GET", f"/products/{product_id}")
        if not isinstance(found, dict):
            raise ShopUnavailable(f"WooCommerce sent no product for {product_id}")
        return found

    def variations(self, product_id: int) -> list[dict[str, Any]]:
        """Every variation of a variable product (pages of 100, at most `VARIATION_PAGES`)."""
        found: list[dict[str, Any]] = []
        for page in range(1, VARIATION_PAGES + 1):
            batch = self._call(
                "GET", f"/products/{product_id}/variations", params={"per_page": 100, "page": page}
            )
            rows = [v for v in batch if isinstance(v, dict)] if isinstance(batch, list) else []
            found += rows
            if len(rows) < 100:
                break
        return found


class WooCommerceShop(WooCommerceRest):
    """`ShopOrderSink` over WooCommerce's REST API (consumer key/secret, HTTP Basic over HTTPS)."""

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        http: httpx.Client,
        index: OrderIndex,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(url, consumer_key, consumer_secret, http)
        self._index = index
        self._clock = clock

    def check(self) -> None:
        """One product read with the consumer key: the URL is a WooCommerce REST API and the key works.
        Raises ShopRejected (wrong key, no such API) or ShopUnavailable (not reachable)."""
        try:
            self._call("GET", "/products", params={"per_page": 1})
        except ShopRejected as error:
            if " 401" in str(error) or " 403" in str(error):
                raise ShopRejected("WooCommerce refused the consumer key/secret (401/403)") from None
            if " 404" in str(error):
                raise ShopRejected(f"no WooCommerce REST API at {self._base} (404): check the URL") from None
            raise

    # --- delivery ---------------------------------------------------------------------------------------

    def deliver(self, message: OrderChanged) -> ShopAck:
        form_id = message.checkout_form_id
        status, paid = woocommerce_status(message)
        order_id = self._order_id(form_id)
        if message.status == MERGED:
            return self._close_merged(message, order_id)
        if order_id is not None:
            order = self._update(order_id, status, paid, message)
        else:
            claim_to_create(self._index, form_id, self._now())
            order = self._create(message, status, paid)
            self._index.set(form_id, int(order["id"]))
        applied = _gmt(order.get("date_modified_gmt")) or _gmt(order.get("date_paid_gmt")) or self._now()
        return ShopAck(applied_at=applied, shop_order_id=str(order.get("id")))

    def _order_id(self, form_id: str) -> int | None:
        known = self._index.get(form_id)
        order_id = known.shop_order_id if known else None
        if known is not None and order_id is None:
            order_id = self._find_created(form_id, known.claimed_at)
            if order_id is not None:
                self._index.set(form_id, order_id)
        return order_id

    def _close_merged(self, message: OrderChanged, order_id: int | None) -> ShopAck:
        """Cancel the replaced purchase's order, but only after the combined order took the stock."""
        if order_id is None:
            return ShopAck(applied_at=self._now())  # WooCommerce never had this purchase
        if message.merged_into is None or self._order_id(message.merged_into) is None:
            raise ShopUnavailable(f"order {message.merged_into} is not in WooCommerce yet; will retry")
        body = {"status": "cancelled", "customer_note": f"Allegro: paid together in {message.merged_into}"}
        order: dict[str, Any] = self._call("PUT", f"/orders/{order_id}", json=body)
        applied = _gmt(order.get("date_modified_gmt")) or self._now()
        return ShopAck(applied_at=applied, shop_order_id=str(order.get("id")))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _create(self, message: OrderChanged, status: str, paid: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": status,
            "set_paid": paid,
            "line_items": [self._line_item(line) for line in message.lines],
            "meta_data": [
                {"key": CHECKOUT_FORM_META, "value": message.checkout_form_id},
                {"key": ACCOUNT_META, "value": message.account},
            ],
            "customer_note": f"Allegro: {message.checkout_form_id}",
        }
        currency = next((line.currency for line in message.lines if line.currency), None)
        if currency:
            body["currency"] = currency
        billing = _address(message.buyer)
        if billing:
            body["billing"] = billing
        shipping = _address((message.delivery or {}).get("address"))
        if shipping:
            body["shipping"] = {k: v for k, v in shipping.items() if k != "email"}
        created: dict[str, Any] = self._call("POST", "/orders", json=body)
        return created

    def _update(self, order_id: int, status: str, paid: bool, message: OrderChanged) -> dict[str, Any]:
        body: dict[str, Any] = {"status": status}
        if paid:
            body["set_paid"] = True
        shipping = _address((message.delivery or {}).get("address"))
        if shipping:  # the buyer may change it after payment (#3730)
            body["shipping"] = {k: v for k, v in shipping.items() if k != "email"}
        updated: dict[str, Any] = self._call("PUT", f"/orders/{order_id}", json=body)
        return updated

    def _line_item(self, line: OutboxLine) -> dict[str, Any]:
        item: dict[str, Any] = {"quantity": line.quantity}
        product = self._product(line.sku) if line.sku else None
        if product is not None:
            item["product_id"], variation = product
            if variation is not None:
                item["variation_id"] = variation
        else:
            item["name"] = f"Allegro offer {line.offer_id}" + (f" ({line.sku})" if line.sku else "")
        total = _total(line)
        if total is not None:
            item["subtotal"] = item["total"] = total
        return item

    def _product(self, sku: str) -> tuple[int, int | None] | None:
        """(product_id, variation_id) for a SKU, so WooCommerce moves the stock of what was sold.

        `GET /products?sku=` is an exact match. Since the v3 controller (WC_REST_Products_Controller::
        prepare_objects_query) it queries post types `product` AND `product_variation` whenever `sku` is
        given; a variation comes back with `type: "variation"` and `parent_id`, and its order line must
        name both (`product_id` = parent, `variation_id`). Older shops searched `product` only
        (woocommerce/woocommerce#9330, #31370): their variation lines stay named lines.
        """
        found = self._call("GET", "/products", params={"sku": sku})
        for product in found if isinstance(found, list) else []:
            if not isinstance(product, dict) or product.get("sku") != sku:
                continue
            own, parent = product.get("id"), product.get("parent_id")
            if not isinstance(own, int):
                continue
            if product.get("type") == "variation" and isinstance(parent, int) and parent > 0:
                return parent, own
            return own, None
        return None

    def _find_created(self, form_id: str, claimed_at: datetime) -> int | None:
        """After a crash between create and index: the order we created, if WooCommerce has it."""
        after = (claimed_at - RECOVERY_MARGIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        for page in range(1, RECOVERY_PAGES + 1):
            orders = self._call(
                "GET",
                "/orders",
                params={"after": after, "per_page": 100, "page": page, "orderby": "date", "order": "asc"},
            )
            if not isinstance(orders, list) or not orders:
                return None
            for order in orders:
                meta = order.get("meta_data") if isinstance(order, dict) else None
                for entry in meta if isinstance(meta, list) else []:
                    if entry.get("key") == CHECKOUT_FORM_META and entry.get("value") == form_id:
                        return int(order["id"])
            if len(orders) < 100:
                return None
        return None

    # --- issue 15: after-sale news as private order notes (docs/after-sale.md) -----------------------------
    # WooCommerce's order notes (wc/v3 `POST /orders/<id>/notes`, body `note` + `customer_note`; false, the
    # default, keeps it for the shop's staff: WC_REST_Order_Notes_Controller) are its documented place for
    # them. A note has no idempotency key, so each carries the outbox `message_id` as a marker and the
    # order's notes are read first: a retry after a lost answer finds the note and adds none.

    def deliver_label(self, message: OrderLabel, link: LabelLink) -> ShopAck:
        parcel = " ".join(x for x in (message.carrier, message.waybill) if x)
        until = link.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"Allegro shipping label, package {message.package}"
            + (f" ({parcel})" if parcel else "")
            + f": {link.url}\nThe link works until {until}; `allegro-sync orders label"
            + f" {message.checkout_form_id}` makes a new one."
        )
        return self._note_once(message.checkout_form_id, message.message_id, text)

    def deliver_return(self, message: OrderReturned) -> ShopAck:
        """A note only: WooCommerce's stock stays the seller's call (restock in the panel), read back."""
        items = ", ".join(f"{line.quantity} x {line.sku}" for line in message.lines)
        text = (
            f"Allegro return {message.return_id} ({message.status}): {items} came back. Stock is not"
            " changed by this note: restock the items in WooCommerce if they can be sold again."
        )
        return self._note_once(message.checkout_form_id, message.message_id, text)

    def deliver_buyer_message(self, message: BuyerMessage) -> ShopAck | None:
        """On the order the message is about; None when WooCommerce has no such order (skipped)."""
        if not message.checkout_form_id:
            return None
        where = f"dispute {message.issue_id}" if message.source == "issue" else f"thread {message.thread_id}"
        text = f"Allegro buyer message ({where}, {message.created_at}):\n{message.text}"
        ack = self._note_once(message.checkout_form_id, message.message_id, text)
        return ack if ack.shop_order_id is not None else None

    def _note_once(self, form_id: str, marker: str, text: str) -> ShopAck:
        order_id = self._order_id(form_id)
        if order_id is None:  # the order never reached WooCommerce: nothing to attach the note to
            return ShopAck(applied_at=self._now())
        tag = f"[allegro-sync {marker}]"
        notes = self._call("GET", f"/orders/{order_id}/notes", params={"type": "internal"})
        for note in notes if isinstance(notes, list) else []:
            if isinstance(note, dict) and tag in str(note.get("note") or ""):
                return ShopAck(_gmt(note.get("date_created_gmt")) or self._now(), str(order_id))
        body = {"note": f"{text} {tag}", "customer_note": False}
        created = self._call("POST", f"/orders/{order_id}/notes", json=body)
        applied = _gmt(created.get("date_created_gmt")) if isinstance(created, dict) else None
        return ShopAck(applied_at=applied or self._now(), shop_order_id=str(order_id))
