"""Three fixes to moto for the local runtime: transactions without whole-table copies, atomic requests, and
request routing without a directory listing.

**Speed.** moto backs up every table a `TransactWriteItems` touches with `copy.deepcopy` before applying it,
so it can roll back when a condition fails. That costs O(items in the table) per transaction: with a few
thousand SKUs in the ledger each stock change took hundreds of milliseconds, and the soak measured moto
instead of our code. Here the backup copies the table's item index (cheap: references) and deep-copies only
the items the transaction names, the only ones it can change in place (an Update mutates its item; a Put
replaces and a Delete removes an entry of the index, which the copied index still holds). Rollback is
moto's own: the backup replaces the table. Outside a transaction (backups, restores) a table deep-copies as
before.

**Atomicity.** moto's server serves each request on its own thread and its backends take no lock (moto
5.2.5), so once functions run side by side a check and its write can interleave with another request:
- DynamoDB: a conditional Put/Update/Delete reads the item, evaluates the condition, then writes; two
  writers can both pass the check (two "first" writes, a lost version bump). A transaction applies its
  items one by one and, when a later condition fails, rolls back by *replacing the whole table* with its
  backup, erasing any other request's write to that table in between (a BatchWriteItem's too). Readers
  see a half-applied update or a transaction that is about to be rolled back, and a scan or a backup
  walking the item index while a Put adds a key dies with "dictionary changed size during iteration".
- SQS: ReceiveMessage checks a message's visibility, then marks it in flight: two receives can both take
  it. A FIFO receive snapshots the groups in flight when it starts, so a group's next message can go out
  while its first is still in flight. DeleteMessage rebuilds the queue's message list, dropping a message
  sent while it did so; it and ChangeMessageVisibility change the in-flight set while a receive walks it.
- Secrets Manager: CreateSecret checks the name is free, then stores, so two creators both "succeed" and
  one value is lost; two PutSecretValue calls can both leave their version AWSCURRENT. (Token rotation
  does not rely on this: one refresher at a time holds a DynamoDB lease, which the lock above makes real.)
DynamoDB itself is serializable per item and for transactions, SQS hands a message to one receiver at a
time, and so must the local runtime be. The fix is one re-entrant lock per backend (account and region),
held for a whole request of these three services: the request's reads and its answer see one state.
A ReceiveMessage is the exception: it holds the lock for each attempt but not while it long-polls, or no
send could reach the queue it waits on. Requests still run side by side in moto's HTTP and parsing code,
and Python runs one thread at a time anyway, so the lock costs no real concurrency.

**Routing.** moto's server finds the backend of every request by listing its own package directory and
calling `isdir` on each of its ~150 entries, under the server's one application lock. A full soak spent
about 7 % of its interpreter's samples there, so every AWS call of every function waited on it. The list
cannot change while the process runs: it is read once.
"""

from __future__ import annotations

import copy
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto import backends
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import BaseResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.sqs.models import Message, SQSBackend
from moto.sqs.responses import SQSResponse

_touched = threading.local()  # table name -> the (hash, range) keys the running transaction names
_applied = False
_lock = threading.Lock()  # guards `apply` and the creation of backend locks
# One lock per backend instance; weak, so a reset's discarded backends take theirs with them.
_backend_locks: weakref.WeakKeyDictionary[object, threading.RLock] = weakref.WeakKeyDictionary()


def apply() -> None:
    """Install the patches once per process (idempotent)."""
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
        _one_request_at_a_time(DynamoHandler, lambda response: response.dynamodb_backend)
        _one_request_at_a_time(SecretsManagerResponse, lambda response: response.backend)
        _one_request_at_a_time(SQSResponse, lambda response: response.sqs_backend, unless="ReceiveMessage")
        _receive_attempts_one_at_a_time()
        modules = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules
        _applied = True


def _backend_lock(backend: object) -> threading.RLock:
    """The lock every request to `backend` holds (re-entrant: moto's batch calls nest its own calls)."""
    with _lock:
        held = _backend_locks.get(backend)
        if held is None:
            held = _backend_locks[backend] = threading.RLock()
        return held


def _one_request_at_a_time(
    response_class: type[BaseResponse], backend_of: Callable[[Any], object], *, unless: str | None = None
) -> None:
    original = response_class.call_action

    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        if unless is not None and self._get_action() == unless:
            return original(self)
        with _backend_lock(backend_of(self)):
            return original(self)

    response_class.call_action = call_action  # type: ignore[method-assign]


FIFO_RECHECK_SECONDS = 0.05


def _receive_attempts_one_at_a_time() -> None:
    """Each pass over the queue is atomic; a long poll waits between passes without the lock, as moto does.

    Every pass starts afresh, so it sees the FIFO groups other receives put in flight while it waited.
    """
    original = SQSBackend.receive_message

    def receive_message(  # noqa: PLR0917 - moto's own signature
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Message]:
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with _backend_lock(self):
                received = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            if received or time.monotonic() >= deadline:
                return received
            waited = time.monotonic()
            self.get_queue(queue_name).wait_for_messages(1)
            if time.monotonic() - waited < FIFO_RECHECK_SECONDS:
                # Messages are visible but none could be handed out (their FIFO groups are in flight):
                # moto's wait returns at once, so pause instead of spinning until a group is released.
                time.sleep(FIFO_RECHECK_SECONDS)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


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
