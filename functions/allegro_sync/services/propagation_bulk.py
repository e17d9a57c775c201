"""Many offers' stock in one command: `/sale/offer-bulk-modification-commands` (issue 16, item 3).

The older quantity command sets one value on up to 1000 offers, so only offers that happen to need the same
number share one; the bulk command carries each offer's own value, 25 per command. A burst of stock changes
over many SKUs then needs one command (a POST and a task read) per 25 offers instead of a PATCH per offer
whose value no other offer shares (`python -m bench.stock_propagation`: docs/stock-ledger.md).

The command id is derived from what the command does (account, offers, values, ledger revisions), so a
redelivered batch that makes the same pushes sends the same id: Allegro answers 409 and the tasks of the
first attempt are read instead of running it twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from allegro_sync.contracts.bulk import MAX_MODIFICATIONS, BulkModification, StockChange

if TYPE_CHECKING:
    from allegro_sync.services.propagation_plan import Push

NAMESPACE = uuid.UUID("5b0f8a5e-6a52-4a39-9b57-7c1d1f9b2c16")  # allegro-sync bulk stock commands


P = TypeVar("P", bound="Push")


def bulk_chunks(pushes: Sequence[P], batchable: Callable[[P], bool]) -> tuple[list[list[P]], list[P]]:
    """Batchable pushes per account in commands of up to 25 (two or more: one alone is a cheaper PATCH);
    everything else single."""
    by_account: dict[str, list[P]] = defaultdict(list)
    for push in pushes:
        if batchable(push) and push.quantity > 0:  # FIXED stock must be > 0 (spec)
            by_account[push.account].append(push)
    chunks = [
        group[start : start + MAX_MODIFICATIONS]
        for _, group in sorted(by_account.items())
        for start in range(0, len(group), MAX_MODIFICATIONS)
    ]
    chunks = [c for c in chunks if len(c) > 1]
    in_chunk = {id(p) for chunk in chunks for p in chunk}
    return chunks, [p for p in pushes if id(p) not in in_chunk]


def by_value(pushes: Sequence[P]) -> tuple[dict[tuple[str, int], list[P]], list[P]]:
    """Pushes grouped by (account, value) when two or more share them (one quantity command each)."""
    groups: dict[tuple[str, int], list[P]] = defaultdict(list)
    for push in pushes:
        groups[(push.account, push.quantity)].append(push)
    batched = {key: group for key, group in groups.items() if len(group) > 1}
    in_batch = {id(p) for group in batched.values() for p in group}
    return batched, [p for p in pushes if id(p) not in in_batch]


def command_id(chunk: Sequence[Push]) -> str:
    """The same pushes, the same id (exactly once under redelivery)."""
    what = sorted(f"{p.account}|{p.offer_id}|{p.quantity}|{p.sku}|{p.revision}" for p in chunk)
    return str(uuid.uuid5(NAMESPACE, "\n".join(what)))


def stock_modifications(chunk: Sequence[Push]) -> list[BulkModification]:
    return [BulkModification(offer_id=p.offer_id, stock=StockChange(value=p.quantity)) for p in chunk]
