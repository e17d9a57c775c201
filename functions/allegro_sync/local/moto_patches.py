"""One fix to moto's speed, not to its behaviour: transactions no longer copy whole tables.

moto backs up every table a `TransactWriteItems` touches with `copy.deepcopy` before applying it, so it can
roll back when a condition fails. That costs O(items in the table) per transaction: with a few thousand
SKUs in the ledger each stock change took hundreds of milliseconds, and the soak measured moto instead of
our code. DynamoDB itself has no such cost.

Here the backup copies the table's item index (cheap: references) and deep-copies only the items the
transaction names, the only ones it can change in place (an Update mutates its item; a Put replaces and a
Delete removes an entry of the index, which the copied index still holds). Rollback is moto's own: the
backup replaces the table. Outside a transaction (backups, restores) a table deep-copies as before.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_touched = threading.local()  # table name -> the (hash, range) keys the running transaction names
_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Install the patch once per process (idempotent)."""
    global _applied  # noqa: PLW0603 - a process-wide, once-only switch
    with _lock:
        if _applied:
            return
        original = DynamoDBBackend.transact_write_items

        def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
            with _naming(self, transact_items):
                original(self, transact_items)

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        Table.__deepcopy__ = _table_copy  # type: ignore[attr-defined]
        _applied = True


@contextmanager
def _naming(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[None]:
    keys: dict[str, set[tuple[DynamoType, DynamoType | None]]] = defaultdict(set)
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName", ""))
            attributes = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in attributes:
                continue
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_attr = table.range_key_attr
            range_value = (
                DynamoType(attributes[range_attr]) if range_attr and range_attr in attributes else None
            )
            keys[table.name].add((hash_value, range_value))
    _touched.keys = keys
    try:
        yield
    finally:
        _touched.keys = None


def _table_copy(self: Table, memo: dict[int, Any]) -> Table:
    keys = getattr(_touched, "keys", None)
    if keys is None:  # not a transaction's backup: the full deep copy moto always made
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone
    clone = copy.copy(self)
    index: defaultdict[Any, Any] = defaultdict(dict)
    for hash_value, entry in self.items.items():
        index[hash_value] = dict(entry) if isinstance(entry, dict) else entry
    for hash_value, range_value in keys.get(self.name, ()):
        held: Any = index.get(hash_value)
        if isinstance(held, dict) and range_value in held:
            held[range_value] = copy.deepcopy(held[range_value])
        elif held is not None and not isinstance(held, dict):
            index[hash_value] = copy.deepcopy(held)
    clone.items = index
    return clone
