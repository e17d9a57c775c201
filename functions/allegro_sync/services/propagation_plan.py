"""What the stock propagator will do, decided without calling anything: the newest signal per SKU, and per
offer of a SKU's ledger view a push (its kind, its value) or a skip with its reason (`propagation.py` makes
the calls)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from allegro_sync.contracts.messages import StockChanged
from allegro_sync.contracts.stock import PushRecord
from allegro_sync.domain.ledger import OfferAction, OfferTarget, StockView

# ------------------------------------------------------------------------------------------------ input


def coalesce(signals: Iterable[StockChanged]) -> dict[str, int]:
    """The newest revision per SKU: ten changes of one SKU in a batch become one push."""
    return {sku: signal.revision for sku, signal in newest_signals(signals).items()}


def newest_signals(signals: Iterable[StockChanged]) -> dict[str, StockChanged]:
    newest: dict[str, StockChanged] = {}
    for signal in signals:
        held = newest.get(signal.sku)
        if held is None or signal.revision > held.revision:
            newest[signal.sku] = signal
    return newest


# ------------------------------------------------------------------------------------------------ plan


class PushKind(StrEnum):
    QUANTITY = "QUANTITY"  # the offer was selling: just a new number (batchable)
    RESTOCK = "RESTOCK"  # stock may come back on a sold-out offer: PATCH, read back, then ACTIVATE
    END = "END"  # nothing left: PATCH stock 0, which ends the offer


@dataclass(frozen=True)
class Push:
    sku: str
    revision: int
    offer_id: str
    account: str
    kind: PushKind
    quantity: int
    reason: str
    previous: PushRecord | None = None
    # False: Allegro already shows this (same value as last pushed); only the revision is recorded.
    needs_call: bool = True
    correlation_id: str | None = None  # the newest signal's, for the logs; None: the reconciler's repair
    # True: its changes are kept with the pushed record (one write); False: each is an item of the change
    # log (the reconciler's repairs, which `status` looks for there).
    with_record: bool = False


@dataclass(frozen=True)
class Skip:
    sku: str
    offer_id: str | None
    why: str


def plan(
    view: StockView, pushed: Mapping[str, PushRecord], *, reason: str, force: bool = False
) -> tuple[list[Push], list[Skip]]:
    """Pure: which offers of `view` need a call, and which are skipped (and why).

    `force` (the reconciler, after reading Allegro) pushes even when the pushed revision says it is done.
    """
    pushes: list[Push] = []
    skips: list[Skip] = []
    for target in view.offers:
        previous = pushed.get(target.offer_id)
        if target.action is OfferAction.HOLD or target.quantity is None:
            skips.append(
                Skip(view.sku, target.offer_id, "unknown quantity: nothing pushed (never 0, never plenty)")
            )
            continue
        if not force and previous is not None and previous.revision >= view.revision:
            skips.append(Skip(view.sku, target.offer_id, f"revision {previous.revision} already pushed"))
            continue
        kind = _kind(target, previous)
        # Same value as last pushed (the revision moved for another offer, a buffer elsewhere...): only the
        # revision is recorded.
        unchanged = (
            not force
            and previous is not None
            and (previous.action, previous.quantity) == (target.action.value, target.quantity)
        )
        pushes.append(
            Push(
                view.sku,
                view.revision,
                target.offer_id,
                target.account,
                kind,
                target.quantity,
                "same value as last pushed" if unchanged else reason,
                previous,
                needs_call=not unchanged,
            )
        )
    return pushes, skips


def _kind(target: OfferTarget, previous: PushRecord | None) -> PushKind:
    if target.action is OfferAction.END:
        return PushKind.END
    if previous is not None and previous.action == "SET":
        return PushKind.QUANTITY
    return PushKind.RESTOCK  # sold out before, or never pushed: read it back and activate if it sold out
