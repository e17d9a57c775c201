"""The generic contract's optional "changes since" endpoint, read by the shop reconciliation.

A shop that exposes it (its URL in the `shop-credentials` secret as `changes_url`) answers
`GET <changes_url>?since=<cursor>&limit=100` (no `since` on the very first call), signed by us like the order
deliveries (`signing.py`, empty body), with
`{"events": [<event as POST /webhooks/shop takes it, occurred_at required>], "cursor": "<opaque>",
"has_more": bool}`. We ask again with `since=<cursor>` while `has_more`; the last cursor is stored once
every event is queued. docs/shop-adapters.md is the contract for shop authors.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from allegro_sync.adapters.shop import generic, signing
from allegro_sync.adapters.shop.errors import Problem, WebhookRejected
from allegro_sync.contracts.shop_changes import ShopChanges, ShopFeedFailed, changed_delivery
from allegro_sync.contracts.webhooks import Delivery

LIMIT = 100
MAX_PAGES = 1_000
USER_AGENT = "allegro-sync/shop-reconciler"


class ChangesPageIn(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    events: Annotated[list[dict[str, Any]], Field(max_length=LIMIT)]
    cursor: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    has_more: bool = False


class GenericChanges:
    """`ShopChangeFeed` over the generic contract's `changes` endpoint."""

    kind = "generic"

    def __init__(
        self, url: str, signing_secret: str, http: httpx.Client, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._url = url
        self._secret = signing_secret
        self._http = http
        self._clock = clock

    def read(self, since: str | None) -> ShopChanges:
        deliveries: list[Delivery] = []
        notes: list[str] = []
        cursor, calls, more = since, 0, True
        while more and calls < MAX_PAGES:
            page = self._page(cursor)
            calls += 1
            for index, raw in enumerate(page.events):
                try:
                    deliveries.append(self._delivery(raw))
                except WebhookRejected as exc:
                    where = ", ".join(f"{p.field} {p.problem}" for p in exc.details)[:300]
                    notes.append(f"change {index} after cursor {cursor!r} skipped: {exc.message} ({where})")
            more = page.has_more and page.cursor is not None and page.cursor != cursor
            cursor = page.cursor or cursor
        return ShopChanges(deliveries, cursor if cursor != since else None, calls, notes)

    def _delivery(self, raw: dict[str, Any]) -> Delivery:
        """Validated as a webhook event is; `occurred_at` is required here, so reading the same change
        again yields the same delivery (and the intake answers "duplicate")."""
        if not raw.get("occurred_at"):
            required = [Problem("occurred_at", "required in the changes listing")]
            raise WebhookRejected(422, "schema_violation", "a change must say when it happened", required)
        now = self._clock()
        event = generic.parse_events(raw)
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
        delivery_id = f"shop-changes-{digest}"  # the same change always carries the same id
        events = generic.to_domain(event, delivery_id, int(now), latest=now + 300, batch=False)
        return changed_delivery("generic", events)

    def _page(self, since: str | None) -> ChangesPageIn:
        timestamp = int(self._clock())
        delivery = f"changes-{timestamp}"
        headers = {"User-Agent": USER_AGENT, **signing.signed_headers(self._secret, delivery, b"", timestamp)}
        params: dict[str, Any] = {"limit": LIMIT} | ({"since": since} if since is not None else {})
        try:
            response = self._http.get(self._url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise ShopFeedFailed(
                f"the shop's changes endpoint did not answer: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise ShopFeedFailed(f"the shop's changes endpoint answered {response.status_code}")
        try:
            return ChangesPageIn.model_validate_json(response.content)
        except ValidationError as exc:
            raise ShopFeedFailed(
                f"the shop's changes page is not the documented shape: {exc.errors()[:2]}"
            ) from None
