"""`PushLog` on the `ledger` table: the revision last pushed to each offer, written conditionally, and the
offer's latest stock changes with their reasons (the change log of routine stock pushes).

Layout: pk="sku#<sku>", sk="pushed#<offer id>" beside the SKU's ledger item, so one Query returns every
offer's pushed state of a SKU. The write only succeeds when the stored revision is older: a slow
invocation finishing after a newer one can never make the log claim an older value is on Allegro.

`recent` (JSON) holds the offer's newest stock changes (stock, end, activate: who changed what, and why),
as many as fit `RECENT_BYTES`, so one write per push records both the revision and its explanation and the
item stays under 1 KB (one write unit). `ChangeLog.history` merges them with the `changes` table; older
ones are in the stock propagator's logs ("stock changed on Allegro"). A push whose record loses to a
newer revision hands its changes back (`record` answers False) for the `changes` table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.ledger import sku_pk
from allegro_sync.contracts.catalog import Change
from allegro_sync.contracts.records.ledger import PushedItem
from allegro_sync.contracts.stock import PushRecord

PUSHED_PREFIX = "pushed#"
# Serialised changes kept per offer: with the record's own ~200 bytes the item stays under 1 KB.
RECENT_BYTES = 700
RECORD_ATTEMPTS = 5  # reads of the recent changes before a contended record leaves them to the changes table
_FIELDS = ("action", "changes", "reason", "event_id", "at")


def recent_json(held: Sequence[Change], new: Sequence[Change]) -> str:
    """The newest changes (new ones last) that fit `RECENT_BYTES`; the newest one always stays."""
    kept: list[dict[str, Any]] = []
    size = 2
    for change in reversed([*held, *new]):
        entry = {name: getattr(change, name) for name in _FIELDS}
        cost = len(json.dumps(entry, ensure_ascii=False, default=str)) + 1
        if kept and size + cost > RECENT_BYTES:
            break
        kept.insert(0, entry)
        size += cost
    return json.dumps(kept, ensure_ascii=False, default=str)


def _recent(item: PushedItem, sku: str) -> list[Change]:
    offer_id = item.sk.removeprefix(PUSHED_PREFIX)
    return [
        Change(sku=sku, account=item.account, offer_id=offer_id, **entry)
        for entry in json.loads(item.recent or "[]")
    ]


class DynamoPushLog:
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self._table = items.table(table_name, resource)

    def _items(self, sku: str) -> list[PushedItem]:
        found = items.all_items(
            self._table.query,
            KeyConditionExpression=Key("pk").eq(sku_pk(sku)) & Key("sk").begins_with(PUSHED_PREFIX),
            ConsistentRead=True,
        )
        return [PushedItem.from_item(raw) for raw in found]

    def pushed(self, sku: str) -> Mapping[str, PushRecord]:
        found = self._items(sku)
        return {item.sk.removeprefix(PUSHED_PREFIX): items.from_stored(PushRecord, item) for item in found}

    def stock_changes(self, sku: str) -> list[Change]:
        """The latest stock changes of every offer of the SKU (oldest first per offer)."""
        return [change for item in self._items(sku) for change in _recent(item, sku)]

    def record(self, sku: str, offer_id: str, record: PushRecord, changes: Sequence[Change] = ()) -> bool:
        """One conditional UpdateItem: the record, and `changes` appended to the offer's recent ones (a
        record without changes keeps them as they are).

        The recent changes are read, then written with ours appended, so that write is conditioned on the
        revision read too: an older push recorded in between (the reconciler's repair beside the
        propagator) would otherwise have its explanation overwritten by the stale list. Losing that race
        reads again (no extra write); a newer revision stored answers False as before."""
        key = {"pk": sku_pk(sku), "sk": PUSHED_PREFIX + offer_id}
        values: dict[str, Any] = {
            ":r": record.revision,
            ":a": record.action,
            ":q": record.quantity,
            ":acc": record.account,
        }
        update = "SET revision = :r, #action = :a, quantity = :q, account = :acc"
        condition = "attribute_not_exists(revision) OR revision < :r"
        if changes:
            update += ", recent = :recent"
        for _ in range(RECORD_ATTEMPTS):
            if changes:
                raw = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
                held = PushedItem.from_item(raw) if raw else None
                if held is not None and held.revision >= record.revision:
                    return False
                values[":recent"] = recent_json(_recent(held, sku) if held else [], changes)
                condition = "attribute_not_exists(revision)" if held is None else "revision = :seen"
                values.pop(":seen", None)
                if held is not None:
                    values[":seen"] = held.revision
            try:
                self._table.update_item(
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#action": "action"},
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if not items.condition_failed(error):
                    raise
                if not changes:
                    return False
                continue  # another push was recorded since the read: read its recent changes again
            return True
        return False  # still contended: the caller writes the changes to the `changes` table instead
