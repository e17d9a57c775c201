"""`LedgerRepository` on the `ledger` table: conditional writes and transactions, nothing else.

Layout (string keys `pk`/`sk`, per CONTRIBUTING):
- SKU state:  pk="sku#<sku>", sk="state"          — level, buffer, category, open sales, offers, revision.
  Open (not yet reflected) sales live on this item so one strongly consistent GetItem decides availability;
  they leave it as soon as the shop's level reflects them, so it stays small.
- sale:       pk="sku#<sku>", sk="sale#<sale id>" — the exactly-once guard and history; `rev` counts writes;
  `expires_at` (TTL) once cancelled or acknowledged by the shop, after the retention period.
- pushed:     pk="sku#<sku>", sk="pushed"         — the newest revision handed to propagation (coalescing).
- category:   pk="category#<category>", sk="buffer" — a category's default safety buffer.
A sale and the SKU state change in one TransactWriteItems, each conditioned on what the use case read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

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
_deserializer = TypeDeserializer()


def sku_pk(sku: str) -> str:
    return f"sku#{sku}"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def ledger_item(ledger: SkuLedger) -> dict[str, Any]:
    level = ledger.level
    return {
        "pk": sku_pk(ledger.sku),
        "sk": STATE,
        "sku": ledger.sku,
        "revision": ledger.revision,
        "level": None
        if level is None
        else {"quantity": level.quantity, "at": _time(level.at), "version": level.version},
        "buffer": ledger.buffer,
        "category": ledger.category,
        "open_sales": {
            sid: {
                "quantity": s.quantity,
                "sold_at": _time(s.sold_at),
                "account": s.account,
                "ack_at": _time(s.ack_at),
                "ack_version": s.ack_version,
            }
            for sid, s in ledger.open_sales.items()
        },
        "offers": {oid: {"account": link.account, "cap": link.cap} for oid, link in ledger.offers.items()},
    }


def ledger_from_item(item: dict[str, Any]) -> SkuLedger:
    raw_level = item.get("level")
    level = None
    if raw_level is not None:
        at = datetime.fromisoformat(str(raw_level["at"]))
        level = ShopLevel(_int(raw_level.get("quantity")), at, _int(raw_level.get("version")))
    open_sales = {}
    for sid, s in item.get("open_sales", {}).items():
        open_sales[sid] = OpenSale(
            int(s["quantity"]),
            datetime.fromisoformat(str(s["sold_at"])),
            str(s["account"]),
            _parse_time(s.get("ack_at")),
            _int(s.get("ack_version")),
        )
    offers = {
        oid: OfferLink(oid, str(o["account"]), _int(o.get("cap")))
        for oid, o in item.get("offers", {}).items()
    }
    return SkuLedger(
        str(item["sku"]),
        int(item["revision"]),
        level,
        _int(item.get("buffer")),
        item.get("category"),
        open_sales,
        offers,
    )


def sale_item(record: SaleRecord) -> dict[str, Any]:
    return {
        "pk": sku_pk(record.sku),
        "sk": SALE + record.sale_id,
        "sale_id": record.sale_id,
        "sku": record.sku,
        "status": record.status.value,
        "rev": record.rev,
        "quantity": record.quantity,
        "sold_at": _time(record.sold_at),
        "account": record.account,
        "offer_id": record.offer_id,
        "shop_ack_at": _time(record.shop_ack_at),
        "shop_ack_version": record.shop_ack_version,
        "cancelled_at": _time(record.cancelled_at),
        "expires_at": None if record.expires_at is None else int(record.expires_at.timestamp()),
    }


def sale_from_item(item: dict[str, Any]) -> SaleRecord:
    expires = item.get("expires_at")
    return SaleRecord(
        sale_id=str(item["sale_id"]),
        sku=str(item["sku"]),
        status=SaleStatus(item["status"]),
        rev=int(item["rev"]),
        quantity=_int(item.get("quantity")),
        sold_at=_parse_time(item.get("sold_at")),
        account=item.get("account"),
        offer_id=item.get("offer_id"),
        shop_ack_at=_parse_time(item.get("shop_ack_at")),
        shop_ack_version=_int(item.get("shop_ack_version")),
        cancelled_at=_parse_time(item.get("cancelled_at")),
        expires_at=None if expires is None else datetime.fromtimestamp(int(expires), tz=UTC),
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
            Key=_dump({"pk": sku_pk(sku), "sk": STATE}),
            ConsistentRead=True,
        ).get("Item")
        return ledger_from_item(_load(raw)) if raw else empty

    def get_sale(self, sku: str, sale_id: str) -> SaleRecord | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key=_dump({"pk": sku_pk(sku), "sk": SALE + sale_id}),
            ConsistentRead=True,
        ).get("Item")
        return sale_from_item(_load(raw)) if raw else None

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
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or [{}]
            if all(r.get("Code") in _CONFLICT_CODES for r in reasons):
                raise LedgerConflict(str(exc)) from exc
            raise

    def _guarded_put(self, item: dict[str, Any], counter: str, expected: int | None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": _dump(item)}
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
            Key=_dump({"pk": f"category#{category}", "sk": "buffer"}),
            ConsistentRead=True,
        ).get("Item")
        return None if raw is None else _int(_load(raw).get("buffer"))

    def set_category_buffer(self, category: str, buffer: int | None) -> None:
        key = {"pk": f"category#{category}", "sk": "buffer"}
        if buffer is None:
            self._client.delete_item(TableName=self._table, Key=_dump(key))
        else:
            self._client.put_item(TableName=self._table, Item=_dump({**key, "buffer": buffer}))

    def claim_push(self, sku: str, revision: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_dump({"pk": sku_pk(sku), "sk": PUSHED}),
                UpdateExpression="SET revision = :r",
                ConditionExpression="attribute_not_exists(revision) OR revision < :r",
                ExpressionAttributeValues={":r": _serializer.serialize(Decimal(revision))},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
