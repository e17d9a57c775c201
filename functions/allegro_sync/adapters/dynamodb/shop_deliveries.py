"""What the shop already has, on the `orders` table next to each order record (same `pk`, own `sk`).

- `shop-delivery#<message_id>`: the shop took this outbox message (DeliveryLog); expires with the sale
  records' retention, since the order worker may resend a message for as long as it can re-import;
- `shop-failure#<message_id>`: why the shop did not take the message the last time (`dlq show`);
- `shop-newest`: the highest order-state version delivered, so a late older state is not sent, and the
  order's delivery turn (one state of an order on its way to the shop at a time);
- `shop-order`: the WooCommerce order created for the checkout form (OrderIndex), claimed before the
  create so a crash in between is recoverable; the claim is exclusive (one delivery creates the order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.shop.woocommerce_rest import CLAIM_LEASE, IndexedOrder
from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned
from allegro_sync.contracts.records.item import Item
from allegro_sync.contracts.records.orders import (
    NewestStateItem,
    ShopDeliveryItem,
    ShopFailureItem,
    ShopOrderItem,
)
from allegro_sync.contracts.shop import DeliveryTurn, ShopAck, state_version
from allegro_sync.domain.ledger import DEFAULT_SALE_RETENTION

ORDER_PK = "order#"
DELIVERY_SK = "shop-delivery#"
FAILURE_SK = "shop-failure#"
REASON_LIMIT = 500
SHOP_ORDER_SK = "shop-order"
NEWEST_SK = "shop-newest"
TURN_SECONDS = 120  # an order's delivery turn lapses after this (the shop notifier lives 60 s)

_serializer = TypeSerializer()


def _key(form_id: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": ORDER_PK + form_id}, "sk": {"S": sk}}


def _typed(item: Item) -> dict[str, Any]:
    """A record as the low-level client's typed attribute values."""
    return items.dump(item.item())


def _form_of(message_id: str) -> str:
    """`order:<form id>:v<n>` -> form id (the outbox id format); anything else keys by itself."""
    parts = message_id.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "order" else message_id


class DynamoShopDeliveries:
    """`DeliveryLog` and the WooCommerce `OrderIndex` on the `orders` table."""

    def __init__(self, table_name: str, client: Any = None, *, clock: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock or (lambda: datetime.now(UTC))

    # DeliveryLog
    def delivered(self, message_id: str) -> bool:
        item = self._client.get_item(
            TableName=self._table,
            Key=_key(_form_of(message_id), DELIVERY_SK + message_id),
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def record(self, message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage, ack: ShopAck) -> None:
        now: datetime = self._clock()
        delivery = ShopDeliveryItem(
            # keyed as `delivered` looks it up: the order's form for an order state, else the message id
            pk=ORDER_PK + _form_of(message.message_id),
            sk=DELIVERY_SK + message.message_id,
            delivered_at=now.isoformat(),
            shop_applied_at=ack.applied_at.isoformat(),
            expires_at=int((now + DEFAULT_SALE_RETENTION).timestamp()),
            shop_order_id=ack.shop_order_id or None,
        )
        self._client.put_item(TableName=self._table, Item=_typed(delivery))
        version = state_version(message)
        if version is None or message.checkout_form_id is None:
            return
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(message.checkout_form_id, NEWEST_SK),
                UpdateExpression="SET version = :v, expires_at = :e REMOVE turn_by, turn_until",
                ConditionExpression="attribute_not_exists(version) OR version <= :v",
                ExpressionAttributeValues={
                    ":v": _serializer.serialize(version),
                    ":e": _serializer.serialize(delivery.expires_at),
                },
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise

    def take_turn(self, checkout_form_id: str, version: int, holder: str) -> DeliveryTurn:
        """One conditional UpdateItem on the order's newest-state item (in place of a read of it)."""
        now: datetime = self._clock()
        key = _key(checkout_form_id, NEWEST_SK)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=(
                    "SET turn_by = :me, turn_until = :until, expires_at = if_not_exists(expires_at, :e)"
                ),
                ConditionExpression=(
                    "(attribute_not_exists(version) OR version <= :v) AND "
                    "(attribute_not_exists(turn_until) OR turn_until < :now OR turn_by = :me)"
                ),
                ExpressionAttributeValues=items.dump(
                    {
                        ":me": holder,
                        ":v": version,
                        ":now": items.number(now.timestamp()),
                        ":until": items.number(now.timestamp() + TURN_SECONDS),
                        ":e": int((now + DEFAULT_SALE_RETENTION).timestamp()),
                    }
                ),
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise
            raw = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            newest = NewestStateItem.from_item(items.load(raw)).version if raw else None
            return "superseded" if newest is not None and newest > version else "busy"
        return "go"

    def end_turn(self, checkout_form_id: str, holder: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(checkout_form_id, NEWEST_SK),
                UpdateExpression="REMOVE turn_by, turn_until",
                ConditionExpression="turn_by = :me",
                ExpressionAttributeValues=items.dump({":me": holder}),
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise

    def failed(self, message_id: str, reason: str) -> None:
        """Remember why the shop did not take `message_id` (the last failure wins)."""
        now: datetime = self._clock()
        failure = ShopFailureItem(
            pk=ORDER_PK + _form_of(message_id),
            sk=FAILURE_SK + message_id,
            failed_at=now.isoformat(),
            reason=reason[:REASON_LIMIT],
            expires_at=int((now + DEFAULT_SALE_RETENTION).timestamp()),
        )
        self._client.put_item(TableName=self._table, Item=_typed(failure))

    def failure(self, message_id: str) -> ShopFailureItem | None:
        item = self._client.get_item(
            TableName=self._table, Key=_key(_form_of(message_id), FAILURE_SK + message_id)
        ).get("Item")
        return ShopFailureItem.from_item(items.load(item)) if item else None

    # OrderIndex
    def get(self, checkout_form_id: str) -> IndexedOrder | None:
        item = self._client.get_item(
            TableName=self._table, Key=_key(checkout_form_id, SHOP_ORDER_SK), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        order = ShopOrderItem.from_item(items.load(item))
        return IndexedOrder(
            claimed_at=datetime.fromisoformat(order.claimed_at), shop_order_id=order.shop_order_id
        )

    def claim(self, checkout_form_id: str, at: datetime) -> bool:
        """Exclusive (`OrderIndex.claim`): a conditional put; a claim without an order older than
        `CLAIM_LEASE` is taken over by a compare-and-swap on the `claimed_at` read, so of two deliveries
        that find it stale one creates the order."""
        key = _key(checkout_form_id, SHOP_ORDER_SK)
        claim = ShopOrderItem(pk=ORDER_PK + checkout_form_id, sk=SHOP_ORDER_SK, claimed_at=at.isoformat())
        try:
            self._client.put_item(
                TableName=self._table, Item=_typed(claim), ConditionExpression="attribute_not_exists(pk)"
            )
            return True
        except ClientError as error:
            if not items.condition_failed(error):
                raise
        raw = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        held = ShopOrderItem.from_item(items.load(raw)) if raw else None
        if held is None or held.shop_order_id is not None:
            return False
        if at - datetime.fromisoformat(held.claimed_at) < CLAIM_LEASE:
            return False  # its holder may be creating the order right now
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET claimed_at = :at",
                ConditionExpression="claimed_at = :seen AND attribute_not_exists(shop_order_id)",
                ExpressionAttributeValues={":at": {"S": at.isoformat()}, ":seen": {"S": held.claimed_at}},
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise
            return False
        return True

    def set(self, checkout_form_id: str, shop_order_id: int) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_key(checkout_form_id, SHOP_ORDER_SK),
            UpdateExpression="SET shop_order_id = :id, claimed_at = if_not_exists(claimed_at, :now)",
            ExpressionAttributeValues={
                ":id": {"N": str(shop_order_id)},
                ":now": {"S": self._clock().isoformat()},
            },
        )
