"""When a returned item is back in stock, by the seller's setting (domain/returns.py)."""

from __future__ import annotations

import pytest

from allegro_sync.domain.returns import back_in_stock

TIMELINE = ("CREATED", "DISPATCHED", "IN_TRANSIT", "DELIVERED", "FINISHED", "COMMISSION_REFUNDED", "REJECTED")


@pytest.mark.parametrize(
    ("restock_on", "back"),
    [
        ("ARRIVAL", ("DELIVERED", "FINISHED", "COMMISSION_REFUNDED")),
        ("ACCEPTANCE", ("FINISHED", "COMMISSION_REFUNDED")),
    ],
)
def test_only_the_statuses_past_the_sellers_moment_bring_stock_back(
    restock_on: str, back: tuple[str, ...]
) -> None:
    assert tuple(s for s in TIMELINE if back_in_stock(s, restock_on)) == back  # type: ignore[arg-type]
