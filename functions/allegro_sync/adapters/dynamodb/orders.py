"""Order records (`orders` table), order cursors (`control` table) and the catalogue's offer -> SKU lookup.

`orders` layout (string keys, per CONTRIBUTING):
- order:     pk="order#<checkout form id>", sk="order"      — account, status, revision, lines, taken/returned
  sale ids, attention reasons, `version` (every write is conditioned on it);
- attention: pk="attention", sk="order#<checkout form id>"  — present while the order needs the seller, so
  "which orders need me?" is one Query. Written in the same transaction as the order.
- line owner: pk="line#<line item id>", sk="owner" — the form carrying that purchase now (combined payments).
`control` layout:
- cursor:    pk="orders#<account>", sk="event-cursor" — event_id, started(_at), seq, owner, lease_until;
- gap scan:  pk="orders#<account>", sk="gap-scan"     — watermark (the newest updatedAt seen, UTC ISO).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.orders import CursorLost, CursorState, OrderConflict
from allegro_sync.contracts.records.control import GapScanItem, OrderCursorItem
from allegro_sync.contracts.records.orders import AttentionItem, LineOwnerItem, OrderItem
from allegro_sync.domain.orders import DELETED, MERGED, LineOwner, OrderRecord, StoredLine

ORDER_PK = "order#"
ORDER_SK = "order"
ATTENTION_PK = "attention"
LINE_PK = "line#"
LINE_SK = "owner"
CURSOR_PK = "orders#"
CURSOR_SK = "event-cursor"
GAP_SK = "gap-scan"


def _conditional_failed(error: ClientError) -> bool:
    if items.condition_failed(error):
        return True
    if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return False


class DynamoOrderRepository:
    """`OrderRepository` on the `orders` table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, checkout_form_id: str) -> OrderRecord | None:
        raw = self._client.get_item(
            TableName=self._table,
            Key=items.dump({"pk": ORDER_PK + checkout_form_id, "sk": ORDER_SK}),
            ConsistentRead=True,
        ).get("Item")
        return _record(items.load(raw)) if raw else None

    def get_many(self, checkout_form_ids: Sequence[str]) -> dict[str, OrderRecord]:
        """The stored orders among these forms, by BatchGetItem, eventually consistent: the gap scan only
        decides whether to queue a notice, and a stale (older) record can only queue one more, which the
        exactly-once import then finds already applied."""
        keys = [items.dump({"pk": ORDER_PK + f, "sk": ORDER_SK}) for f in dict.fromkeys(checkout_form_ids)]
        records = (
            _record(items.load(raw))
            for raw in items.batch_get(self._client.batch_get_item, self._table, keys)
        )
        return {r.checkout_form_id: r for r in records}

    def save(self, record: OrderRecord, expected_version: int) -> None:
        order = items.to_stored(
            OrderItem,
            record,
            pk=ORDER_PK + record.checkout_form_id,
            sk=ORDER_SK,
            taken=sorted(record.taken),
            returned=sorted(record.returned),
            replaces=list(record.replaces),
        )
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": items.dump({":v": expected_version}),
            }
        marker_key = items.dump({"pk": ATTENTION_PK, "sk": ORDER_PK + record.checkout_form_id})
        if record.attention:
            marker: dict[str, Any] = {
                "Put": {
                    "TableName": self._table,
                    "Item": items.dump(
                        AttentionItem(
                            pk=ATTENTION_PK,
                            sk=ORDER_PK + record.checkout_form_id,
                            account=record.account,
                            reasons=list(record.attention),
                        ).item()
                    ),
                }
            }
        else:
            marker = {"Delete": {"TableName": self._table, "Key": marker_key}}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": items.dump(order.item()), **condition}},
                    marker,
                ]
            )
        except ClientError as error:
            if _conditional_failed(error):
                raise OrderConflict(
                    f"order {record.checkout_form_id} moved past version {expected_version}"
                ) from error
            raise

    def mark_published(self, checkout_form_id: str, version: int) -> None:
        """`published` on the record of `version`; a record that moved on keeps its own flag."""
        items.conditional_write(
            self._client.update_item,
            TableName=self._table,
            Key=items.dump({"pk": ORDER_PK + checkout_form_id, "sk": ORDER_SK}),
            UpdateExpression="SET published = :yes",
            ConditionExpression="version = :v",
            ExpressionAttributeValues=items.dump({":yes": True, ":v": version}),
        )

    def line_owners(self, line_item_ids: list[str]) -> dict[str, LineOwner]:
        """Which form carries each of these line items now (absent: none recorded yet); eventually
        consistent is enough: a line moves to a new form only days apart, by a combined payment."""
        found: dict[str, LineOwner] = {}
        keys = [items.dump({"pk": LINE_PK + i, "sk": LINE_SK}) for i in sorted(set(line_item_ids))]
        for raw in items.batch_get(self._client.batch_get_item, self._table, keys):
            owner = LineOwnerItem.from_item(items.load(raw))
            found[owner.pk.removeprefix(LINE_PK)] = LineOwner(owner.checkout_form_id, owner.sale_id)
        return found

    def set_line_owners(self, checkout_form_id: str, sale_ids: dict[str, str]) -> None:
        """Record that `checkout_form_id` carries these line items (line item id -> sale id); idempotent."""
        for line_item_id, sale_id in sorted(sale_ids.items()):
            owner = LineOwnerItem(
                pk=LINE_PK + line_item_id, sk=LINE_SK, checkout_form_id=checkout_form_id, sale_id=sale_id
            )
            self._client.put_item(TableName=self._table, Item=items.dump(owner.item()))

    def index_recorded_lines(self) -> int:
        """One-off after upgrading: a line owner for every line of the open orders recorded before line
        owners existed, so a combined payment of such a purchase is still recognised. Never overwrites an
        owner (a newer form may carry the line already); returns how many it wrote. One Scan."""
        written = 0
        found = items.all_items(
            self._client.scan,
            TableName=self._table,
            FilterExpression="sk = :sk",
            ExpressionAttributeValues=items.dump({":sk": ORDER_SK}),
        )
        for raw in found:
            order = OrderItem.from_item(items.load(raw))
            if order.status in (MERGED, DELETED):
                continue
            for line in order.lines:
                owner = LineOwnerItem(
                    pk=LINE_PK + line.line_item_id,
                    sk=LINE_SK,
                    checkout_form_id=order.checkout_form_id,
                    sale_id=line.sale_id,
                )
                try:
                    self._client.put_item(
                        TableName=self._table,
                        Item=items.dump(owner.item()),
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                except ClientError as error:
                    if not _conditional_failed(error):
                        raise
                    continue
                written += 1
        return written

    def needing_attention(self) -> list[tuple[str, str, list[str]]]:
        """(checkout form id, account, reasons) of every order that needs the seller; one Query."""
        found = items.all_items(
            self._client.query,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=items.dump({":pk": ATTENTION_PK}),
            ConsistentRead=True,
        )
        attention = [AttentionItem.from_item(items.load(raw)) for raw in found]
        # sk "order#<id>" (the import) or "tracking#<id>" (a refused tracking number, fulfillment journal)
        return [(item.sk.split("#", 1)[-1], item.account, list(item.reasons)) for item in attention]


def _record(raw: dict[str, Any]) -> OrderRecord:
    item = OrderItem.from_item(raw)
    return items.from_stored(
        OrderRecord,
        item,
        lines=tuple(items.from_stored(StoredLine, line) for line in item.lines),
        taken=frozenset(item.taken),
        returned=frozenset(item.returned),
        attention=tuple(item.attention),
        replaces=tuple(item.replaces),
    )


class DynamoOrderCursors:
    """`CursorStore` on the `control` table: a leased, compare-and-swap cursor per account."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def _key(self, account: str, sk: str = CURSOR_SK) -> dict[str, Any]:
        return items.dump({"pk": CURSOR_PK + account, "sk": sk})

    def _update(self, account: str, **kwargs: Any) -> dict[str, Any]:
        answer = self._client.update_item(
            TableName=self._table, Key=self._key(account), ReturnValues="ALL_NEW", **kwargs
        )
        return items.load(answer["Attributes"])

    def claim(self, account: str, owner: str, now: float, lease_seconds: float) -> CursorState | None:
        try:
            item = self._update(
                account,
                UpdateExpression="SET #o = :me, lease_until = :until",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=items.dump(
                    {":me": owner, ":until": items.number(now + lease_seconds), ":now": items.number(now)}
                ),
            )
        except ClientError as error:
            if _conditional_failed(error):
                return None
            raise
        return _cursor(account, item)

    def start(
        self, account: str, owner: str, event_id: str | None, now: float, lease_seconds: float
    ) -> CursorState:
        values: dict[str, Any] = {
            ":me": owner,
            ":now": items.number(now),
            ":until": items.number(now + lease_seconds),
        }
        expression = "SET started = :t, seq = :zero, lease_until = :until, started_at = :now"
        values.update({":t": True, ":zero": 0})
        if event_id is not None:
            expression += ", event_id = :e"
            values[":e"] = event_id
        return self._guarded(
            account,
            expression,
            "#o = :me AND lease_until >= :now AND attribute_not_exists(started)",
            values,
        )

    def advance(
        self, account: str, owner: str, *, expected_seq: int, event_id: str, now: float, lease_seconds: float
    ) -> CursorState:
        values = {
            ":me": owner,
            ":now": items.number(now),
            ":until": items.number(now + lease_seconds),
            ":seq": expected_seq,
            ":next": expected_seq + 1,
            ":e": event_id,
            ":at": datetime.fromtimestamp(now, UTC).isoformat(),
        }
        return self._guarded(
            account,
            "SET event_id = :e, seq = :next, lease_until = :until, advanced_at = :at",
            "#o = :me AND lease_until >= :now AND seq = :seq",
            values,
        )

    def _guarded(self, account: str, expression: str, condition: str, values: dict[str, Any]) -> CursorState:
        try:
            item = self._update(
                account,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=items.dump(values),
            )
        except ClientError as error:
            if _conditional_failed(error):
                raise CursorLost(
                    f"the order cursor of {account!r} was taken or moved by another run"
                ) from error
            raise
        return _cursor(account, item)

    def release(self, account: str, owner: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(account),
                UpdateExpression="SET lease_until = :zero",
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=items.dump({":me": owner, ":zero": 0}),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

    def read(self, account: str) -> CursorState | None:
        """For operators and tests: the account's cursor as stored."""
        raw = self._client.get_item(TableName=self._table, Key=self._key(account), ConsistentRead=True).get(
            "Item"
        )
        return _cursor(account, items.load(raw)) if raw else None

    def gap_watermark(self, account: str) -> datetime | None:
        raw = self._client.get_item(
            TableName=self._table, Key=self._key(account, GAP_SK), ConsistentRead=True
        ).get("Item")
        if not raw:
            return None
        return datetime.fromisoformat(GapScanItem.from_item(items.load(raw)).watermark)

    def set_gap_watermark(self, account: str, value: datetime) -> None:
        # Fixed-width UTC ISO strings compare in time order, so DynamoDB itself refuses to go back.
        text = value.astimezone(UTC).isoformat(timespec="microseconds")
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(account, GAP_SK),
                UpdateExpression="SET watermark = :w",
                ConditionExpression="attribute_not_exists(watermark) OR watermark < :w",
                ExpressionAttributeValues=items.dump({":w": text}),
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise


def _cursor(account: str, raw: dict[str, Any]) -> CursorState:
    item = OrderCursorItem.from_item(raw)
    return CursorState(
        account=account,
        started=item.started,
        event_id=item.event_id,
        seq=item.seq,
        started_at=item.started_at,
    )


class CatalogOfferLinks:
    """`OfferLinks` over the catalogue's link items (sk="offer#<account>", attributes offer_id, sku).

    The catalogue is keyed by SKU, so finding the SKU of an offer is a filtered Scan. It runs only for a
    line without external.id, which this project never creates (it writes the SKU there); a store with
    many such offers should get an offer-id index.
    """

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def skus_for_offer(self, account: str, offer_id: str) -> list[str]:
        links = items.all_items(
            self._client.scan,
            TableName=self._table,
            FilterExpression="offer_id = :o AND account = :a AND begins_with(sk, :link)",
            ExpressionAttributeValues=items.dump({":o": offer_id, ":a": account, ":link": "offer#"}),
            ProjectionExpression="sku",
            ConsistentRead=True,
        )
        return sorted({str(items.load(raw)["sku"]) for raw in links if "sku" in raw})
