"""What changed in a WooCommerce shop since a cursor, through its REST API (the shop reconciliation's feed).

`GET /wp-json/wc/v3/products?modified_after=<ISO 8601>&dates_are_gmt=true&per_page=100&page=N`: WooCommerce
turns `modified_after` into a WP_Query `date_query` on `post_modified_gmt` when `dates_are_gmt` is true
(`WC_REST_CRUD_Controller::prepare_objects_query`, woocommerce/woocommerce
plugins/woocommerce/includes/rest-api/Controllers/Version3/class-wc-rest-crud-controller.php; added in 2021 by
woocommerce/woocommerce#30585, documented by woocommerce-rest-api-docs#209) and answers the totals in
`X-WP-Total` / `X-WP-TotalPages` (`get_items`, same file). An older shop ignores the parameter and lists
everything: correct, only slower. Where `dates_are_gmt` is reported ignored (woocommerce#37809) the
comparison falls back to local time, which in Poland (UTC+1/+2) is later than GMT: more is read, not less.

Choices:
- Newest first (`orderby=modified&order=desc`): a product saved while we page moves to page 1, which we
  already read, so later pages shift back and repeat an item (a duplicate the intake drops) instead of
  shifting forward and skipping one. The change itself is newer than the cursor we store, so the next
  run reads it.
- The cursor is the newest `date_modified_gmt` seen (the SHOP's clock: our clock's skew cannot lose a
  change), and each run reads from `OVERLAP` before it, for saves committed out of order.
- `status=any` (the default) leaves out the trash, so a second listing with `status=trash` turns trashed
  products into deletes (a product deleted permanently is gone from the API: only its webhook says so).
- A variable product lists only its variations' ids; its changed variations come from
  `/products/<id>/variations?modified_after=...`. Saving a variation re-saves its parent
  (`WC_Product_Variable::sync`), which stamps the parent's `post_modified`, so the parent is listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.adapters.shop.errors import WebhookRejected
from allegro_sync.contracts.shop_changes import ShopChanges, ShopFeedFailed, changed_delivery
from allegro_sync.contracts.webhooks import Delivery

API = "/wp-json/wc/v3"
PER_PAGE = 100  # WooCommerce's maximum
OVERLAP = timedelta(minutes=5)
MAX_PAGES = 1_000  # 100,000 products: a safety stop for a shop that never ends its listing
_WC_TIME = "%Y-%m-%dT%H:%M:%S"


def _gmt(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        return None


class WooCommerceChanges:
    """`ShopChangeFeed` over WooCommerce's REST API (the consumer key the orders already use)."""

    kind = "woocommerce"

    def __init__(
        self,
        url: str,
        key: tuple[str, str],
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
        overlap: timedelta = OVERLAP,
    ) -> None:
        """`key`: the REST API's (consumer key, consumer secret), sent as HTTP Basic over HTTPS."""
        self._base, self._auth, self._http = url.rstrip("/") + API, httpx.BasicAuth(*key), http
        self._clock, self._overlap, self._calls = clock, overlap, 0

    def read(self, since: str | None) -> ShopChanges:
        self._calls = 0
        start = _gmt(since)
        after = (start - self._overlap).strftime(_WC_TIME) if start is not None else None
        items = self._list("/products", after) + self._list("/products", after, status="trash")
        for item in [i for i in items if i.get("type") == "variable" and isinstance(i.get("id"), int)]:
            parent = {"type": "variation", "parent_id": item["id"]}
            items += [v | parent for v in self._list(f"/products/{item['id']}/variations", after)]
        received_at = datetime.fromtimestamp(self._clock(), UTC)
        deliveries: list[Delivery] = []
        notes: list[str] = []
        newest = start
        for item in items:
            modified = _gmt(item.get("date_modified_gmt"))
            if modified is not None and (newest is None or modified > newest):
                newest = modified
            delivery_id = f"woocommerce-{item.get('id')}-{item.get('date_modified_gmt') or 'undated'}"
            try:
                events, ignored, found = wc.rest_product(
                    item, delivery_id=delivery_id, received_at=received_at
                )
            except WebhookRejected as exc:
                notes.append(f"product {item.get('id')}: {exc.message}")
                continue
            notes += found
            deliveries.append(changed_delivery("woocommerce", events, ignored=ignored, notes=found))
        cursor = newest.strftime(_WC_TIME) if newest is not None else None
        return ShopChanges(deliveries, cursor if cursor != since else None, self._calls, notes)

    def _list(self, path: str, after: str | None, **extra: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": PER_PAGE, "orderby": "modified", "order": "desc", **extra}
        if after is not None:
            params |= {"modified_after": after, "dates_are_gmt": "true"}
        found: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            response = self._get(path, params | {"page": page})
            batch = response.json()
            if not isinstance(batch, list):
                raise ShopFeedFailed(f"WooCommerce answered GET {path} with something other than a list")
            found += [item for item in batch if isinstance(item, dict)]
            try:
                pages = int(response.headers.get("X-WP-TotalPages", "1"))
            except ValueError:
                pages = page + 1 if len(batch) == PER_PAGE else page
            if not batch:
                break
            page += 1
        return found

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        self._calls += 1
        try:
            response = self._http.get(self._base + path, params=params, auth=self._auth)
        except httpx.HTTPError as exc:
            raise ShopFeedFailed(f"WooCommerce did not answer GET {path}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ShopFeedFailed(f"WooCommerce answered GET {path} with {response.status_code}")
        try:
            response.json()
        except ValueError:
            raise ShopFeedFailed(f"WooCommerce sent non-JSON to GET {path}") from None
        return response
