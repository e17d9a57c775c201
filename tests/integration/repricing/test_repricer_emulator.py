"""A repricing round against the Allegro emulator (spec-checked) with its state in moto: Allegro's rule with
our range, a feed-driven run from S3 with garbage rows, the cool-down, the circuit breaker, `why`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import httpx
import pytest
from typer.testing import CliRunner

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.competitor_feed import CompetitorFeed
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
from allegro_sync.adapters.dynamodb.repricing import CatalogFacts, DynamoRepricingStore
from allegro_sync.bootstrap import Application
from allegro_sync.cli.main import app
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredProduct
from allegro_sync.domain.repricing import Action, RepricingSettings, Strategy
from allegro_sync.emulator import Emulator
from allegro_sync.services.repricing import Repricer
from allegro_sync.settings import Settings
from allegro_sync.topology import table_env
from tests.fixtures.aws import create_tables
from tests.fixtures.products import product_upsert
from tests.fixtures.stack import seller_client

pytestmark = pytest.mark.integration

ACCOUNT = "sklep-ceny"
SONY_EAN = "4548736132610"  # category 101: fee 10 % + 1.00 in the emulator
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TABLES = ("control", "mappings", "catalog", "changes", "ledger")


@dataclass
class World:
    emulator: Emulator
    client: AllegroClient
    store: DynamoRepricingStore
    catalog: DynamoCatalog
    changes: DynamoChangeLog
    clock: list[datetime]
    env: dict[str, str]  # the repricer function's tables, as its environment names them

    def application(self) -> Application:
        """The repricer as the scheduled function builds it from its environment."""
        return Application(Settings.from_environ(self.env))

    def repricer(self, feed: CompetitorFeed | None = None, max_commands: int = 600) -> Repricer:
        return Repricer(
            self.store,
            CatalogFacts(self.catalog),
            self.changes,
            feed=feed,
            clock=lambda: self.clock[0],
            max_commands=max_commands,
        )

    def offer(
        self, sku: str, price: str = "1299.00", cost: str | None = "800.00", *, listed_days_ago: int = 60
    ) -> str:
        """An ACTIVE offer; by default listed long enough ago to have a full 30-day sales window."""
        body = {
            "name": "Słuchawki Sony WH-1000XM5 czarne",
            "productSet": [{"product": {"id": SONY_EAN, "idType": "GTIN"}}],
            "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": price, "currency": "PLN"}},
            "stock": {"available": 5, "unit": "UNIT"},
            "external": {"id": sku},
            "images": [],
            "publication": {"status": "ACTIVE"},
        }
        offer_id = self.client.create_product_offer(body).id
        started = self.emulator.marketplace.state.offers[offer_id]
        assert started.started_at is not None
        started.started_at -= timedelta(days=listed_days_ago)
        self.product(sku, price, cost)
        self.catalog.save_link(
            OfferLink(sku=sku, account=ACCOUNT, status=LinkStatus.PUBLISHED, offer_id=offer_id, price=price)
        )
        return offer_id

    def product(self, sku: str, price: str, cost: str | None, version: int = 1) -> None:
        upsert = product_upsert(
            sku, delivery_id=f"d-{sku}-{version}", version=version, name="Słuchawki Sony",
            price=Decimal(price), cost_price=Decimal(cost) if cost else None, stock=None, attributes={},
        )  # fmt: skip
        self.catalog.accept(StoredProduct(sku=sku, order_key=f"{version:020d}", upsert=upsert))

    def price(self, offer_id: str) -> str:
        return str(self.emulator.marketplace.offer(offer_id)["sellingMode"]["price"]["amount"])


@pytest.fixture
def world(aws: None, emulator: Emulator) -> Iterator[World]:
    tables = create_tables(*TABLES)
    emulator.create_seller(ACCOUNT)
    client = seller_client(emulator, ACCOUNT, sleep=emulator.advance, max_wait_seconds=120)
    with client:
        yield World(
            emulator,
            client,
            DynamoRepricingStore(tables["mappings"], tables["control"]),
            DynamoCatalog(tables["catalog"]),
            DynamoChangeLog(tables["changes"]),
            [T0],
            {table_env(name): name for name in TABLES},
        )


def s3_feed(body: str) -> CompetitorFeed:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="ceny", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_object(Bucket="ceny", Key="rivals.csv", Body=body.encode())
    return CompetitorFeed("s3://ceny/rivals.csv", s3=s3)


def test_allegro_rule_is_assigned_with_our_floor_and_ceiling_and_follows_cost_changes(world: World) -> None:
    offer_id = world.offer("SKU-A")
    world.store.put_settings(RepricingSettings(account=ACCOUNT, strategy=Strategy.ALLEGRO))
    repricer = world.repricer()

    report = repricer.run_account(ACCOUNT, world.client)
    assert report.rule_commands == 1
    assigned = world.client.offer_price_automation_rules(offer_id).rules
    assert len(assigned) == 1
    price_range = (assigned[0].configuration or {})["priceRange"]
    floor, ceiling = Decimal(price_range["minPrice"]["amount"]), Decimal(price_range["maxPrice"]["amount"])
    assert ceiling == Decimal("1299.00")  # the list price
    fee = world.client.offer_fee_preview(
        {
            "offer": {
                "name": "x",
                "category": {"id": "101"},
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": str(floor), "currency": "PLN"}},
            }
        }
    )
    real_fee = Decimal(fee.commissions[0]["fee"]["amount"])
    assert floor - real_fee >= Decimal("800.00")  # Allegro's own fee at the floor still leaves the cost
    assert floor - real_fee - Decimal("800.00") < Decimal("0.05")  # and the floor is not padded
    rules = {r.id: r.type for r in world.client.price_automation_rules()}
    assert rules[assigned[0].rule.id] == "FOLLOW_BY_MARKET_MIN_PRICE"

    again = repricer.run_account(ACCOUNT, world.client)
    assert again.rule_commands == 0  # same range: nothing to send

    world.product("SKU-A", "1299.00", "900.00", version=2)  # the cost went up: the range follows
    moved = repricer.run_account(ACCOUNT, world.client)
    assert moved.rule_commands == 1
    new_range = (world.client.offer_price_automation_rules(offer_id).rules[0].configuration or {})[
        "priceRange"
    ]
    assert Decimal(new_range["minPrice"]["amount"]) > floor
    assert [c.action for c in repricer.why(offer_id)] == ["price_rule", "price_rule"]


def test_feed_driven_round_beats_the_lowest_sane_rival_and_skips_garbage(world: World) -> None:
    a = world.offer("SKU-A")
    b = world.offer("SKU-B", cost=None)  # no cost price: never repriced
    own = world.emulator.seller_id(ACCOUNT)
    feed = s3_feed(
        "sku,competitor,price,currency\n"
        "SKU-A,rival-1,1210.00,PLN\n"
        "SKU-A,rival-2,1200.00,PLN\n"
        "SKU-A,rival-3,1250.00,PLN\n"
        "SKU-A,dumper,500.00,PLN\n"  # an outlier far below the others
        f"SKU-A,{own},950.00,PLN\n"  # our own account
        f"SKU-A,{ACCOUNT},940.00,PLN\n"  # our own account by its login
        "SKU-A,rival-4,abc,PLN\n"
        "SKU-A,rival-5,-3,PLN\n"
        "SKU-A,rival-6,1.00,EUR\n"
        "SKU-ZZZ,rival-7,10.00,PLN\n"
        "SKU-B,rival-1,1000.00,PLN\n"
    )
    world.store.put_settings(
        RepricingSettings(account=ACCOUNT, strategy=Strategy.FEED, endings=(Decimal("0.99"),))
    )
    repricer = world.repricer(feed)

    report = repricer.run_account(ACCOUNT, world.client)
    assert world.price(a) == "1199.99"
    assert world.price(b) == "1299.00"
    assert report.price_commands == 1
    assert len(report.feed_skipped) == 4
    assert any("unknown SKU 'SKU-ZZZ'" in s for s in report.feed_skipped)
    by_offer = {d.offer_id: d for d in report.decisions}
    assert by_offer[b].action is Action.SKIP
    assert "no cost price" in by_offer[b].explain()
    history = repricer.why(a)
    assert len(history) == 1
    assert history[0].changes["price"] == {"old": "1299.00", "new": "1199.99"}
    assert "outliers 500.00" in history[0].reason
    assert history[0].rule == "repricing:feed"
    assert repricer.why("SKU-A")[0].offer_id == a

    world.clock[0] = T0 + timedelta(minutes=15)  # next round, a rival dropped: the cool-down holds
    boto3.client("s3").put_object(
        Bucket="ceny", Key="rivals.csv", Body=b"sku,competitor,price\nSKU-A,r,1150.00\n"
    )
    held = repricer.run_account(ACCOUNT, world.client)
    assert world.price(a) == "1199.99"
    assert "cool-down" in {d.offer_id: d for d in held.decisions}[a].explain()
    world.clock[0] = T0 + timedelta(minutes=75)
    repricer.run_account(ACCOUNT, world.client)
    assert world.price(a) == "1149.99"


def test_circuit_breaker_pauses_the_account_and_changes_nothing(world: World) -> None:
    offers = [world.offer(f"SKU-{i}") for i in range(5)]
    rows = "".join(
        f"SKU-{i},r{j},{p}\n" for i, (j, p) in itertools.product(range(5), enumerate(("300", "310", "320")))
    )
    feed = s3_feed("sku,competitor,price\n" + rows)
    world.store.put_settings(
        RepricingSettings(account=ACCOUNT, strategy=Strategy.FEED, max_step_percent=Decimal(50))
    )
    repricer = world.repricer(feed)

    report = repricer.run_account(ACCOUNT, world.client)
    assert report.breaker_tripped
    assert report.applied == 0
    assert all(world.price(o) == "1299.00" for o in offers)
    assert "5 of 5 offers would hit the floor" in report.breaker_reason
    assert world.store.paused_until(ACCOUNT) is not None

    boto3.client("s3").put_object(
        Bucket="ceny", Key="rivals.csv", Body=b"sku,competitor,price\nSKU-0,r,1250.00\n"
    )
    world.clock[0] = T0 + timedelta(minutes=15)
    paused = repricer.run_account(ACCOUNT, world.client)
    assert world.price(offers[0]) == "1299.00"
    assert "paused until" in {d.offer_id: d for d in paused.decisions}[offers[0]].explain()
    world.clock[0] = T0 + timedelta(minutes=61)
    repricer.run_account(ACCOUNT, world.client)
    assert world.price(offers[0]) == "1249.99"


def test_https_feed_and_the_wiring_from_the_environment(world: World) -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"prices": [{"ean": SONY_EAN, "competitor": "rival", "price": "1250.00"}]}
        )

    feed = CompetitorFeed(
        "https://feed.example/ceny.json", http=httpx.Client(transport=httpx.MockTransport(serve))
    )
    result = feed.load(known_skus=frozenset({"SKU-A"}), ean_to_sku={SONY_EAN: "SKU-A"})
    assert [p.price for p in result.prices["SKU-A"]] == [Decimal("1250.00")]
    refused = CompetitorFeed(
        "https://feed.example/x.json",
        http=httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(503))),
    )
    with pytest.raises(RuntimeError, match="HTTP 503"):
        refused.load(known_skus=frozenset(), ean_to_sku={})
    with pytest.raises(ValueError, match="https"):
        CompetitorFeed("http://feed.example/x.json")

    offer_id = world.offer("SKU-A")
    world.store.put_settings(
        RepricingSettings(sku="SKU-A", strategy=Strategy.DEMAND, min_change=Decimal("0.01"))
    )
    repricer = world.application().repricer()  # no REPRICING_FEED_URL: no feed
    assert repricer.owns_price(ACCOUNT, "SKU-A")
    assert not repricer.owns_price(ACCOUNT, "SKU-OTHER")
    report = repricer.run_account(ACCOUNT, world.client, apply=False)  # dry run: plan only
    (decision,) = report.decisions
    assert decision.new_price == Decimal("1260.03")  # 5 in stock, nothing sold: 1299.00 down 3 %
    assert world.price(offer_id) == "1299.00"
    assert repricer.why(offer_id) == []


def test_two_prices_go_in_one_bulk_command_within_a_budget_of_one(world: World) -> None:
    """Issue 16, item 3: two price groups were two FIXED_PRICE commands (the second deferred by a budget of
    one); in a bulk command each offer carries its own price, so one command applies all three. The budget
    deferring the rest: tests/unit/repricing/test_market_prices.py."""
    a, b, c = world.offer("SKU-A"), world.offer("SKU-B"), world.offer("SKU-C")
    feed = s3_feed("sku,competitor,price\nSKU-A,r,1250.00\nSKU-B,r,1250.00\nSKU-C,r,1240.00\n")
    world.store.put_settings(RepricingSettings(account=ACCOUNT, strategy=Strategy.FEED))
    report = world.repricer(feed, max_commands=1).run_account(ACCOUNT, world.client)
    assert (report.price_commands, report.deferred, report.applied) == (1, 0, 3)
    assert [world.price(o) for o in (a, b, c)] == ["1249.99", "1249.99", "1239.99"]
    assert [kind for kind, _ in world.emulator.marketplace.state.commands] == ["bulk"]
    assert world.emulator.violations == []


def test_cli_configure_then_why_shows_the_history(world: World, tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(f'[{{"account": "{ACCOUNT}", "strategy": "feed", "endings": ["0.99"]}}]')
    runner = CliRunner()
    stored = runner.invoke(app, ["prices", "configure", str(settings)], env=world.env)
    assert stored.exit_code == 0, stored.output
    assert f"{ACCOUNT}#*#*" in runner.invoke(app, ["prices", "settings"], env=world.env).output
    offer_id = world.offer("SKU-A")
    world.repricer(s3_feed("sku,competitor,price\nSKU-A,r,1250.00\n")).run_account(ACCOUNT, world.client)

    shown = runner.invoke(app, ["prices", "why", offer_id], env={**world.env, "COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "1299.00 -> 1249.99" in shown.output
    assert "repricing:feed" in shown.output
    unknown = runner.invoke(app, ["prices", "why", "NO-SUCH-SKU"], env=world.env)
    assert unknown.exit_code == 1
    assert "no repricing changes recorded" in unknown.output


def test_demand_waits_for_an_offer_listed_today_and_prices_why_says_so(world: World) -> None:
    offer_id = world.offer("SKU-NEW", listed_days_ago=0)  # 5 in stock, nothing sold: but only just listed
    world.store.put_settings(
        RepricingSettings(sku="SKU-NEW", strategy=Strategy.DEMAND, min_change=Decimal("0.01"))
    )

    report = world.application().repricer().run_account(ACCOUNT, world.client)

    (decision,) = [d for d in report.decisions if d.offer_id == offer_id]
    assert (decision.action, decision.waiting_for_history) == (Action.HOLD, True)
    assert world.price(offer_id) == "1299.00"
    shown = CliRunner().invoke(app, ["prices", "why", offer_id], env={**world.env, "COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "held, waiting for sales history" in shown.output
    assert "no sales history yet: listed 0 day(s) ago" in shown.output


def test_demand_reads_the_stock_ledger_not_the_offer(world: World) -> None:
    offer_id = world.offer("SKU-A")  # Allegro shows 5 in stock, nothing sold
    world.store.put_settings(
        RepricingSettings(account=ACCOUNT, strategy=Strategy.DEMAND, min_change=Decimal("0.01"))
    )
    app = world.application()
    app.stock_ledger().apply_shop_level("SKU-A", 0, T0)  # the shop sold out

    report = app.repricer().run_account(ACCOUNT, world.client, apply=False)

    (decision,) = report.decisions
    assert decision.offer_id == offer_id
    assert decision.inputs["stock"] == "0"
    assert decision.action is Action.HOLD  # nothing left to sell: no reason to cut (Allegro's 5 would)
