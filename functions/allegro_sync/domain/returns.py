"""Returned items back into stock: pure rules (issue 15, item 3; docs/after-sale.md).

A returned item counts as back in stock once its return reaches the seller's moment (`RestockOn`: the parcel
arrived, or the seller accepted the return). Then the ledger credits it once, as a *negative* open sale keyed
`return:<return id>:<offer id>`: available stock rises at once, and the credit is settled exactly like a sale
(the shop acknowledges the return it was sent; the first shop level after that acknowledgement reflects it
and the credit is pruned). A shop that did not restock therefore corrects the ledger with its next level:
the credit never outlives the shop's own word. Its record (a `SaleRecord` with a negative quantity) is the
exactly-once guard: a second credit of the same return line is a DUPLICATE.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from allegro_sync.contracts.return_status import ACCEPTED, ARRIVED, RestockOn
from allegro_sync.domain.ledger import (
    LedgerError,
    OpenSale,
    Outcome,
    SaleRecord,
    SaleStatus,
    SkuLedger,
)

RETURN_PREFIX = "return:"


def return_line_id(return_id: str, offer_id: str) -> str:
    """The exactly-once key of one returned line (a return lists each offer once)."""
    if not return_id or not offer_id:
        raise LedgerError("a returned line needs its return id and offer id")
    return f"{RETURN_PREFIX}{return_id}:{offer_id}"


def back_in_stock(status: str, restock_on: RestockOn) -> bool:
    """Has the return reached the moment the seller takes its items back into stock?"""
    return status in (ARRIVED if restock_on == "ARRIVAL" else ACCEPTED)


def record_return(
    existing: SaleRecord | None, line_id: str, *, sku: str, quantity: int, at: datetime, account: str
) -> tuple[Outcome, SaleRecord | None]:
    """The first credit of a returned line is APPLIED; any later one is a DUPLICATE and changes nothing."""
    if quantity < 1:
        raise LedgerError(f"a returned quantity is at least 1, got {quantity}")
    if existing is not None:
        if existing.sku != sku:
            raise LedgerError(f"return {line_id!r} belongs to {existing.sku!r}, not {sku!r}")
        return Outcome.DUPLICATE, None
    record = SaleRecord(line_id, sku, SaleStatus.UNCONFIRMED, quantity=-quantity, sold_at=at, account=account)
    return Outcome.APPLIED, record


def credit_return(ledger: SkuLedger, line_id: str, quantity: int, at: datetime, account: str) -> SkuLedger:
    """Available stock rises by `quantity` until a shop level after the shop's acknowledgement settles it."""
    if line_id in ledger.open_sales:
        return ledger
    credit = OpenSale(-quantity, at, account)
    return replace(ledger, open_sales={**ledger.open_sales, line_id: credit}).bumped()
