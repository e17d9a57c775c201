"""The publishing use case with in-memory ports: what reaches Allegro, what is stored, what is retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.adapters.allegro.offers import offer_patch_body
from allegro_sync.contracts.allegro import CategorySuggestion
from allegro_sync.contracts.allegro_errors import (
    AllegroConflict,
    AllegroError,
    AllegroErrorDetail,
    AllegroNotFound,
    AllegroOperationPending,
    AllegroRateLimited,
    AllegroServerError,
    AllegroUnavailable,
    AllegroValidationError,
)
from allegro_sync.contracts.catalog import (
    CategoryMapping,
    LinkStatus,
    OfferLink,
    Outcome,
    ParameterMapping,
    StoredMapping,
)
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, StockSet
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.services.catalog import status_lines, suggest_mappings
from allegro_sync.services.publishing import Context, OfferSettings, Publisher, RetryLater, stock_patch
from allegro_sync.services.stock import StockLedger
from tests.fixtures.changes import FakeChangeLog
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.fixtures.products import product_upsert
from tests.unit.catalog.fakes import (
    FakeAccounts,
    FakeAllegro,
    FakeCatalog,
    FakeMappings,
    RecordingStockChanges,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SONY_PRODUCT = "6f4e2a1c-0b8d-4c4e-9f1a-1a2b3c4d5e01"


def upsert(sku: str = "SONY", *, minutes: int = 0, **changes: Any) -> ProductUpsert:
    page = {"description_html": '<p>Cisza.</p><img src="https://shop.example.pl/b.jpg">',
            "image_urls": ["https://shop.example.pl/a.jpg"]}  # fmt: skip
    return product_upsert(sku, minutes=minutes, **{**page, **changes})


class World:
    def __init__(self, accounts: tuple[str, ...] = ("shop1",), settings: OfferSettings | None = None) -> None:
        self.catalog = FakeCatalog()
        self.mappings = FakeMappings(
            mappings=[
                StoredMapping(
                    mapping=CategoryMapping(
                        shop_path=["Elektronika", "Słuchawki"], allegro_category_id="101", approved=True
                    )
                ),
                StoredMapping(
                    mapping=CategoryMapping(
                        shop_path=["Dom", "Czajniki"],
                        allegro_category_id="201",
                        approved=True,
                        parameters=[ParameterMapping(parameter_id="11323", constant="Nowy")],
                    )
                ),
            ],
            rules=[ScopedRule(rule=PricingRule(name="plus 20", markup_amount=Decimal(20)))],
        )
        self.changes = FakeChangeLog()
        # Allegro's offer ids are unique across sellers: each account's fake numbers from its own base.
        self.allegro = {
            name: FakeAllegro(first_offer_id=7700000000 + 100 * index) for index, name in enumerate(accounts)
        }
        self.seconds = 0.0
        self.repo = InMemoryLedgerRepository()
        self.ledger = StockLedger(self.repo, sleep=lambda _: None)
        self.emitted = RecordingStockChanges()  # what the stock propagator is asked to push
        self.publisher = Publisher(
            Context(
                catalog=self.catalog,
                mappings=self.mappings,
                changes=self.changes,
                accounts=FakeAccounts(self.allegro),
                ledger=self.ledger,
                stock_changes=self.emitted,
                settings=settings or OfferSettings(),
                now=lambda: T0,
                clock=lambda: self.seconds,
            )
        )

    def link(self, sku: str = "SONY", account: str = "shop1") -> OfferLink:
        link = self.catalog.link(sku, account)
        assert link is not None
        return link

    @property
    def api(self) -> FakeAllegro:
        return self.allegro["shop1"]


def test_a_new_product_is_created_with_the_rule_price_the_sku_and_gpsr_data() -> None:
    settings = OfferSettings(
        responsible_producer={"type": "NAME", "name": "Sony Europe"},
        safety_information="Trzymać z dala od wody.",
        offer_defaults={"delivery": {"shippingRates": {"name": "Standard"}}},
    )
    world = World(settings=settings)

    report = world.publisher.handle(upsert())

    assert report.links == {"shop1": LinkStatus.PUBLISHED}
    (body,) = world.api.offers.values()
    assert body["external"] == {"id": "SONY"}
    assert body["sellingMode"]["price"] == {"amount": "120.00", "currency": "PLN"}
    assert body["publication"] == {"status": "ACTIVE"}
    assert body["productSet"][0]["product"] == {"id": SONY_PRODUCT}
    assert body["productSet"][0]["responsibleProducer"] == {"type": "NAME", "name": "Sony Europe"}
    assert body["productSet"][0]["safetyInformation"] == {
        "type": "TEXT",
        "description": "Trzymać z dala od wody.",
    }
    assert body["delivery"] == {"shippingRates": {"name": "Standard"}}
    assert body["parameters"] == [{"id": "11323", "valuesIds": ["11323_1"]}]
    assert len(body["images"]) == 2
    assert world.changes.changes[0].action == "create"


def test_zero_stock_creates_an_inactive_offer_and_says_why() -> None:
    world = World()

    world.publisher.handle(upsert(stock=0))

    (body,) = world.api.offers.values()
    assert body["publication"] == {"status": "INACTIVE"}
    link = world.link()
    assert link.status is LinkStatus.WAITING
    assert link.reasons[0].startswith("stock is 0 in the shop")


def test_a_product_without_ean_or_catalogue_match_is_sent_as_a_full_product_definition() -> None:
    world = World()

    world.publisher.handle(
        upsert(ean=None, attributes={"Stan": "Nowy", "Typ słuchawek": "douszne", "Marka": "Sony"})
    )

    (body,) = world.api.offers.values()
    product = body["productSet"][0]["product"]
    assert product["category"] == {"id": "101"}
    assert {"id": "219", "valuesIds": ["219_2"]} in product["parameters"]  # describes the product
    assert {"id": "248811", "values": ["Sony"]} in product["parameters"]
    assert body["parameters"] == [{"id": "11323", "valuesIds": ["11323_1"]}]  # describes the offer
    assert product["images"] == body["images"]
    assert "search_products" not in world.api.names()


def test_a_stale_event_is_ignored_without_calling_allegro() -> None:
    world = World()
    world.publisher.handle(upsert(minutes=10))
    calls = len(world.api.calls)

    report = world.publisher.handle(StockSet(delivery_id="old", occurred_at=T0, sku="SONY", stock=0))

    assert report.outcome is Outcome.STALE
    assert len(world.api.calls) == calls
    product = world.catalog.product("SONY")
    assert product is not None
    assert product.stock == 5


def test_a_redelivered_event_does_nothing_twice() -> None:
    world = World()
    event = upsert()
    world.publisher.handle(event)
    calls = len(world.api.calls)

    world.publisher.handle(event)

    assert len(world.api.calls) == calls
    assert len(world.api.offers) == 1


def test_an_edit_saved_in_the_same_second_as_the_last_still_reaches_allegro() -> None:
    """WooCommerce dates a product to the second: an edit saved in the same second as the one before it
    carries the same order key; its content is stored, so it must reach the offer too, not pass for a
    redelivery (the offer would keep the first edit while the catalogue holds the second)."""
    world = World()
    world.publisher.handle(upsert())
    edit = upsert(price=Decimal("150.00")).model_copy(update={"delivery_id": "same-second-edit"})

    world.publisher.handle(edit)

    patches = [arg for name, arg in world.api.calls if name == "patch_product_offer"]
    assert [body for _, body in patches] == [
        {"sellingMode": {"price": {"amount": "170.00", "currency": "PLN"}}}
    ]
    stored = world.catalog.product("SONY")
    assert stored is not None
    assert stored.price == Decimal("150.00")


def test_an_offer_created_before_a_crash_is_adopted_by_its_sku_not_created_again() -> None:
    world = World()
    world.api.crash_after_create = True
    with pytest.raises(RetryLater):
        world.publisher.handle(upsert())
    assert world.link().creating_since  # the interrupted create is remembered
    created = next(iter(world.api.offers))

    world.publisher.handle(upsert())  # SQS delivers the event again

    assert world.api.names().count("create_product_offer") == 1
    assert world.api.names().count("list_offers") == 1
    link = world.link()
    assert (link.offer_id, link.status, link.creating_since) == (created, LinkStatus.PUBLISHED, "")
    patched = [arg for name, arg in world.api.calls if name == "patch_product_offer"]
    assert patched[0][0] == created


def test_a_first_delivery_that_died_after_allegro_created_the_offer_is_adopted_on_redelivery() -> None:
    world = World()
    world.api.crash_after_create = True
    with pytest.raises(RetryLater):
        world.publisher.handle(upsert(), delivery=1)  # no "creating" mark written on a first delivery
    created = next(iter(world.api.offers))

    world.publisher.handle(upsert(), delivery=2)  # SQS's redelivery looks the offer up by its SKU

    assert world.api.names().count("create_product_offer") == 1
    assert world.api.names().count("list_offers") == 1
    link = world.link()
    assert (link.offer_id, link.status, link.creating_since) == (created, LinkStatus.PUBLISHED, "")


def test_a_redelivery_marks_the_link_before_looking_so_a_replay_from_the_dlq_looks_too() -> None:
    world = World()
    world.api.crash_after_create = True
    with pytest.raises(RetryLater):
        world.publisher.handle(upsert(), delivery=1)
    # Allegro down: the redelivery fails before it finds the offer
    world.api.fail["list_offers"] = AllegroUnavailable("503")
    with pytest.raises(RetryLater):
        world.publisher.handle(upsert(), delivery=2)
    assert world.link().creating_since  # a DLQ replay (receive count 1 again) still looks first

    world.publisher.handle(upsert(), delivery=1)

    assert world.api.names().count("create_product_offer") == 1


def test_a_first_delivery_publishes_with_one_link_write_fewer() -> None:
    marked, unmarked = World(), World()
    marked.publisher.handle(upsert())
    unmarked.publisher.handle(upsert(), delivery=1)
    assert unmarked.catalog.link_writes == marked.catalog.link_writes - 1
    assert unmarked.link().offer_id is not None


def test_a_batch_of_new_products_looks_its_links_up_once_and_reads_an_existing_one_fresh() -> None:
    world = World()
    world.publisher.handle(upsert(sku="OLD"))  # already published before the batch
    reads = world.catalog.link_reads

    with world.publisher.batch(["OLD", "SONY"]):
        world.publisher.handle(upsert(), delivery=1)  # new: no read of its own
        world.publisher.handle(upsert(minutes=1), delivery=1)  # the same SKU again: its new link, read
        world.publisher.handle(upsert(sku="OLD", minutes=1), delivery=1)  # existed: read fresh

    assert world.catalog.link_reads - reads == 2  # SONY's second event and OLD, not SONY's first
    assert world.link().offer_id is not None
    assert world.api.names().count("create_product_offer") == 2  # OLD before the batch, SONY once


def test_a_first_publication_does_not_search_for_an_earlier_copy() -> None:
    world = World()

    world.publisher.handle(upsert())

    assert world.api.names() == [
        "search_products",
        "get_category_parameters",
        "upload_image",
        "upload_image",
        "create_product_offer",
    ]
    assert world.link().creating_since == ""


def test_an_unchanged_product_sends_nothing_and_a_changed_one_only_its_change() -> None:
    world = World()
    world.publisher.handle(upsert())
    world.publisher.handle(upsert(minutes=1))  # same content, newer event
    assert "patch_product_offer" not in world.api.names()

    world.publisher.handle(upsert(minutes=2, price=Decimal("150.00")))

    patches = [arg for name, arg in world.api.calls if name == "patch_product_offer"]
    assert [body for _, body in patches] == [
        {"sellingMode": {"price": {"amount": "170.00", "currency": "PLN"}}}
    ]
    assert world.changes.changes[-1].changes == {"price": {"old": "120.00", "new": "170.00"}}
    assert world.api.names().count("upload_image") == 2  # images were not uploaded again


def test_a_changed_description_reuses_the_uploaded_images() -> None:
    world = World()
    world.publisher.handle(upsert())

    world.publisher.handle(
        upsert(minutes=1, description_html='<p>Nowy opis.</p><img src="https://shop.example.pl/b.jpg">')
    )

    assert world.api.names().count("upload_image") == 2
    patches = [arg[1] for name, arg in world.api.calls if name == "patch_product_offer"]
    assert [set(body) for body in patches] == [{"description"}]


def test_an_emptied_description_keeps_the_last_one_on_allegro_instead_of_failing() -> None:
    world = World()
    world.publisher.handle(upsert())

    world.publisher.handle(upsert(minutes=1, description_html="<p>   </p>", price=Decimal("150.00")))

    patches = [arg[1] for name, arg in world.api.calls if name == "patch_product_offer"]
    assert patches, "the price change must still reach Allegro"
    assert all("description" not in body for body in patches)  # Allegro refuses zero sections


def test_an_ean_matching_several_products_waits_with_the_candidates() -> None:
    world = World()

    world.publisher.handle(
        upsert(
            "KETTLE",
            ean="8710103760139",
            name="Czajnik Philips HD9350 stalowy",
            category_path=["Dom", "Czajniki"],
        )
    )

    link = world.link("KETTLE")
    assert link.status is LinkStatus.WAITING
    assert len(link.candidates) == 2
    assert "create_product_offer" not in world.api.names()


def test_missing_required_parameters_are_named_and_nothing_is_sent() -> None:
    world = World()

    world.publisher.handle(upsert(ean=None, attributes={}))

    link = world.link()
    assert link.status is LinkStatus.WAITING
    assert "Stan (11323)" in link.reasons[0]
    assert "Typ słuchawek (219)" in link.reasons[0]
    assert "create_product_offer" not in world.api.names()


def test_an_unapproved_mapping_is_not_used() -> None:
    world = World()
    world.mappings.mappings = [
        StoredMapping(
            mapping=CategoryMapping(shop_path=["Elektronika"], allegro_category_id="101", approved=False)
        )
    ]

    world.publisher.handle(upsert())

    assert world.link().reasons == (
        "no approved category mapping for 'Elektronika > Słuchawki'; run `allegro-sync mappings suggest`",
    )


def test_an_account_specific_mapping_wins_over_the_shared_one() -> None:
    world = World(accounts=("shop1", "shop2"))
    world.mappings.mappings.append(
        StoredMapping(
            mapping=CategoryMapping(
                shop_path=["Elektronika", "Słuchawki"], allegro_category_id="201", approved=True
            ),
            account="shop2",
        )
    )

    world.publisher.handle(
        upsert(ean=None, attributes={"Stan": "Nowy", "Typ słuchawek": "douszne", "Moc": "2400"})
    )

    assert world.allegro["shop1"].offers.popitem()[1]["category"] == {"id": "101"}
    assert world.allegro["shop2"].offers.popitem()[1]["category"] == {"id": "201"}


def test_a_422_is_stored_readably_and_the_event_is_done() -> None:
    world = World()
    world.api.fail["create_product_offer"] = AllegroValidationError(
        422,
        [
            AllegroErrorDetail(
                code="PARAMETER_MISMATCH",
                message="Invalid value",
                user_message="Parametr Waga musi mieć wartość od 1 do 2000",
                path="parameters[1]",
                metadata={"parameterId": "4401"},
            )
        ],
        trace_id="trace-1",
    )

    report = world.publisher.handle(upsert())

    assert report.links == {"shop1": LinkStatus.FAILED}
    link = world.link()
    assert link.reasons == (
        "Parametr Waga musi mieć wartość od 1 do 2000 (at parameters[1]) [parameterId=4401]",
    )
    assert link.last_error is not None
    assert link.last_error["trace_id"] == "trace-1"
    assert link.offer_id is None
    assert world.changes.changes == []


def test_a_rate_limit_fails_the_event_for_retry_and_the_healthy_account_is_not_redone() -> None:
    world = World(accounts=("shop1", "shop2"))
    world.allegro["shop2"].fail["create_product_offer"] = AllegroRateLimited(1e10)
    event = upsert()

    with pytest.raises(RetryLater) as raised:
        world.publisher.handle(event)

    assert set(raised.value.failures) == {"shop2"}
    unfinished = world.catalog.link("SONY", "shop2")
    assert unfinished is not None
    assert unfinished.offer_id is None
    world.publisher.handle(event)  # SQS delivers it again
    assert len(world.allegro["shop1"].offers) == 1
    assert len(world.allegro["shop2"].offers) == 1


def test_an_offer_still_processing_after_the_wait_keeps_its_id() -> None:
    world = World()
    world.api.fail["create_product_offer"] = AllegroOperationPending("still running", offer_id="999")

    world.publisher.handle(upsert())

    link = world.link()
    assert (link.offer_id, link.status) == ("999", LinkStatus.PUBLISHED)
    assert "still processing" in link.reasons[0]


def test_an_archived_offer_is_replaced_by_a_new_one() -> None:
    world = World()
    world.publisher.handle(upsert())
    first = world.link().offer_id
    world.api.fail["patch_product_offer"] = AllegroNotFound(404, [AllegroErrorDetail(code="NOT_FOUND")])

    world.publisher.handle(upsert(minutes=1, name="Słuchawki Sony WH-1000XM5 czarne nowe"))

    assert world.link().offer_id not in (None, first)
    assert world.api.names().count("create_product_offer") == 2


def test_a_price_event_uses_a_price_command_and_records_the_rule() -> None:
    world = World()
    world.publisher.handle(upsert())

    world.publisher.handle(
        PriceSet(delivery_id="p", occurred_at=T0 + timedelta(minutes=5), sku="SONY", price=Decimal(50))
    )

    (ids, modification) = next(arg for name, arg in world.api.calls if name == "change_price")
    assert ids == [world.link().offer_id]
    assert modification.price is not None
    assert modification.price.amount == "70.00"
    change = world.changes.changes[-1]
    assert (change.action, change.rule) == ("price", "plus 20")
    assert change.changes == {"price": {"old": "120.00", "new": "70.00"}}
    assert world.link().price == "70.00"


def test_a_stock_and_a_price_change_of_one_delivery_both_reach_allegro() -> None:
    # Issue 20 item 3: a WooCommerce variation's delivery (or a generic batch) carries a stock.set and a
    # price.set with the same order key. The stock change moved the link's key to theirs, and the price
    # change was then taken for a redelivery: stored in the catalogue, never sent, no change logged.
    world = World()
    world.publisher.handle(upsert())
    when = T0 + timedelta(minutes=5)

    world.publisher.handle(StockSet(delivery_id="v", occurred_at=when, sku="SONY", stock=3))
    world.publisher.handle(PriceSet(delivery_id="v", occurred_at=when, sku="SONY", price=Decimal(50)))

    assert [arg[1].price.amount for name, arg in world.api.calls if name == "change_price"] == ["70.00"]
    assert world.link().price == "70.00"
    assert world.changes.changes[-1].changes == {"price": {"old": "120.00", "new": "70.00"}}
    world.publisher.handle(PriceSet(delivery_id="v", occurred_at=when, sku="SONY", price=Decimal(50)))
    assert [name for name, _ in world.api.calls].count("change_price") == 1  # a redelivery changes nothing


def test_a_refused_price_marks_the_link_failed_with_allegros_reason() -> None:
    world = World()
    world.publisher.handle(upsert())
    world.api.price_result = "FAIL"

    world.publisher.handle(
        PriceSet(delivery_id="p", occurred_at=T0 + timedelta(minutes=5), sku="SONY", price=Decimal(50))
    )

    link = world.link()
    assert link.status is LinkStatus.FAILED
    assert "price too low" in link.reasons[0]
    assert link.price == "120.00"


def test_a_price_of_0_or_a_mistyped_ean_publishes_nothing_and_says_which_field() -> None:
    world = World()

    world.publisher.handle(upsert("FREE", price=Decimal(0)))
    world.publisher.handle(upsert("TYPO", ean="5901234123458"))

    assert world.api.offers == {}
    assert "create_product_offer" not in world.api.names()
    free, typo = world.link("FREE"), world.link("TYPO")
    assert (free.status, typo.status) == (LinkStatus.WAITING, LinkStatus.WAITING)
    assert free.reasons[0].startswith("refused, price: 0.00 is not a selling price")
    assert typo.reasons == (
        "refused, ean: 5901234123458 has a wrong check digit (the last digit should be 7): a mistyped EAN "
        "would link the offer to another product; fix it in the shop or leave it empty",
    )


def test_a_shop_price_of_0_leaves_a_live_offer_at_its_price_and_says_why() -> None:
    world = World()
    world.publisher.handle(upsert())

    world.publisher.handle(
        PriceSet(delivery_id="p0", occurred_at=T0 + timedelta(minutes=5), sku="SONY", price=Decimal(0))
    )
    world.publisher.handle(upsert(minutes=6, price=Decimal(0)))

    assert "change_price" not in world.api.names()
    (body,) = world.api.offers.values()
    assert body["sellingMode"]["price"]["amount"] == "120.00"
    link = world.link()
    assert (link.status, link.price) == (LinkStatus.PUBLISHED, "120.00")
    assert link.reasons[0].startswith("refused, price: 0.00 is not a selling price")


def test_what_allegros_limits_cut_stays_a_warning_on_the_product_after_every_update() -> None:
    world = World()
    long_name = "Czajnik bardzo długi ze stali nierdzewnej " + "z filtrem kamienia i podświetleniem " * 5
    description = (
        "<p>" + "Bardzo długi opis czajnika. " * 5000 + "</p>"
    )  # ~140 KB, Allegro keeps 40,000 bytes

    world.publisher.handle(upsert(name=long_name, description_html=description))
    created = world.link()
    world.publisher.handle(upsert(minutes=1, name=long_name, description_html=description, price=Decimal(90)))
    updated = world.link()

    for link in (created, updated):
        assert link.status is LinkStatus.PUBLISHED
        title, cut = [r for r in link.reasons if r.startswith("shortened: ")]
        assert title.startswith("shortened: title cut to Allegro's 75 characters, 'Czajnik bardzo długi")
        assert "; left out: '" in title
        assert cut.startswith("shortened: The description exceeds Allegro's 40,000 bytes; ")
    (body,) = world.api.offers.values()
    assert len(body["name"]) <= 75


def test_stock_policy() -> None:
    assert stock_patch(0, LinkStatus.PUBLISHED)[1] is LinkStatus.ENDED
    assert offer_patch_body(stock_patch(3, LinkStatus.PUBLISHED)[0]) == {"stock": {"available": 3}}
    assert offer_patch_body(stock_patch(3, LinkStatus.ENDED)[0]) == {
        "stock": {"available": 3},
        "publication": {"status": "ACTIVE"},
    }


def test_a_deleted_product_ends_its_offers_once() -> None:
    world = World()
    world.publisher.handle(upsert())
    delete = ProductDelete(delivery_id="x", occurred_at=T0 + timedelta(minutes=3), sku="SONY")

    world.publisher.handle(delete)
    world.publisher.handle(delete.model_copy(update={"occurred_at": T0 + timedelta(minutes=4)}))

    ends = [a for n, a in world.api.calls if n == "patch_product_offer"]
    assert ends == [(world.link().offer_id, {"publication": {"status": "ENDED"}})]
    assert world.link().status is LinkStatus.ENDED


def test_events_for_a_product_never_published_change_nothing_on_allegro() -> None:
    world = World()
    world.mappings.mappings = []
    world.publisher.handle(upsert())

    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=1), sku="SONY", stock=9)
    )
    world.publisher.handle(ProductDelete(delivery_id="d", occurred_at=T0 + timedelta(minutes=2), sku="SONY"))

    assert "patch_product_offer" not in world.api.names()
    product = world.catalog.product("SONY")
    assert product is not None
    assert (product.deleted, world.ledger.shop_level("SONY")) == (True, 9)


def test_republish_after_a_mapping_is_approved_publishes_the_stored_product() -> None:
    world = World()
    mappings = world.mappings.mappings
    world.mappings.mappings = []
    world.publisher.handle(upsert())
    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=1), sku="SONY", stock=9)
    )
    world.mappings.mappings = mappings
    world.seconds += 60  # the seller approves a mapping; the worker's short cache has expired

    report = world.publisher.republish("SONY")

    assert report.links == {"shop1": LinkStatus.PUBLISHED}
    (body,) = world.api.offers.values()
    assert body["stock"] == {"available": 9, "unit": "UNIT"}


def test_republishing_an_unknown_sku_says_so() -> None:
    with pytest.raises(LookupError, match="no product 'NOPE'"):
        World().publisher.republish("NOPE")


def test_the_seller_picks_one_of_the_matching_products_and_it_is_published() -> None:
    world = World()
    kettle = upsert(
        "KETTLE",
        ean="8710103760139",
        name="Czajnik Philips HD9350 stalowy",
        category_path=["Dom", "Czajniki"],
    )
    world.publisher.handle(kettle)
    chosen = world.link("KETTLE").candidates[1]["id"]

    report = world.publisher.link_product("KETTLE", chosen)

    assert report.links == {"shop1": LinkStatus.PUBLISHED}
    (body,) = world.api.offers.values()
    assert body["productSet"][0]["product"] == {"id": chosen}
    assert world.link("KETTLE").candidates == ()


def test_an_archived_offer_is_recreated_for_the_stock_propagator() -> None:
    world = World(accounts=("shop1", "shop2"))
    world.publisher.handle(upsert())
    old = world.link().offer_id
    assert old is not None

    new = world.publisher.recreate("SONY", "shop1", old)

    assert new not in (None, old)
    assert world.link().offer_id == new
    assert len(world.allegro["shop2"].offers) == 1  # the other account is left alone
    assert world.publisher.recreate("SONY", "shop1", old) == new  # asked again: already replaced


def test_an_upsert_without_stock_keeps_the_known_level_and_never_ends_the_offer() -> None:
    world = World()
    world.publisher.handle(upsert())  # stock 5
    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=1), sku="SONY", stock=8)
    )

    world.publisher.handle(upsert(minutes=2, stock=None, name="Słuchawki Sony WH-1000XM5 czarne nowa wersja"))

    patches = [arg[1] for name, arg in world.api.calls if name == "patch_product_offer"]
    assert patches[-1] == {"name": "Słuchawki Sony WH-1000XM5 czarne nowa wersja"}
    product = world.catalog.product("SONY")
    assert product is not None
    assert world.ledger.shop_level("SONY") == 8  # the one record of the shop's level (issue 21)
    assert world.link().status is LinkStatus.PUBLISHED


def test_a_new_product_of_unknown_stock_is_created_inactive() -> None:
    world = World()

    world.publisher.handle(upsert(stock=None))

    (body,) = world.api.offers.values()
    assert (body["publication"], body["stock"]["available"]) == ({"status": "INACTIVE"}, 0)
    assert "has not said how many" in world.link().reasons[0]


def test_price_and_stock_of_a_deleted_product_leave_its_ended_offer_alone() -> None:
    world = World()
    world.publisher.handle(upsert())
    world.publisher.handle(ProductDelete(delivery_id="x", occurred_at=T0 + timedelta(minutes=1), sku="SONY"))
    calls = len(world.api.calls)

    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=2), sku="SONY", stock=3)
    )
    world.publisher.handle(
        PriceSet(delivery_id="p", occurred_at=T0 + timedelta(minutes=3), sku="SONY", price=Decimal(1))
    )

    assert len(world.api.calls) == calls
    assert world.link().status is LinkStatus.ENDED


def test_the_product_status_says_in_words_where_each_account_stands() -> None:
    world = World(accounts=("shop1", "shop2"))
    world.mappings.mappings[0] = StoredMapping(
        mapping=world.mappings.mappings[0].mapping, account="shop1"
    )  # only shop1 has a mapping for headphones
    world.publisher.handle(upsert())

    lines = status_lines(world.catalog.status("SONY"), world.changes.history("SONY"))

    text = "\n".join(lines)
    assert lines[0] == "SONY: Słuchawki bezprzewodowe Sony WH-1000XM5 czarne"
    assert "shop1: PUBLISHED (offer 7700000000, price 120.00)" in text
    assert "shop2: WAITING (no offer)" in text
    assert "no approved category mapping for 'Elektronika > Słuchawki'" in text
    assert (
        "create offer 7700000000: name 'Słuchawki bezprzewodowe Sony WH-1000XM5 czarne', category 101, "
        "price 120.00, stock 5" in text
    )
    assert "None" not in text
    assert status_lines(world.catalog.status("NOPE")) == [
        "unknown SKU: the shop has not sent this product yet"
    ]


@pytest.mark.parametrize(
    "error",
    [
        AllegroConflict(409, [AllegroErrorDetail(code="OPERATION_IN_PROGRESS")]),
        AllegroServerError(503, [AllegroErrorDetail(code="UNAVAILABLE")]),
        AllegroUnavailable("timeout"),
        AllegroOperationPending("no id yet"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_failures_of_an_edit_are_retried_and_change_nothing(error: AllegroError) -> None:
    world = World()
    world.publisher.handle(upsert())
    before = world.link()
    world.api.fail["patch_product_offer"] = error

    with pytest.raises(RetryLater):
        world.publisher.handle(upsert(minutes=1, price=Decimal("300.00")))

    assert world.link() == before
    assert [c.action for c in world.changes.changes] == ["create"]


def test_a_batch_reads_mappings_and_pricing_rules_once_and_sees_changes_after_the_cache_expires() -> None:
    world = World()
    reads = {"mappings": 0, "rules": 0}
    category_mappings, pricing_rules = world.mappings.category_mappings, world.mappings.pricing_rules

    def count_mappings(account: str) -> list[StoredMapping]:
        reads["mappings"] += 1
        return category_mappings(account)

    def count_rules() -> list[ScopedRule]:
        reads["rules"] += 1
        return pricing_rules()

    world.mappings.category_mappings = count_mappings  # type: ignore[method-assign]
    world.mappings.pricing_rules = count_rules  # type: ignore[method-assign]
    for index in range(5):
        world.publisher.handle(upsert(f"SKU-{index}"))
    assert reads == {"mappings": 1, "rules": 1}

    world.seconds += 6
    world.publisher.handle(upsert("SKU-9"))
    assert reads == {"mappings": 2, "rules": 2}


class Suggester:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def matching_categories(self, name: str) -> list[CategorySuggestion]:
        self.asked.append(name)
        audio = CategorySuggestion(
            id="10", name="Sprzęt audio", parent=CategorySuggestion(id="1", name="Elektronika")
        )
        return [
            CategorySuggestion(id="101", name="Słuchawki", parent=audio),
            CategorySuggestion(id="201", name="Czajniki elektryczne"),
        ]


def test_suggestions_cover_each_unmapped_shop_category_once_and_never_replace_a_mapping() -> None:
    existing = World().mappings.mappings  # Elektronika > Słuchawki and Dom > Czajniki are mapped
    products = [
        upsert("A", category_path=["Audio", "Słuchawki"], name="Słuchawki JBL Tune 510BT niebieskie"),
        upsert("B", category_path=["audio", "słuchawki "], name="Słuchawki Sony"),
        upsert("C", category_path=["Elektronika", "Słuchawki"]),
    ]
    allegro = Suggester()

    suggested = suggest_mappings(products, existing, allegro, at="2026-11-27T12:00:00+00:00")

    assert allegro.asked == ["Słuchawki JBL Tune 510BT niebieskie"]
    (only,) = suggested
    assert only.status == "PENDING"
    assert (only.mapping.shop_path, only.mapping.allegro_category_id) == (["Audio", "Słuchawki"], "101")
    assert only.category_path == ("1", "10", "101")
    assert only.category_name == "Elektronika > Sprzęt audio > Słuchawki"
    assert "also: 201 Czajniki elektryczne" in only.note


def test_a_product_sent_after_its_newer_stock_change_is_published_with_that_stock() -> None:
    world = World()
    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=5), sku="SONY", stock=3)
    )

    report = world.publisher.handle(upsert(stock=9))  # occurred at T0: older than the stock change

    assert report.links == {"shop1": LinkStatus.PUBLISHED}
    (body,) = world.api.offers.values()
    assert body["stock"]["available"] == 3
    assert body["name"] == "Słuchawki bezprzewodowe Sony WH-1000XM5 czarne"
    product = world.catalog.product("SONY")
    assert product is not None
    assert (product.stock, product.upsert is not None) == (3, True)


def test_a_late_upsert_never_overwrites_newer_content_nor_revives_a_deleted_product() -> None:
    world = World()
    world.publisher.handle(upsert(minutes=10, name="Słuchawki Sony WH-1000XM5 czarne nowsze"))
    calls = len(world.api.calls)

    assert world.publisher.handle(upsert(minutes=1)).outcome is Outcome.STALE
    assert len(world.api.calls) == calls

    world.publisher.handle(ProductDelete(delivery_id="x", occurred_at=T0 + timedelta(minutes=20), sku="SONY"))
    assert world.publisher.handle(upsert(minutes=15)).outcome is Outcome.STALE
    assert world.link().status is LinkStatus.ENDED


def test_a_late_upsert_brings_its_price_unless_a_price_change_came_after_the_previous_upsert() -> None:
    world = World()
    world.publisher.handle(upsert(ean=None, attributes={}))  # t0, 100.00, waits (parameters missing)
    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=5), sku="SONY", stock=3)
    )

    world.publisher.handle(upsert(minutes=2, price=Decimal("200.00")))  # late, but newer than the t0 upsert

    (body,) = world.api.offers.values()
    assert body["sellingMode"]["price"]["amount"] == "220.00"
    assert body["stock"]["available"] == 3


def test_content_older_than_a_sell_out_but_newer_than_the_last_upsert_still_reaches_the_offer() -> None:
    """A stock change no longer moves the product's order key nor the link's applied key (issue 21): the
    ledger orders levels, the product item orders content, price and deletion."""
    world = World()
    world.publisher.handle(upsert())  # T0, stock 5: published
    world.publisher.handle(
        StockSet(delivery_id="s", occurred_at=T0 + timedelta(minutes=5), sku="SONY", stock=0)
    )
    assert world.link().status is LinkStatus.ENDED

    world.publisher.handle(upsert(minutes=2, name="Słuchawki Sony WH-1000XM5 czarne, etui"))  # stock 5

    (body,) = world.api.offers.values()
    assert body["name"] == "Słuchawki Sony WH-1000XM5 czarne, etui"
    assert world.link().status is LinkStatus.ENDED  # the older level of the upsert does not restock it
    assert world.ledger.shop_level("SONY") == 0
