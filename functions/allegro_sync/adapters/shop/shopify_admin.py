"""Shopify as the shop: Allegro orders become Shopify orders through the Admin GraphQL API.

`POST https://<shop>/admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`, at an explicit API
version (`SHOPIFY_API_VERSION`, or `api_version` in the shop credentials). Orders are created with
`orderCreate`, which Shopify documents for "importing orders from an external system" (Admin GraphQL
2024-10+, shopify.dev/docs/api/admin-graphql/2026-01/mutations/orderCreate).

Stock, so that Shopify moves each unit exactly once:
- an order whose lines the ledger already TOOK is created with `inventoryBehaviour:
  DECREMENT_IGNORING_POLICY` (Shopify takes the stock atomically with the order);
- an order created before its stock was taken is created with `BYPASS` and tagged `allegro-stock-pending`;
  when its lines are TAKEN later, `inventoryAdjustQuantities` takes them at the first counted location
  with an `@idempotent` key per order (2026-01+), and the tag is removed;
- CANCELLED, or MERGED (a combined payment replaced it, allegro-api #1111): `orderCancel` with
  `restock` only if the stock was taken; a MERGED order is cancelled only once the combined order
  exists in Shopify (as the WooCommerce adapter does: stock errs low, never high).

Exactly once under retries: the order carries the tag `allegro-<checkout form id without dashes>` and
the custom attribute `allegro_checkout_form_id`; before creating, the order index (the `orders` table,
claimed before the create) and then a search by that tag find an order a timed-out attempt created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from allegro_sync.adapters.shop.platforms import SHOPIFY_API_VERSION
from allegro_sync.adapters.shop.platforms import SHOPIFY_FORM_ATTRIBUTE as FORM_ATTRIBUTE
from allegro_sync.adapters.shop.woocommerce_rest import MERGED, OrderIndex, _address, claim_to_create
from allegro_sync.contracts.messages import OrderChanged, OutboxLine
from allegro_sync.contracts.shop import ShopAck, ShopDown, ShopRejected, ShopUnavailable

PENDING_TAG = "allegro-stock-pending"
ORDER_GID = "gid://shopify/Order/"

ORDER_FIELDS = "id name tags updatedAt cancelledAt displayFinancialStatus"
FIND_ORDER = f"query($q: String!) {{ orders(first: 5, query: $q) {{ nodes {{ {ORDER_FIELDS} "
FIND_ORDER += "customAttributes { key value } } } }"
GET_ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
FIND_VARIANT = "query($q: String!) { productVariants(first: 5, query: $q) { nodes { id sku } } }"
CREATE = (
    "mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) "
    f"{{ orderCreate(order: $order, options: $options) {{ order {{ {ORDER_FIELDS} }} "
    "userErrors { field message } } }"
)
CANCEL = (
    "mutation($id: ID!, $restock: Boolean!, $note: String) { orderCancel(orderId: $id, reason: OTHER, "
    "refund: false, restock: $restock, notifyCustomer: false, staffNote: $note) "
    "{ job { id } orderCancelUserErrors { field message } } }"
)
MARK_PAID = (
    "mutation($input: OrderMarkAsPaidInput!) { orderMarkAsPaid(input: $input) "
    f"{{ order {{ {ORDER_FIELDS} }} userErrors {{ field message }} }} }}"
)
ADJUST = (
    "mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) "
    "{ inventoryAdjustQuantities(input: $input) @idempotent(key: $key) "
    "{ inventoryAdjustmentGroup { id } userErrors { field message } } }"
)
UNTAG = (
    "mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { message } } }"
)
FIND_ITEM = (
    "query($q: String!) { productVariants(first: 5, query: $q) { nodes { sku inventoryItem { id } } } }"
)


def form_tag(form_id: str) -> str:
    """The order's search tag: Shopify tags are at most 40 characters, a UUID without dashes fits."""
    return "allegro-" + form_id.replace("-", "")[:32]


def _search_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _numeric(gid: str) -> int:
    return int(gid.rsplit("/", 1)[-1])


def _when(order: dict[str, Any] | None, fallback: datetime) -> datetime:
    raw = (order or {}).get("updatedAt")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else fallback
    except ValueError:
        return fallback


def _mail_address(source: dict[str, Any] | None) -> dict[str, str]:
    """Allegro's address -> Shopify's MailingAddressInput (what is there)."""
    found = _address(source)
    names = {
        "first_name": "firstName",
        "last_name": "lastName",
        "company": "company",
        "address_1": "address1",
        "city": "city",
        "postcode": "zip",
        "country": "countryCode",
        "phone": "phone",
    }
    return {names[k]: v for k, v in found.items() if k in names}


class ShopifyAdmin:
    """The Admin GraphQL API at one explicit version, with the custom app's access token."""

    def __init__(self, url: str, token: str, http: httpx.Client, *, api_version: str) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the Shopify URL must start with https:// (http:// only for a local fake)")
        self._endpoint = f"{url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._token, self._http = token, http

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """`data`, or ShopUnavailable (down, 5xx, 429, THROTTLED: retry) / ShopRejected (anything else)."""
        headers = {"X-Shopify-Access-Token": self._token, "Content-Type": "application/json"}
        try:
            response = self._http.post(
                self._endpoint, json={"query": query, "variables": variables}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ShopDown(f"Shopify did not answer: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise ShopDown(f"Shopify answered {status}; will retry")
        if status != 200:
            raise ShopRejected(f"Shopify refused the Admin API call with {status} (token, scopes, version?)")
        try:
            body = response.json()
        except ValueError:
            raise ShopUnavailable("Shopify sent non-JSON to a GraphQL call") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            codes = {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                raise ShopDown("Shopify throttled the call (cost limit); will retry")
            first = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
            raise ShopRejected(f"Shopify refused the GraphQL call: {str(first)[:200]}")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ShopUnavailable("Shopify answered without data")
        return data


def _payload(data: dict[str, Any], name: str, errors: str = "userErrors") -> dict[str, Any]:
    result = data.get(name)
    if not isinstance(result, dict):
        raise ShopUnavailable(f"Shopify answered {name} without a result")
    problems = result.get(errors) or []
    if problems:
        said = "; ".join(str(p.get("message")) for p in problems if isinstance(p, dict))
        raise ShopRejected(f"Shopify refused {name}: {said[:300]}")
    return result


class ShopifyShop(ShopifyAdmin):
    """`ShopOrderSink` over the Admin GraphQL API."""

    def __init__(
        self,
        url: str,
        token: str,
        http: httpx.Client,
        index: OrderIndex | None,
        *,
        location: str,
        api_version: str = SHOPIFY_API_VERSION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(url, token, http, api_version=api_version)
        self._index, self._location, self._clock = index, location, clock

    def check(self) -> None:
        """One harmless read with the token (ShopRejected: wrong token or scopes; ShopUnavailable)."""
        self.graphql("query { shop { name } }", {})

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # --- delivery ---------------------------------------------------------------------------------------

    def deliver(self, message: OrderChanged) -> ShopAck:
        order = self._existing(message.checkout_form_id)
        if message.status in ("CANCELLED", MERGED):
            return self._close(message, order)
        order = self._create(message) if order is None else self._update(order, message)
        return ShopAck(applied_at=_when(order, self._now()), shop_order_id=str(_numeric(order["id"])))

    def _existing(self, form_id: str) -> dict[str, Any] | None:
        """The order we created for this form: by the index, else by its tag (a create that timed out)."""
        known = self._index.get(form_id) if self._index is not None else None
        if known is not None and known.shop_order_id is not None:
            data = self.graphql(GET_ORDER, {"id": f"{ORDER_GID}{known.shop_order_id}"})
            if isinstance(data.get("order"), dict):
                return dict(data["order"])
        data = self.graphql(FIND_ORDER, {"q": f"tag:'{_search_value(form_tag(form_id))}'"})
        for node in (data.get("orders") or {}).get("nodes") or []:
            attributes = {a.get("key"): a.get("value") for a in node.get("customAttributes") or []}
            if attributes.get(FORM_ATTRIBUTE) == form_id:
                if self._index is not None:
                    self._index.set(form_id, _numeric(node["id"]))
                return dict(node)
        return None

    def _create(self, message: OrderChanged) -> dict[str, Any]:
        form_id = message.checkout_form_id
        taken = any(line.stock_effect == "TAKEN" for line in message.lines)
        tags = [form_tag(form_id), "allegro"] + ([] if taken else [PENDING_TAG])
        order: dict[str, Any] = {
            "lineItems": [self._line(line) for line in message.lines],
            "tags": tags,
            "customAttributes": [
                {"key": FORM_ATTRIBUTE, "value": form_id},
                {"key": "allegro_account", "value": message.account},
            ],
            "note": f"Allegro: {form_id}",
            "financialStatus": "PAID" if message.status == "READY_FOR_PROCESSING" else "PENDING",
        }
        currency = next((line.currency for line in message.lines if line.currency), None)
        if currency:
            order["currency"] = currency
        if (message.buyer or {}).get("email"):
            order["email"] = str((message.buyer or {})["email"])
        billing = _mail_address(message.buyer)
        if billing:
            order["billingAddress"] = billing
        shipping = _mail_address((message.delivery or {}).get("address"))
        if shipping:
            order["shippingAddress"] = shipping
        options = {
            "inventoryBehaviour": "DECREMENT_IGNORING_POLICY" if taken else "BYPASS",
            "sendReceipt": False,
            "sendFulfillmentReceipt": False,
        }
        if self._index is not None:
            claim_to_create(self._index, form_id, self._now())
        data = self.graphql(CREATE, {"order": order, "options": options})
        created = _payload(data, "orderCreate").get("order")
        if not isinstance(created, dict):
            raise ShopUnavailable("Shopify created no order and said no reason")
        if self._index is not None:
            self._index.set(form_id, _numeric(created["id"]))
        return created

    def _line(self, line: OutboxLine) -> dict[str, Any]:
        item: dict[str, Any] = {"quantity": line.quantity}
        variant = self._variant(line.sku) if line.sku else None
        if variant is not None:
            item["variantId"] = variant
        else:
            item["title"] = f"Allegro offer {line.offer_id}" + (f" ({line.sku})" if line.sku else "")
        if line.sku:
            item["sku"] = line.sku
        try:
            price = Decimal(line.unit_price) if line.unit_price is not None else None
        except InvalidOperation:
            price = None
        if price is not None:
            money = {"amount": str(price), "currencyCode": line.currency or "PLN"}
            item["priceSet"] = {"shopMoney": money}
        return item

    def _variant(self, sku: str) -> str | None:
        """The variant with exactly this SKU (Shopify's `sku:` search is a prefix-insensitive match)."""
        data = self.graphql(FIND_VARIANT, {"q": f"sku:'{_search_value(sku)}'"})
        for node in (data.get("productVariants") or {}).get("nodes") or []:
            if node.get("sku") == sku:
                return str(node["id"])
        return None

    def _update(self, order: dict[str, Any], message: OrderChanged) -> dict[str, Any]:
        taken = [line for line in message.lines if line.stock_effect == "TAKEN" and line.sku]
        if PENDING_TAG in (order.get("tags") or []) and taken:
            self._take(message.checkout_form_id, taken)
            self.graphql(UNTAG, {"id": order["id"], "tags": [PENDING_TAG]})
        paid = message.status == "READY_FOR_PROCESSING"
        if paid and order.get("displayFinancialStatus") not in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED"):
            data = self.graphql(MARK_PAID, {"input": {"id": order["id"]}})
            marked = _payload(data, "orderMarkAsPaid").get("order")
            return dict(marked) if isinstance(marked, dict) else order
        return order

    def _take(self, form_id: str, lines: list[OutboxLine]) -> None:
        """Take the stock of an order created before it was taken, once (the key is the order's)."""
        changes = []
        for line in lines:
            data = self.graphql(FIND_ITEM, {"q": f"sku:'{_search_value(line.sku or '')}'"})
            for node in (data.get("productVariants") or {}).get("nodes") or []:
                if node.get("sku") == line.sku and isinstance(node.get("inventoryItem"), dict):
                    changes.append(
                        {
                            "inventoryItemId": node["inventoryItem"]["id"],
                            "locationId": f"gid://shopify/Location/{self._location}",
                            "delta": -line.quantity,
                        }
                    )
                    break
        if not changes:
            return
        adjust = {
            "reason": "correction",
            "name": "available",
            "referenceDocumentUri": f"allegro-sync://checkout-form/{form_id}",
            "changes": changes,
        }
        data = self.graphql(ADJUST, {"input": adjust, "key": f"allegro-take-{form_id}"})
        _payload(data, "inventoryAdjustQuantities")

    def _close(self, message: OrderChanged, order: dict[str, Any] | None) -> ShopAck:
        """Cancel the order (CANCELLED), or the replaced purchase's order once the combined one exists."""
        if order is None:
            return ShopAck(applied_at=self._now())  # Shopify never had this purchase
        if message.status == MERGED and (
            message.merged_into is None or self._existing(message.merged_into) is None
        ):
            raise ShopUnavailable(f"order {message.merged_into} is not in Shopify yet; will retry")
        if order.get("cancelledAt") is None:
            note = (
                f"Allegro: paid together in {message.merged_into}"
                if message.status == MERGED
                else "Allegro: cancelled"
            )
            restock = PENDING_TAG not in (order.get("tags") or [])
            data = self.graphql(CANCEL, {"id": order["id"], "restock": restock, "note": note})
            _payload(data, "orderCancel", "orderCancelUserErrors")
        return ShopAck(applied_at=self._now(), shop_order_id=str(_numeric(order["id"])))
