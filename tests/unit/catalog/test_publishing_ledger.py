"""The catalogue with a stock ledger: offers are linked to it, shop levels go through it, not to Allegro."""

from __future__ import annotations

from datetime import timedelta

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from allegro_sync.contracts.messages import ProductDelete, StockSet
from allegro_sync.domain.ledger import OfferAction, Sale
from allegro_sync.services.publishing import Context
from tests.unit.catalog.fakes import FakeAccounts, FakeAllegro
from tests.unit.catalog.test_publishing import T0, World, upsert


class LedgerWorld(World):
    def __init__(self, accounts: tuple[str, ...] = ("shop1", "shop2")) -> None:
        super().__init__(accounts)

    def shown(self, sku: str = "SONY") -> dict[str, tuple[str, OfferAction, int | None]]:
        return {t.offer_id: (t.account, t.action, t.quantity) for t in self.ledger.view(sku).offers}

    def patches(self) -> list[object]:
        return [a for api in self.allegro.values() for n, a in api.calls if n == "patch_product_offer"]


def stock_set(stock: int, *, minutes: float, sku: str = "SONY") -> StockSet:
    return StockSet(
        delivery_id=f"s-{minutes}", occurred_at=T0 + timedelta(minutes=minutes), sku=sku, stock=stock
    )


def sell(world: LedgerWorld, quantity: int, *, minutes: float, account: str = "shop1") -> None:
    offer_id = world.link(account=account).offer_id
    sale = Sale(f"sale-{minutes}", "SONY", quantity, T0 + timedelta(minutes=minutes), account, offer_id)
    assert world.ledger.apply_sale(sale).changed


def test_a_new_offer_on_each_account_is_linked_to_the_ledger_with_its_own_id() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))

    ids = {a: world.link(account=a).offer_id for a in ("shop1", "shop2")}
    assert None not in ids.values()
    assert world.shown() == {
        ids["shop1"]: ("shop1", OfferAction.SET, 5),
        ids["shop2"]: ("shop2", OfferAction.SET, 5),
    }
    created = world.allegro["shop2"].offers[str(ids["shop2"])]
    assert created["stock"]["available"] == 5
    assert world.emitted.sent == []  # created with the ledger's quantity: nothing to push


def test_a_new_offer_starts_with_the_ledger_quantity_not_the_raw_shop_level() -> None:
    world = LedgerWorld(accounts=("shop1",))
    world.publisher.handle(upsert(stock=5))
    sell(world, 2, minutes=1)
    world.allegro["shop2"] = FakeAllegro(first_offer_id=7700000100)  # a second account connects later

    world.publisher.handle(upsert(minutes=2, stock=5, name="Słuchawki Sony WH-1000XM5 czarne ANC"))

    new_offer = world.link(account="shop2").offer_id
    assert world.allegro["shop2"].offers[str(new_offer)]["stock"]["available"] == 3  # 5 - 2 sold on shop1
    assert world.shown()[str(new_offer)] == ("shop2", OfferAction.SET, 3)
    assert "stock" not in str(world.allegro["shop1"].calls[-1])  # the update of shop1 sends no stock


def test_a_stock_set_goes_to_the_ledger_and_the_queue_never_straight_to_allegro() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))
    before = [list(api.calls) for api in world.allegro.values()]

    world.publisher.handle(stock_set(8, minutes=1))

    assert [list(api.calls) for api in world.allegro.values()] == before  # no PATCH, no call at all
    [(view, cause)] = world.emitted.sent
    assert (view.sku, view.available, cause) == ("SONY", 8, "shop stock level")
    assert [t.quantity for t in view.offers] == [8, 8]


def test_a_stale_stock_set_does_not_bring_a_sold_unit_back() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))
    sell(world, 1, minutes=10)
    # The shop counted the sale at minute 12: its reports before then do not include it.
    world.ledger.confirm_delivered("SONY", "sale-10", T0 + timedelta(minutes=12))
    assert world.ledger.view("SONY").available == 4

    world.publisher.handle(stock_set(5, minutes=11))  # sent before the shop counted the sale

    assert world.ledger.view("SONY").available == 4
    assert all(quantity == 4 for _, _, quantity in world.shown().values())
    assert all(view.available == 4 for view, _ in world.emitted.sent)
    assert world.patches() == []

    world.publisher.handle(stock_set(9, minutes=20))  # a real restock, after the sale was counted
    assert world.emitted.sent[-1][0].available == 9
    assert all(quantity == 9 for _, _, quantity in world.shown().values())


def test_a_stock_change_lost_between_ledger_and_queue_is_sent_on_redelivery() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))
    event = stock_set(3, minutes=1)
    world.emitted.fail_next = ConnectionError("SQS down")
    with pytest.raises(ConnectionError):
        world.publisher.handle(event)
    assert world.ledger.view("SONY").available == 3  # committed, but nobody was told

    world.publisher.handle(event)  # SQS delivers the event again

    [(view, _)] = world.emitted.sent
    assert view.available == 3
    assert len(view.offers) == 2


def test_an_older_stock_set_than_the_held_level_changes_nothing() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))
    world.publisher.handle(stock_set(2, minutes=5))
    world.publisher.handle(stock_set(7, minutes=3))  # late delivery of an older report

    assert world.ledger.view("SONY").available == 2
    assert [view.available for view, _ in world.emitted.sent] == [2]


def test_unknown_stock_holds_the_offer_then_the_first_level_activates_it() -> None:
    world = LedgerWorld(accounts=("shop1",))
    world.publisher.handle(upsert(stock=None))

    link = world.link()
    assert link.status is LinkStatus.WAITING
    assert world.api.offers[str(link.offer_id)]["publication"]["status"] == "INACTIVE"
    assert world.shown() == {str(link.offer_id): ("shop1", OfferAction.HOLD, None)}

    world.publisher.handle(stock_set(3, minutes=1))

    assert world.patches() == [
        (link.offer_id, {"stock": {"available": 3}, "publication": {"status": "ACTIVE"}})
    ]
    assert world.link().status is LinkStatus.PUBLISHED


def test_sold_out_and_back_only_moves_the_link_status_the_propagator_does_the_calls() -> None:
    world = LedgerWorld(accounts=("shop1",))
    world.publisher.handle(upsert(stock=5))
    world.publisher.handle(stock_set(0, minutes=1))
    assert world.link().status is LinkStatus.ENDED
    assert world.emitted.sent[-1][0].offers[0].action is OfferAction.END

    world.publisher.handle(stock_set(4, minutes=2))
    assert world.link().status is LinkStatus.PUBLISHED
    assert world.patches() == []
    pushed = [[(t.action, t.quantity) for t in view.offers] for view, _ in world.emitted.sent]
    assert pushed == [[(OfferAction.END, 0)], [(OfferAction.SET, 4)]]


def test_a_deleted_product_is_unlinked_so_no_stock_is_pushed_to_its_ended_offers() -> None:
    world = LedgerWorld()
    world.publisher.handle(upsert(stock=5))
    world.publisher.handle(
        ProductDelete(delivery_id="del", occurred_at=T0 + timedelta(minutes=1), sku="SONY")
    )

    assert world.shown() == {}
    world.publisher.handle(stock_set(6, minutes=2))
    assert world.emitted.sent == []  # nothing linked: nothing to push


def test_a_ledger_without_its_stock_changes_hook_is_refused() -> None:
    world = LedgerWorld()
    with pytest.raises(TypeError, match="stock_changes"):
        Context(  # type: ignore[call-arg]
            catalog=world.catalog,
            mappings=world.mappings,
            changes=world.changes,
            accounts=FakeAccounts(world.allegro),
            ledger=world.ledger,
        )
