"""The ledger's decisions, one behaviour at a time (pure: no repository, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from allegro_sync.domain import ledger as dom
from allegro_sync.domain.ledger import (
    LedgerError,
    LedgerPolicy,
    OfferAction,
    OfferLink,
    Outcome,
    Sale,
    SaleStatus,
    ShopLevel,
    SkuLedger,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXACT = LedgerPolicy(clock_skew=timedelta(0))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sale(sale_id: str = "cf-1:li-1", quantity: int = 2, account: str = "main") -> Sale:
    return Sale(sale_id, "SKU-1", quantity, at(1), account, offer_id="7001")


def with_level(
    quantity: int | None, t: float, version: int | None = None, policy: LedgerPolicy = EXACT
) -> SkuLedger:
    outcome, ledger = dom.apply_level(SkuLedger("SKU-1"), ShopLevel(quantity, at(t), version), policy)
    assert outcome is Outcome.APPLIED
    return ledger


def level(
    ledger: SkuLedger, quantity: int | None, t: float, version: int | None = None
) -> tuple[Outcome, SkuLedger]:
    return dom.apply_level(ledger, ShopLevel(quantity, at(t), version), EXACT)


def test_a_sku_the_shop_never_reported_is_unknown_not_zero_and_not_plenty() -> None:
    ledger = dom.link_offer(SkuLedger("SKU-1"), OfferLink("7001", "main"))
    ledger = dom.add_sale(ledger, sale())
    view = dom.view(ledger, EXACT)
    assert view.available is None
    assert [(t.action, t.quantity) for t in view.offers] == [(OfferAction.HOLD, None)]


def test_a_report_the_shop_could_not_read_holds_offers_even_after_a_known_level() -> None:
    ledger = dom.link_offer(with_level(10, 0), OfferLink("7001", "main"))
    outcome, ledger = level(ledger, None, 5)
    assert outcome is Outcome.APPLIED
    assert dom.view(ledger, EXACT).offers[0].action is OfferAction.HOLD
    _, ledger = level(ledger, 4, 6)
    assert dom.view(ledger, EXACT).offers[0].quantity == 4


def test_a_sale_reduces_stock_at_once_and_a_repeat_of_it_does_not() -> None:
    ledger = with_level(10, 0)
    once = dom.add_sale(ledger, sale())
    assert dom.available(once, EXACT) == 8
    assert once.revision == ledger.revision + 1
    twice = dom.add_sale(once, sale())
    assert twice == once


def test_a_stale_webhook_sent_before_the_shop_applied_a_sale_does_not_bring_the_sale_back() -> None:
    ledger = dom.add_sale(with_level(10, 0), sale(quantity=2))
    ledger = dom.acknowledge_sale(ledger, "cf-1:li-1", at(10), None, EXACT)
    # The shop read 10 at t=5, before it applied the sale at t=10; the webhook arrives late.
    outcome, ledger = level(ledger, 10, 5)
    assert outcome is Outcome.APPLIED
    assert dom.available(ledger, EXACT) == 8


def test_a_real_restock_after_the_shop_applied_the_sale_is_taken_as_reported() -> None:
    ledger = dom.add_sale(with_level(10, 0), sale(quantity=2))
    ledger = dom.acknowledge_sale(ledger, "cf-1:li-1", at(10), None, EXACT)
    _, ledger = level(ledger, 18, 20)  # 8 after the sale, plus 10 delivered by a supplier
    assert dom.available(ledger, EXACT) == 18
    assert ledger.open_sales == {}  # reflected: pruned from the SKU item


def test_a_level_older_than_the_held_one_is_stale_and_changes_nothing() -> None:
    ledger = with_level(3, 10)
    outcome, after = level(ledger, 50, 9)
    assert outcome is Outcome.STALE
    assert after == ledger


def test_a_same_time_report_with_a_different_number_keeps_the_lower_one() -> None:
    ledger = with_level(7, 10)
    assert level(ledger, 9, 10)[0] is Outcome.DUPLICATE
    outcome, lower = level(ledger, 5, 10)
    assert outcome is Outcome.APPLIED
    assert dom.available(lower, EXACT) == 5
    assert level(ledger, 7, 10) == (Outcome.DUPLICATE, ledger)


def test_clock_skew_margin_keeps_subtracting_a_sale_acknowledged_just_before_the_level() -> None:
    policy = LedgerPolicy(clock_skew=timedelta(seconds=5))
    ledger = dom.add_sale(with_level(10, 0, policy=policy), sale(quantity=2))
    ledger = dom.acknowledge_sale(ledger, "cf-1:li-1", at(10), None, policy)
    _, near = dom.apply_level(ledger, ShopLevel(8, at(13)), policy)
    assert dom.available(near, policy) == 6  # within the margin: counted twice, never oversold
    _, later = dom.apply_level(ledger, ShopLevel(8, at(15)), policy)
    assert dom.available(later, policy) == 8


def test_versions_decide_reflection_exactly_whatever_the_clocks_say() -> None:
    ledger = dom.add_sale(with_level(10, 0, version=1), sale(quantity=2))
    ledger = dom.acknowledge_sale(ledger, "cf-1:li-1", at(100), 2, EXACT)  # shop clock far ahead
    _, after = level(ledger, 8, 50, version=2)
    assert dom.available(after, EXACT) == 8
    _, before = level(ledger, 10, 50, version=1)
    assert dom.available(before, EXACT) == 8


def test_buffer_is_held_back_and_availability_never_goes_negative() -> None:
    ledger = dom.set_buffer(with_level(3, 0), 2)
    assert dom.available(ledger, EXACT) == 1
    ledger = dom.add_sale(ledger, sale(quantity=2))
    assert dom.available(ledger, EXACT) == 0
    _, oversold = level(ledger, -4, 1)  # a shop allowing backorders
    assert dom.available(oversold, EXACT) == 0


def test_own_buffer_wins_over_the_category_buffer() -> None:
    ledger = dom.set_buffer(with_level(10, 0), None, "toys")
    assert dom.available(ledger, EXACT, category_buffer=3) == 7
    own = dom.set_buffer(ledger, 1, "toys")
    assert dom.available(own, EXACT, category_buffer=3) == 9


def test_each_offer_shows_available_capped_per_offer_and_zero_ends_it() -> None:
    ledger = with_level(5, 0)
    ledger = dom.link_offer(ledger, OfferLink("A", "main"))
    ledger = dom.link_offer(ledger, OfferLink("B", "second", cap=2))
    view = dom.view(ledger, EXACT)
    assert [(t.offer_id, t.account, t.action, t.quantity) for t in view.offers] == [
        ("A", "main", OfferAction.SET, 5),
        ("B", "second", OfferAction.SET, 2),
    ]
    ledger = dom.add_sale(ledger, sale(quantity=5))
    assert {t.action for t in dom.view(ledger, EXACT).offers} == {OfferAction.END}
    assert dom.view(dom.unlink_offer(ledger, "A"), EXACT).offers[0].offer_id == "B"


def test_a_cancellation_gives_back_what_the_sale_took_exactly_once() -> None:
    ledger = dom.add_sale(with_level(10, 0), sale(quantity=3))
    outcome, record = dom.record_sale(None, sale(quantity=3))
    assert outcome is Outcome.APPLIED
    assert record is not None
    outcome, cancelled = dom.record_cancellation(record, "cf-1:li-1", "SKU-1", at(5), EXACT)
    assert outcome is Outcome.APPLIED
    assert cancelled is not None
    assert cancelled.status is SaleStatus.CANCELLED
    assert cancelled.expires_at == at(5) + EXACT.sale_retention
    back = dom.drop_sale(ledger, "cf-1:li-1")
    assert dom.available(back, EXACT) == 10
    assert dom.drop_sale(back, "cf-1:li-1") == back
    assert dom.record_cancellation(cancelled, "cf-1:li-1", "SKU-1", at(6), EXACT) == (Outcome.DUPLICATE, None)


def test_a_cancellation_ahead_of_its_sale_leaves_a_tombstone_the_sale_cannot_pass() -> None:
    outcome, tomb = dom.record_cancellation(None, "cf-1:li-1", "SKU-1", at(5), EXACT)
    assert outcome is Outcome.CANCELLED_FIRST
    assert tomb is not None
    assert tomb.quantity is None
    outcome, filled = dom.record_sale(tomb, sale(quantity=3))
    assert outcome is Outcome.CANCELLED_FIRST
    assert filled is not None
    assert (filled.status, filled.quantity, filled.rev) == (SaleStatus.CANCELLED, 3, 1)
    assert dom.record_sale(filled, sale(quantity=3)) == (Outcome.DUPLICATE, None)


def test_confirming_an_unknown_sale_is_refused() -> None:
    with pytest.raises(LedgerError, match="unknown sale"):
        dom.record_delivery(None, sale_id="x:1", sku="SKU-1", ack_at=at(1), ack_version=None, policy=EXACT)


def test_the_first_shop_acknowledgement_counts_and_a_repeat_is_a_duplicate() -> None:
    _, record = dom.record_sale(None, sale())
    assert record is not None
    outcome, acked = dom.record_delivery(
        record, sale_id="cf-1:li-1", sku="SKU-1", ack_at=at(3), ack_version=4, policy=EXACT
    )
    assert outcome is Outcome.APPLIED
    assert acked is not None
    assert (acked.status, acked.shop_ack_at, acked.shop_ack_version) == (
        SaleStatus.DELIVERED_TO_SHOP,
        at(3),
        4,
    )
    again = dom.record_delivery(
        acked, sale_id="cf-1:li-1", sku="SKU-1", ack_at=at(9), ack_version=5, policy=EXACT
    )
    assert again == (Outcome.DUPLICATE, None)


def test_a_sale_id_reused_for_another_sku_is_refused() -> None:
    _, record = dom.record_sale(None, sale())
    other = Sale("cf-1:li-1", "SKU-2", 1, at(1), "main")
    with pytest.raises(LedgerError, match="belongs to 'SKU-1'"):
        dom.record_sale(record, other)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Sale("cf:1", "SKU-1", 0, at(0), "main"), "sale quantity"),
        (lambda: Sale("cf:1", "SKU-1", True, at(0), "main"), "sale quantity"),
        (lambda: Sale("cf:1", "", 1, at(0), "main"), "sku"),
        (lambda: Sale("cf:1", "SKU-1", 1, datetime(2026, 1, 1), "main"), "timezone-aware"),
        (lambda: ShopLevel("7", at(0)), "shop quantity"),  # type: ignore[arg-type]
        (lambda: ShopLevel(1, at(0), version=-1), "version"),
        (lambda: OfferLink("A", "main", cap=-1), "offer cap"),
        (lambda: SkuLedger("SKU-1", buffer=-2), "buffer"),
        (lambda: dom.sale_id_of("", "li"), "checkout form id"),
    ],
)
def test_bad_input_gets_a_specific_error(build: object, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        build()  # type: ignore[operator]


def test_sale_id_is_checkout_form_and_line_item() -> None:
    assert dom.sale_id_of("29b6bd80-0c2d", "62ae7d3e") == "29b6bd80-0c2d:62ae7d3e"
