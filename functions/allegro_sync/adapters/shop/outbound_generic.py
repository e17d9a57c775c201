"""The generic outbound contract: each order change POSTed to the shop as signed JSON (docs/shop-adapters.md).

Signed exactly like the inbound webhooks (`signing.py`: HMAC-SHA256 over "<timestamp>.<delivery id>.<body>"),
so a shop that already verifies our scheme reuses its code. The delivery id and the `Idempotency-Key`
header are the outbox `message_id`: the same order state always carries the same key, so the shop can
drop a redelivery. Every failure raises (`ShopUnavailable` / `ShopRejected`) and SQS retries.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.errors import refusal_code
from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned
from allegro_sync.contracts.shop import LabelLink, ShopAck, ShopDown, ShopRejected

IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "allegro-sync/shop-notifier"
_UNSAFE = re.compile(r"[^A-Za-z0-9._:\-]")
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


class GenericAckIn(BaseModel):
    """The optional JSON a shop may answer with; every field helps, none is required."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    order_id: Annotated[str, Field(max_length=200)] | None = None
    applied_at: AwareDatetime | None = None
    stock_versions: dict[str, Annotated[int, Field(ge=0)]] = {}


def delivery_id(message_id: str) -> str:
    """The outbox id as a delivery id our signature scheme accepts (1-200 of A-Z a-z 0-9 . _ : -)."""
    return _UNSAFE.sub("_", message_id)[:200]


def order_payload(message: OrderChanged) -> dict[str, Any]:
    """The documented body: the outbox message itself (kind `order.changed`), JSON-ready, with the buyer's
    data filled in (`services.shop_delivery`); where that data was kept is no business of the shop's."""
    return message.model_dump(mode="json", exclude={"buyer_data_stored"})


class GenericShop:
    """`ShopOrderSink` for any shop that implements the documented endpoint."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the shop URL must start with https:// (http:// only for a local shop)")
        self._url = url
        self._secret = signing_secret
        self._http = http
        self._clock = clock

    def _signed(self, message_id: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(self._clock())
        delivery = delivery_id(message_id)
        return body, {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: message_id,
            signing.DELIVERY_HEADER: delivery,
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.sign(self._secret, timestamp, delivery, body),
        }

    def check(self) -> None:
        """A signed `{"kind": "ping"}` the shop answers 2xx (docs/shop-adapters.md): the URL and the secret
        work. Raises ShopRejected (wrong secret, no such endpoint) or ShopUnavailable (not reachable)."""
        body, headers = self._signed(f"ping-{int(self._clock())}", {"kind": "ping"})
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ShopDown(f"the shop at {self._url} did not answer ({type(exc).__name__})") from None
        status = response.status_code
        if status in (401, 403):
            raise ShopRejected(
                f"the shop refused our signature ({status}): it verifies with another signing secret"
            )
        if not 200 <= status < 300:
            raise ShopRejected(
                f"the shop at {self._url} answered {status} to a signed ping; it must answer 2xx to "
                '{"kind": "ping"} (docs/shop-adapters.md)'
            )

    def deliver(self, message: OrderChanged) -> ShopAck:
        return self._post(message.message_id, order_payload(message), "the order change")

    def _post(self, message_id: str, payload: dict[str, Any], what: str) -> ShopAck:
        body, headers = self._signed(message_id, payload)
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ShopDown(f"the shop did not answer: {type(exc).__name__}") from None
        received_at = datetime.fromtimestamp(self._clock(), UTC)
        status = response.status_code
        if status >= 500 or status in RETRYABLE_STATUS:
            raise ShopDown(f"the shop answered {status}; will retry")
        if not 200 <= status < 300:
            raise ShopRejected(f"the shop refused {what} with {status}: {refusal_code(response)}")
        return _ack(response, received_at)

    # --- issue 15, item 3: the generic contract's `order.returned` -----------------------------------------

    def deliver_return(self, message: OrderReturned) -> ShopAck:
        """`order.returned`: put these items back into stock, once per `message_id` (Idempotency-Key)."""
        return self._post(message.message_id, message.model_dump(mode="json"), "the return")

    # --- issue 15, item 1: the generic contract's `order.label` -----------------------------------------

    def deliver_label(self, message: OrderLabel, link: LabelLink) -> ShopAck:
        """`order.label`: the order's label PDF at `label_url` until `label_expires_at`, once per
        `message_id`; where we keep the file (`label_key`) is no business of the shop's."""
        payload = message.model_dump(mode="json", exclude={"label_key"})
        payload |= {"label_url": link.url, "label_expires_at": link.expires_at.isoformat()}
        return self._post(message.message_id, payload, "the label link")

    # --- issue 15, item 4: the generic contract's `buyer.message` ------------------------------------------

    def deliver_buyer_message(self, message: BuyerMessage) -> ShopAck:
        """`buyer.message`: a buyer wrote; once per `message_id` (Idempotency-Key)."""
        return self._post(message.message_id, message.model_dump(mode="json"), "the buyer message")


def _ack(response: httpx.Response, received_at: datetime) -> ShopAck:
    """The shop's own time if it said one; else when we got the answer (later than the truth: safe)."""
    parsed = GenericAckIn()
    if response.content.strip():
        try:
            parsed = GenericAckIn.model_validate_json(response.content)
        except ValidationError:
            parsed = GenericAckIn()  # a 2xx with an odd body still means "applied"
    return ShopAck(
        applied_at=parsed.applied_at or received_at,
        shop_order_id=parsed.order_id,
        stock_versions=dict(parsed.stock_versions),
    )
