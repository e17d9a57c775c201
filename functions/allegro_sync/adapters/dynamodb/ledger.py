"""`LedgerRepository` on the `ledger` table: conditional writes and transactions, nothing else.

Layout (string keys `pk`/`sk`, per CONTRIBUTING):
- SKU state:  pk="sku#<sku>", sk="state"          — level, buffer, category, open sales, offers, revision.
  Open (not yet reflected) sales live on this item so one strongly consistent GetItem decides availability;
  they leave it as soon as the shop's level reflects them, so it stays small.
- sale:       pk="sku#<sku>", sk="sale#<sale id>" — the exactly-once guard and history; `rev` counts writes;
  `expires_at` (TTL) once cancelled or acknowledged by the shop, after the retention period.
- pushed:     pk="sku#<sku>", sk="pushed"         — the newest revision handed to propagation (coalescing).
- category:   pk="category#<category>", sk="buffer" — a category's default safety buffer.
A sale and the SKU state change in one TransactWriteItems, each conditioned on what the use case read; a
change of one item alone (a shop level, a link, a buffer) is a single conditional PutItem (half the write
units of a transaction, the same all-or-nothing guarantee for one item).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.ledger import (
    CategoryBufferItem,
    LedgerStateItem,
    LevelPart,
    OfferPart,
    OpenSalePart,
    SaleItem,
)
from allegro_sync.contracts.stock import LedgerConflict
from allegro_sync.domain.ledger import (
    OfferLink,
    OpenSale,
    SaleRecord,
    SaleStatus,
    ShopLevel,
    SkuLedger,
)

STATE = "state"
PUSHED = "pushed"
SALE = "sale#"
_CONFLICT_CODES = {"ConditionalCheckFailed", "TransactionConflict", "None", None}

_serializer = TypeSerializer()


def sku_pk(sku: str) -> str:
    return f"sku#{sku}"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def ledger_item(ledger: SkuLedger) -> dict[str, Any]:
    level = ledger.level
    return LedgerStateItem(
        pk=sku_pk(ledger.sku),
        sk=STATE,
        sku=ledger.sku,
        revision=ledger.revision,
        level=None
        if level is None
        else LevelPart(quantity=level.quantity, at=level.at.isoformat(), version=level.version),
        buffer=ledger.buffer,
        category=ledger.category,
        open_sales={
            sid: OpenSalePart(
                quantity=s.quantity,
                sold_at=s.sold_at.isoformat(),
                account=s.account,
                ack_at=_time(s.ack_at),
                ack_version=s.ack_version,
            )
            for sid, s in ledger.open_sales.items()
        },
        offers={oid: OfferPart(account=link.account, cap=link.cap) for oid, link in ledger.offers.items()},
    ).item()


def ledger_from_item(raw: dict[str, Any]) -> SkuLedger:
    item = LedgerStateItem.from_item(raw)
    level = None
    if item.level is not None:
        level = ShopLevel(item.level.quantity, datetime.fromisoformat(item.level.at), item.level.version)
    open_sales = {
        sid: OpenSale(
            s.quantity, datetime.fromisoformat(s.sold_at), s.account, _parse_time(s.ack_at), s.ack_version
        )
        for sid, s in item.open_sales.items()
    }
    offers = {oid: OfferLink(oid, o.account, o.cap) for oid, o in item.offers.items()}
    return SkuLedger(item.sku, item.revision, level, item.buffer, item.category, open_sales, offers)


def sale_item(record: SaleRecord) -> dict[str, Any]:
    return items.to_stored(
        SaleItem,
        record,
        pk=sku_pk(record.sku),
        sk=SALE + record.sale_id,
        status=record.status.value,
        sold_at=_time(record.sold_at),
        shop_ack_at=_time(record.shop_ack_at),
        cancelled_at=_time(record.cancelled_at),
        expires_at=None if record.expires_at is None else int(record.expires_at.timestamp()),
    ).item()


def sale_from_item(raw: dict[str, Any]) -> SaleRecord:
    item = SaleItem.from_item(raw)
    return items.from_stored(
        SaleRecord,
        item,
        status=SaleStatus(item.status),
        sold_at=_parse_time(item.sold_at),
        shop_ack_at=_parse_time(item.shop_ack_at),
        cancelled_at=_parse_time(item.cancelled_at),
        expires_at=None if item.expires_at is None else datetime.fromtimestamp(item.expires_at, tz=UTC),
    )


class DynamoLedgerRepository:
    """The ledger on DynamoDB through the low-level client (transactions need typed attribute values)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def load(self, sku: str) -> SkuLedger:
        empty = SkuLedger(sku)  # validates the SKU before it becomes a key
        raw = self._client.get_item(
            TableName=self._table,
            Key=items.dump({"pk": sku_pk(sku), "sk": STATE}),
            ConsistentRead=True,
        ).get("Item")
        return ledger_from_item(items.load(raw)) if raw else empty

    def load_many(self, skus: Sequence[str]) -> dict[str, SkuLedger]:
        keys = [items.dump({"pk": sku_pk(SkuLedger(sku).sku), "sk": STATE}) for sku in dict.fromkeys(skus)]
        found = items.batch_get(self._client.batch_get_item, self._table, keys)
        return {x.sku: x for x in (ledger_from_item(items.load(raw)) for raw in found)}

    def get_sale(self, sku: str, sale_id: str) -> SaleRecord | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key=items.dump({"pk": sku_pk(sku), "sk": SALE + sale_id}),
            ConsistentRead=True,
        ).get("Item")
        return sale_from_item(items.load(raw)) if raw else None

    def commit(
        self,
        *,
        ledger: SkuLedger | None,
        expected_revision: int,
        sale: SaleRecord | None,
        expected_sale_rev: int | None,
    ) -> None:
        writes: list[dict[str, Any]] = []
        if ledger is not None:
            writes.append(self._guarded_put(ledger_item(ledger), "revision", expected_revision or None))
        if sale is not None:
            writes.append(self._guarded_put(sale_item(sale), "rev", expected_sale_rev))
        if not writes:
            return
        if len(writes) == 1:
            self._put_alone(writes[0]["Put"])
            return
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or [{}]
            if all(r.get("Code") in _CONFLICT_CODES for r in reasons):
                raise LedgerConflict(str(exc)) from exc
            raise

    def _put_alone(self, put: dict[str, Any]) -> None:
        """One item, one conditional PutItem: the same guarantee as a one-item transaction at half the
        write units (a transaction bills every item twice)."""
        try:
            self._client.put_item(**put)
        except ClientError as exc:
            if items.condition_failed(exc):
                raise LedgerConflict(str(exc)) from exc
            raise

    def _guarded_put(self, item: dict[str, Any], counter: str, expected: int | None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": items.dump(item)}
        if expected is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#c = :c"
            put["ExpressionAttributeNames"] = {"#c": counter}
            put["ExpressionAttributeValues"] = {":c": _serializer.serialize(expected)}
        return {"Put": put}

    def category_buffer(self, category: str) -> int | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key=items.dump({"pk": f"category#{category}", "sk": "buffer"}),
            ConsistentRead=True,
        ).get("Item")
        return None if raw is None else CategoryBufferItem.from_item(items.load(raw)).buffer

    def category_buffers(self, categories: Sequence[str]) -> dict[str, int]:
        keys = [items.dump({"pk": f"category#{c}", "sk": "buffer"}) for c in dict.fromkeys(categories)]
        found = (items.load(raw) for raw in items.batch_get(self._client.batch_get_item, self._table, keys))
        buffers = {
            str(x["pk"]).removeprefix("category#"): CategoryBufferItem.from_item(x).buffer for x in found
        }
        return {category: buffer for category, buffer in buffers.items() if buffer is not None}

    def set_category_buffer(self, category: str, buffer: int | None) -> None:
        key = {"pk": f"category#{category}", "sk": "buffer"}
        if buffer is None:
            self._client.delete_item(TableName=self._table, Key=items.dump(key))
        else:
            item = CategoryBufferItem(pk=key["pk"], sk=key["sk"], buffer=buffer)
            self._client.put_item(TableName=self._table, Item=items.dump(item.item()))

    def claim_push(self, sku: str, revision: int) -> bool:
        return items.conditional_write(
            self._client.update_item,
            TableName=self._table,
            Key=items.dump({"pk": sku_pk(sku), "sk": PUSHED}),
            UpdateExpression="SET revision = :r",
            ConditionExpression="attribute_not_exists(revision) OR revision < :r",
            ExpressionAttributeValues={":r": _serializer.serialize(Decimal(revision))},
        )
