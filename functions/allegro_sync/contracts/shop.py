"""Delivering to the shop: what a shop adapter answers, the errors it raises, and the port it implements.

The shop delivery use case (`services.shop_delivery`) calls a `ShopOrderSink` (the generic signed adapter or
WooCommerce); the `orders` table remembers each `ShopAck`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned


class ShopDeliveryError(Exception):
    """The shop did not take the message; SQS will try again (a DLQ catches what never succeeds)."""


class ShopUnavailable(ShopDeliveryError):
    """Down, timing out, 5xx or 429: worth retrying later."""


class ShopDown(ShopUnavailable):
    """The shop itself did not answer, or answered 5xx/429: any other message would fail now too (one
    probe per batch, services/shop_probe.py). A reason of one message (its merged order not there yet)
    stays a plain ShopUnavailable."""


class ShopRejected(ShopDeliveryError):
    """The shop refused the message (4xx): retried too, but a human will likely have to look (DLQ)."""


@dataclass(frozen=True)
class ShopAck:
    """What the shop says it did. `applied_at` is the SHOP's clock when it applied the order's stock."""

    applied_at: datetime
    shop_order_id: str | None = None
    stock_versions: Mapping[str, int] = field(default_factory=dict)


class ShopOrderSink(Protocol):
    """A shop adapter: create or update the order in the shop (idempotent per message and per order)."""

    def deliver(self, message: OrderChanged) -> ShopAck: ...


@runtime_checkable
class ShopReturnSink(Protocol):
    """A shop adapter that takes customer returns back into its stock (issue 15; the generic contract's
    `order.returned`), idempotent per `message_id`."""

    def deliver_return(self, message: OrderReturned) -> ShopAck: ...


@dataclass(frozen=True)
class LabelLink:
    """Issue 15: a presigned GET link to the order's label PDF and when it stops working."""

    url: str
    expires_at: datetime


@runtime_checkable
class ShopLabelSink(Protocol):
    """A shop adapter that can be handed the order's label link (the generic contract's `order.label`, a
    WooCommerce private order note), idempotent per `message_id`."""

    def deliver_label(self, message: OrderLabel, link: LabelLink) -> ShopAck: ...


@runtime_checkable
class ShopMessageSink(Protocol):
    """A shop adapter that takes buyers' messages (issue 15, item 4: the generic contract's `buyer.message`,
    a WooCommerce order note), idempotent per `message_id`. None: it has nowhere to put this one (a
    WooCommerce shop and a message about no order it has): skipped, not retried."""

    def deliver_buyer_message(self, message: BuyerMessage) -> ShopAck | None: ...


_VERSION = re.compile(r":v(\d+)$")


# Whether a state of an order may go to the shop now (`DeliveryLog.take_turn`): "go"; "superseded" (the shop
# has a newer state); "busy" (another state of the order is on its way to the shop: retry).
DeliveryTurn = Literal["go", "superseded", "busy"]


def state_version(message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage) -> int | None:
    """The order-state version in the message id (`order:<form>:v<n>`, domain.orders.order_message_id)."""
    match = _VERSION.search(message.message_id)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ShopStockLevel:
    """A SKU's stock as the shop read it at shop time `read_at` (never later than the read itself)."""

    quantity: int | None  # None: the shop does not count this product's stock
    read_at: datetime
    version: int | None = None
