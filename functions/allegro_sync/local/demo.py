"""`make demo`: the whole system on one machine, end to end, narrated.

Runs the real handlers in the local runtime (moto on 127.0.0.1 for AWS) against the Allegro emulator, through
the same paths a deployment uses: HTTP gateway, queues, schedules, Secrets Manager, DynamoDB. Each chapter
prints what happened and checks it, so a broken path makes the demo fail instead of printing something
reassuring. Chapters for capabilities that do not exist yet say so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.catalog_import import DynamoImportProgress
from allegro_sync.adapters.dynamodb.gpsr import DynamoProducerMappings
from allegro_sync.adapters.dynamodb.listings import DynamoListingStore
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
from allegro_sync.adapters.dynamodb.orders import DynamoOrderRepository
from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore
from allegro_sync.adapters.queues import ShopEventQueue, SqsFifoPublisher
from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop import woocommerce as wc
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.allegro_errors import AllegroUserRateLimited
from allegro_sync.contracts.catalog import (
    CategoryMapping,
    Change,
    LinkStatus,
    ParameterMapping,
    StoredMapping,
)
from allegro_sync.contracts.gpsr import (
    Address,
    Contact,
    NewResponsibleProducer,
    ProducerData,
    ProducerMapping,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.custody import Custody
from allegro_sync.domain.ledger import DEFAULT_CLOCK_SKEW
from allegro_sync.domain.pricing import PricingRule, ScopedRule
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.emulator import DEFAULT_APP_IDENTITY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.emulator.audit import check
from allegro_sync.emulator.validation import validator_for
from allegro_sync.local import demo_marketplaces, woo_json
from allegro_sync.local.demo_shop import DemoShop, DemoShopServer, woocommerce_credentials
from allegro_sync.local.runtime import AllegroUrls, LocalRuntime
from allegro_sync.services.accounts import DevicePrompt
from allegro_sync.services.catalog_import import ProductOutcome, import_catalog, summarize
from allegro_sync.services.listings import ListingOptimizer
from allegro_sync.services.publishing.context import MAPPINGS_TTL_SECONDS
from allegro_sync.services.stock import StockLedger
from allegro_sync.settings import Settings
from allegro_sync.topology import (
    ALLEGRO_RPM_BUDGET_ENV,
    TOPOLOGY,
    QueueTrigger,
    RouteTrigger,
    ScheduleTrigger,
)

SELLERS = {"sklep-glowny": "SklepGlowny_PL", "sklep-outlet": "OutletMarka_PL"}
"""Two seller accounts (short name -> Allegro login): sales on one must reach the other."""

NOT_YET: tuple[str, ...] = ()
"""Capabilities without a chapter yet (every promised one has landed)."""


CATALOG = Path(__file__).resolve().parents[3] / "demo" / "catalog.csv"
WEBHOOK_SECRET = "demo-webhook-signing-secret"  # noqa: S105 - a throwaway value for the local run
SHOP_SECRET = "demo-shop-signing-secret"  # noqa: S105 - a throwaway value for the local run
WOO_SECRET = "demo-woocommerce-webhook-secret"  # noqa: S105 - a throwaway value for the local run
WOO_PARENT, WOO_VARIATIONS = (
    640,
    {641: ("czarny", "AURA-CZARNE", "199.99", 4), 642: ("biały", "AURA-BIALE", "249.00", 9)},
)
"""The WooCommerce chapter's variable product: parent id, variation id -> (colour, SKU, price, stock)."""
MAPPINGS = (
    (("Elektronika", "Audio", "Słuchawki"), "101", ()),
    (("Dom", "Kuchnia", "Czajniki"), "201", (ParameterMapping(parameter_id="17448", shop_attribute="Moc"),)),
)
"""What the seller approves: two shop categories; books and cables stay unmapped (and wait)."""
STAR = "SONY-XM5"
COMBINED = "JBL-TUNE510"  # bought twice, paid together (chapter 5)
"""The product the order chapters follow."""
OPERATOR_RPM_BUDGET = "300"
"""The operator's own share of the app-wide Allegro budget (the demo calls Allegro as the CLI would)."""


class DemoFailure(RuntimeError):
    """A chapter saw something other than what the system promises."""


def expect(condition: bool, problem: str) -> None:
    """Every chapter's check of a promise: the demo stops with `problem` when it does not hold."""
    if not condition:
        raise DemoFailure(problem)


@dataclass
class Demo:
    console: Console
    record: Path | None = None
    spec: Path | None = None
    # `make demo SHOP=...`: shopify's chapter replaces WooCommerce's; prestashop's is added after it
    shop_kind: str = "woocommerce"
    emulator: Emulator = field(init=False)
    runtime: LocalRuntime = field(init=False)
    operator: Application = field(init=False)  # what the seller's CLI would build, on the emulated clock
    custody: Custody = field(init=False)
    http_url: str = field(init=False)
    shop_url: str = field(init=False)
    shop: DemoShop = field(default_factory=lambda: DemoShop(secret=SHOP_SECRET))
    offers: dict[tuple[str, str], str] = field(default_factory=dict)  # (sku, account) -> offer id
    products: dict[str, ProductUpsert] = field(default_factory=dict)  # the imported catalogue by SKU

    def run(self) -> None:
        started = time.perf_counter()
        with self._world():
            for chapter in (
                self.foundation,
                self.connect_accounts,
                self.call_allegro,
                self.shop_to_allegro,
                self.gpsr_per_product,
                self.orders_and_stock,
                self.foreign_marketplaces,  # issue 16, item 1: needs the shop and the poll chain of 5.
                self._labels_chapter,  # issue 15: a label and its tracking for one order
                self.reconcile,
                self.shop_stock_changes,
                self.shopify_variants if self.shop_kind == "shopify" else self.woocommerce_variations,
                *self._shop_chapters(),
                self.reprice,
                self.optimize_listings,
                self._returns_chapter,  # issue 15, item 3: a return back into stock, a refund once
                self._messages_chapter,  # issue 15, item 4: a buyer's message forwarded once, answered
                self.seller_limits,  # jumps the emulated clock a minute: after every chapter that sells
                # Last: it jumps the emulated clock 12 h, which would put Allegro's sale times ahead of the
                # shop's clock for every chapter after it.
                self.keep_tokens_fresh,
            ):
                chapter()
        self.not_yet()
        self.audit()
        self.console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s")

    def _messages_chapter(self) -> None:
        from allegro_sync.local.demo_messages import messages_chapter

        messages_chapter(self)

    def _returns_chapter(self) -> None:
        from allegro_sync.local.demo_returns import returns_chapter

        returns_chapter(self)

    def _shop_chapters(self) -> list[Callable[[], None]]:
        if self.shop_kind == "prestashop":
            from allegro_sync.local.demo_prestashop import prestashop_chapter

            return [lambda: prestashop_chapter(self)]
        return []

    # ---- the world ---------------------------------------------------------------------------------

    @contextmanager
    def _world(self) -> Iterator[None]:
        self.console.rule("[bold]allegro-sync demo: moto + the Allegro emulator on 127.0.0.1")
        with Emulator(record=self.record) as emulator:
            self.emulator = emulator
            for login in SELLERS.values():
                emulator.create_seller(login)
            quiet = {
                "LOG_LEVEL": "ERROR",  # the chapters say what happened; rejected offers are in the table
                "POWERTOOLS_METRICS_DISABLED": "true",
                # A poll-tick every second (5 s deployed): the demo waits for the next tick, not a schedule
                "ORDER_POLL_INTERVAL_SECONDS": "1",
            }
            urls = AllegroUrls.single(emulator.base_url)
            with (
                DemoShopServer(self.shop) as shop_server,
                LocalRuntime(
                    TOPOLOGY,
                    allegro_urls=urls,
                    env=quiet | {"REPRICING_FEED_URL": f"{shop_server.url}/feed.csv"},  # competitor prices
                ) as runtime,
            ):
                self.shop_url = shop_server.url
                self.runtime = runtime
                self.http_url = runtime.start_gateway()
                self.operator = Application(
                    Settings.from_environ(
                        runtime.environment("oauth") | {ALLEGRO_RPM_BUDGET_ENV: OPERATOR_RPM_BUDGET}
                    ),
                    now=lambda: emulator.clock.now().timestamp(),
                    sleep=emulator.advance,
                )
                self.custody = self.operator.custody()
                yield
            if emulator.violations:
                raise DemoFailure(f"the emulator saw {len(emulator.violations)} spec violations")

    # ---- chapters ----------------------------------------------------------------------------------

    def foundation(self) -> None:
        self._chapter("1. One topology, wired locally exactly as in AWS")
        table = Table("function", "triggers", "timeout", "concurrency", "touches")
        for function in TOPOLOGY.functions:
            table.add_row(
                function.name,
                ", ".join(_describe(t) for t in function.triggers),
                f"{function.timeout_seconds} s",
                str(function.reserved_concurrency or "-"),
                ", ".join([*function.tables, *function.sends_to, *function.secrets]) or "-",
            )
        self.console.print(table)
        health = httpx.get(f"{self.http_url}/health", timeout=5).json()
        expect(health.get("status") == "ok", f"GET /health answered {health}")
        self.console.print(f"GET {self.http_url}/health through the local HTTP API -> {health}")

    def connect_accounts(self) -> None:
        self._chapter("2. Connecting seller accounts with the OAuth device flow")
        self.custody.app_credentials.write(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, sandbox=False, identity=DEFAULT_APP_IDENTITY
        )
        self.console.print("Stored the Allegro app's client id and secret in Secrets Manager.")
        for name, login in SELLERS.items():
            profile = self.custody.accounts().connect_with_device_flow(
                name, environment="production", on_prompt=self._approve_as(login)
            )
            expect(profile.status.value == "CONNECTED", f"{name} is {profile.status.value}")
            self.console.print(
                f"[green]connected[/] {name}: seller {profile.seller_id} ({profile.login}); "
                "tokens stored in its own Secrets Manager secret, never printed"
            )

    def call_allegro(self) -> None:
        self._chapter("3. Calling Allegro as a seller (client + token custody)")
        name = next(iter(SELLERS))
        client = self.operator.allegro(name)
        me = client.me()
        categories = client.get_categories()
        self.console.print(f"GET /me as {name} -> login {me.login}")
        self.console.print("GET /sale/categories -> " + ", ".join(str(c.name) for c in categories[:5]))

    def keep_tokens_fresh(self) -> None:
        self._chapter("11. Tokens that never get lost (12 hours later)")
        report = self.runtime.fire("token_refresher")
        self.console.print(
            f"scheduled token_refresher: fresh {report['fresh']}, refreshed {report['refreshed']}"
        )
        name, login = next(iter(SELLERS.items()))
        self.emulator.advance(12 * 3600)  # the access token is now past its 12 hours
        before = self.emulator.refresh_count(login)
        tokens = self.custody.tokens(name)
        with ThreadPoolExecutor(max_workers=10) as pool:
            handed_out = set(pool.map(lambda _: tokens.access_token(), range(10)))
        refreshes = self.emulator.refresh_count(login) - before
        expect(refreshes == 1, f"{refreshes} refreshes reached Allegro for 10 concurrent requests")
        expect(len(handed_out) == 1, "concurrent requests got different tokens")
        self.console.print(
            f"12 h later, 10 concurrent token requests for {name}: {refreshes} refresh reached Allegro "
            "(a DynamoDB lease elects one refresher; the new pair is saved before it is used)"
        )
        for other in list(SELLERS)[1:]:  # the emulated 12 h passed for every account
            self.custody.tokens(other).access_token()
            self.console.print(f"{other} renews its expired token on its next use (1 refresh).")
        listing = Table("account", "status", "token expires (emulated clock)", "what to do")
        for profile in self.custody.accounts().list_accounts():
            expires = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(profile.token_expires_at or 0))
            listing.add_row(profile.name, profile.status.value, expires, profile.what_to_do())
        self.console.print(listing)

    def shop_to_allegro(self) -> None:
        self._chapter("4. Shop catalogue -> Allegro offers")
        self.runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET})
        self.console.print("Stored the shop webhooks' signing secret in Secrets Manager (never printed).")
        for path, category, parameters in MAPPINGS:
            mapping = CategoryMapping(
                shop_path=list(path), allegro_category_id=category, approved=True, parameters=list(parameters)
            )
            self._mappings().put_mapping(StoredMapping(mapping=mapping))
            self.console.print(f"The seller approves the mapping {' > '.join(path)} -> Allegro {category}.")
        rule = PricingRule(name="Allegro +10%", markup_percent=Decimal(10), endings=(Decimal("0.99"),))
        self._mappings().put_pricing_rule(ScopedRule(rule=rule))
        self.console.print(f"Pricing rule: {rule.name}, prices ending in ,99.")
        data = CATALOG.read_bytes()
        queue = ShopEventQueue(
            SqsFifoPublisher(self.runtime.wiring.queues["shop-events"].url, self.runtime.client("sqs"))
        )
        result = import_catalog(
            data,
            name=CATALOG.name,
            queue=queue,
            progress=DynamoImportProgress(self.runtime.application("catalog_worker").table("control")),
            now=datetime.now(UTC),
        )
        self.console.print(
            f"catalog import {CATALOG.name}: {len(result.queued)} products queued on shop-events "
            f"(the webhooks' path), {len(result.problems)} row(s) refused:"
        )
        for problem in result.problems:
            self.console.print(f"  [yellow]refused[/] {problem}")
        self.runtime.drain(timeout=120)
        self.products = {row.product.sku: row.product for row in result.products}
        summary = summarize(result.products, list(SELLERS), self._catalog())
        expect(not summary.unsettled, f"the catalog worker did not settle {summary.unsettled}")
        table = Table("SKU", "accounts", "status", "offers", "price", "title on Allegro / why not")
        by_sku: dict[str, list[ProductOutcome]] = {}
        for outcome in summary.settled:
            by_sku.setdefault(outcome.sku, []).append(outcome)
            if outcome.offer_id:
                self.offers[(outcome.sku, outcome.account)] = outcome.offer_id
        for sku, outcomes in by_sku.items():
            ids = [o.offer_id for o in outcomes if o.offer_id]
            offer = self.emulator.marketplace.offer(ids[0]) if ids else None
            statuses = sorted({o.status.value for o in outcomes})
            table.add_row(
                sku,
                ", ".join(o.account for o in outcomes),
                "/".join(statuses),
                ", ".join(ids) or "-",
                str(offer["sellingMode"]["price"]["amount"]) if offer else "-",
                str(offer["name"]) if offer else _short("; ".join(outcomes[0].reasons)),
            )
        self.console.print(table)
        waiting = [o for o in summary.settled if o.status is LinkStatus.WAITING]
        expect(bool(waiting) and all(o.reasons for o in waiting), "no WAITING product with a reason")
        expect(all((STAR, account) in self.offers for account in SELLERS), f"{STAR} not published on both")
        offer = self.emulator.marketplace.offer(self.offers[(STAR, next(iter(SELLERS)))])
        self.console.print(f"{STAR} as Allegro got it: [bold]{offer['name']}[/]")
        for number, section in enumerate(offer.get("description", {}).get("sections", []), start=1):
            for item in section.get("items", []):
                shown = item.get("content") or item.get("url") or ""
                self.console.print(f"  section {number} {item.get('type')}: {shown}", markup=False)

    def gpsr_per_product(self) -> None:
        """Issue 16, item 2: a product's own responsible producer and safety file on its offer."""
        self._chapter("4b. EU product safety: a product with its own responsible producer (GPSR)")
        producer = NewResponsibleProducer(
            name="Acme Home GmbH",
            producer_data=ProducerData(
                trade_name="Acme Home Appliances GmbH",
                address=Address(country_code="DE", street="Hauptstr. 1", postal_code="10115", city="Berlin"),
                contact=Contact(email="safety@acme.example"),
            ),
        )
        mapping = ProducerMapping(brand="Acme", producer=producer, safety_text="Nie zanurzać w wodzie.")
        DynamoProducerMappings(
            self.runtime.application("catalog_worker").table("mappings")
        ).put_producer_mapping(mapping)
        self.console.print(
            "allegro-sync producers map Acme --name 'Acme Home GmbH' --country DE ... --safety-text "
            "'Nie zanurzać w wodzie.': the brand's responsible producer and safety text."
        )
        # A warm catalog worker rereads the seller's mappings after MAPPINGS_TTL_SECONDS.
        time.sleep(MAPPINGS_TTL_SECONDS)
        sku = "ACME-KETTLE"
        upsert = {
            "type": "product.upsert",
            "sku": sku,
            "name": "Czajnik elektryczny Acme stalowy 1,7 l",
            "price": "119.00",
            "stock": 3,
            "category_path": ["Dom", "Kuchnia", "Czajniki"],
            "attributes": {
                "Stan": "Nowy",
                "Marka": "Acme",
                "Moc": "2200",
                # issue 16 (gpsr2): the safety manual as a file the shop gives
                "Safety information file": f"{self.shop_url}/files/acme-kettle-safety.pdf",
            },
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        self.shop.files["acme-kettle-safety.pdf"] = b"%PDF-1.4 Acme: nie zanurzac w wodzie"
        status, body = self._webhook(upsert)
        expect(status == 202, f"POST /webhooks/shop answered {status} {body}")
        self.runtime.drain(timeout=120)
        for account, login in SELLERS.items():
            offer = self.emulator.marketplace.offer(self._offer_of(sku, account))
            made = self.emulator.marketplace.responsible(
                self.emulator.seller_id(login), "responsibleProducers"
            )
            acme = [p for p in made if p["name"] == producer.name]
            element = offer["productSet"][0]
            expect(len(acme) == 1, f"{account} has {len(acme)} producers named {producer.name}")
            expect(
                element.get("responsibleProducer") == {"id": acme[0]["id"]},
                f"{sku} on {account} carries {element.get('responsibleProducer')}",
            )
            safety = element.get("safetyInformation") or {}
            expect(safety.get("type") == "ATTACHMENTS", f"{sku} on {account}: safety information {safety}")
            self.console.print(
                f"{sku} on {account}: offer {offer['id']}, responsible producer {producer.name} "
                f"(created once on the account, id {acme[0]['id']}), safety information: the shop's PDF "
                f"uploaded through /sale/offer-attachments (attachment {safety['attachments'][0]['id']})"
            )

    def orders_and_stock(self) -> None:
        self._chapter("5. Stock in seconds, orders exactly once")
        first, second = SELLERS
        credentials = {
            "kind": "generic",
            "url": self.shop_url,
            "signing_secret": SHOP_SECRET,
            "changes_url": f"{self.shop_url}/changes",  # read by the shop reconciliation (chapter 7)
            "stock_url": f"{self.shop_url}/stock",  # read to settle a sale the ledger is in doubt about
        }
        self.runtime.put_secret("shop-credentials", credentials)
        self.console.print(f"The shop's order endpoint {self.shop_url} and its signing secret are stored.")
        ledger = self._ledger()
        for sku, product in self.products.items():
            if product.stock is not None:
                self.shop.stock[sku] = product.stock
        view = ledger.view(STAR)
        expect(len(view.offers) == len(SELLERS), f"{STAR} is linked to {len(view.offers)} offers")
        self.console.print(
            "Publishing fed the stock ledger: each product's shop level, and each offer linked to its SKU. "
            f"{STAR}: {view.available} in stock, sold through {len(view.offers)} offers (one per account)."
        )
        self._start_poll_chain()
        start = view.available or 0
        sold_on, other = self.offers[(STAR, first)], self.offers[(STAR, second)]

        form = self._sell(sold_on, 2)
        table = Table("what", "seen")
        record = self._orders().get(form)
        expect(record is not None and len(record.taken) == 1, f"order {form} not imported once: {record}")
        assert record is not None
        table.add_row(f"buyer pays 2 x {STAR} on {first}", f"order {form[:8]}… {record.status}")
        table.add_row("orders imported / sales counted", f"1 / {len(record.taken)}")
        level = ledger.view(STAR).available
        expect(level == start - 2, f"the ledger shows {level}, not {start - 2}")
        table.add_row("stock ledger", f"{start} -> {level}")
        shown = self.emulator.marketplace.offer(other)["stock"]["available"]
        expect(shown == level, f"the offer on {second} shows {shown}, the ledger {level}")
        table.add_row(f"the same SKU's offer on {second}", f"stock {shown}")
        expect(form in self.shop.orders, "the shop never received the order")
        table.add_row("the shop (127.0.0.1)", f"received it, its stock of {STAR}: {self.shop.stock[STAR]}")
        self.console.print(table)

        self.emulator.set_faults(order_event_duplicate_rate=1.0)
        again = self._sell(other, 1)
        self.emulator.set_faults(order_event_duplicate_rate=0.0)
        level = ledger.view(STAR).available
        expect(level == start - 3, f"a duplicated event moved the ledger to {level}")
        delivered = sum(1 for f in self.shop.orders if f == again)
        self.console.print(
            f"Allegro serves every event of order {again[:8]}… twice: imported once, ledger {level}, "
            f"shop got it {delivered} time(s)."
        )

        self.emulator.set_faults(order_event_delay_seconds=12 * 3600)
        late = self._sell(sold_on, 1)
        self.emulator.set_faults(order_event_delay_seconds=0)
        expect(self._orders().get(late) is None, "an order without events was imported by the poller")
        scan = self.runtime.fire("order_gap_scan")
        self.runtime.drain(timeout=120)
        found = self._orders().get(late)
        expect(found is not None, "order_gap_scan did not find the order whose events never came")
        level = ledger.view(STAR).available
        self.console.print(
            f"Order {late[:8]}… has no event yet (Allegro's feed lags 12 h): the poller sees nothing; "
            f"the scheduled order_gap_scan finds it ({scan[first]['enqueued']} enqueued) -> imported, "
            f"ledger {level}, both offers {self._stock(sold_on)} / {self._stock(other)}."
        )
        expect(self._stock(other) == level == start - 4, "stock after the late order is off")
        self._combined_payment(COMBINED)

    def foreign_marketplaces(self) -> None:
        """Issue 16, item 1: allegro.cz with a CZK price, and a CZK order in the shop (demo_marketplaces)."""
        from allegro_sync.local.demo_marketplaces import marketplaces_chapter

        marketplaces_chapter(self)

    def _combined_payment(self, sku: str) -> None:
        """Two purchases bought apart, paid together: Allegro makes a new form and deletes both (#1111)."""
        market, ledger = self.emulator.marketplace, self._ledger()
        offer_id = self.offers[(sku, next(iter(SELLERS)))]
        before = ledger.view(sku).available or 0
        apart = [market.buy(offer_id, 2), market.buy(offer_id, 1)]
        self.runtime.next_tick(timeout=30)
        [paid] = market.pay_together(*apart)
        self.runtime.next_tick(timeout=30)
        level = ledger.view(sku).available
        expect(level == before - 3, f"a combined payment moved {sku} to {level}, not {before - 3}")
        open_orders = [f for f in self.shop.open_orders() if f in (*apart, paid)]
        expect(open_orders == [paid], f"the shop holds {open_orders} for one payment")
        waiting = self._orders().needing_attention()
        expect(not waiting, f"orders waiting for attention: {waiting}")
        self.console.print(
            f"A buyer bought 2 + 1 x {sku} apart ({apart[0][:8]}…, {apart[1][:8]}…), then paid together: "
            f"Allegro replaced both by order {paid[:8]}… and deleted them, with no cancellation. Stock taken "
            f"once per unit ({before} -> {level}), one order in the shop, nothing waiting for attention."
        )

    def reconcile(self) -> None:
        self._chapter("6. Drift: someone edits stock in Allegro's panel")
        from allegro_sync.cli.reconcile_cmd import render

        _, second = SELLERS
        offer_id = self.offers[(STAR, second)]
        before = self._stock(offer_id)
        self.emulator.marketplace.state.offers[offer_id].stock = before + 40
        self.console.print(f"The seller types {before + 40} into Allegro's panel for {STAR} on {second}.")
        report = self.runtime.application("reconciler").reconciler().run(dry_run=True)
        render(report, self.console)
        kinds = [(d.offer_id, d.kind.value) for d in report.drifts]
        expect(kinds == [(offer_id, "STOCK")], f"the dry run saw {kinds}")
        expect(self._stock(offer_id) == before + 40, "the dry run changed the offer")
        run = self.runtime.fire("reconciler")
        expect(self._stock(offer_id) == before, f"the reconciler left {self._stock(offer_id)}")
        [change] = [c for c in self._history(STAR) if c.offer_id == offer_id][:1]
        self.console.print(
            f"scheduled reconciler: {run['drifts']} drift, {run['repaired']} repaired -> "
            f"offer back to {before}; change log: {change.reason}"
        )

    def shop_stock_changes(self) -> None:
        self._chapter("7. The shop sells the last one, then a delivery arrives (signed webhooks)")
        # A shop level counts the sales the shop confirmed at least the clock-skew margin before it; a report
        # sent sooner would (rightly) still have them subtracted. A real shop reports seconds to hours later.
        wait = DEFAULT_CLOCK_SKEW.total_seconds() + 1
        self.console.print(f"({wait:.0f} s later, past the ledger's clock-skew margin for the sales above)")
        time.sleep(wait)
        for level, wanted in ((0, "ENDED"), (5, "ACTIVE")):
            # The shop's own change time, as a real shop sends it: the delivery header has whole seconds
            # only, and two reports in one second tie (the ledger then keeps the lower level).
            changed_at = datetime.now(UTC).isoformat()
            stock_set = {"type": "stock.set", "sku": STAR, "stock": level, "occurred_at": changed_at}
            self.shop.record_change(stock_set)
            status, body = self._webhook(stock_set)
            expect(status == 202, f"POST /webhooks/shop answered {status} {body}")
            self.runtime.drain(timeout=120)
            shown = {a: self.emulator.marketplace.offer(self.offers[(STAR, a)]) for a in SELLERS}
            states = {
                a: f"{o['publication']['status']} (stock {o['stock']['available']})" for a, o in shown.items()
            }
            expect(all(o["publication"]["status"] == wanted for o in shown.values()), f"offers are {states}")
            self.console.print(
                f"POST /webhooks/shop stock.set {STAR}={level} -> 202; offers: "
                + ", ".join(f"{a} {state}" for a, state in states.items())
            )
        held_back = 5 - int(shown[next(iter(SELLERS))]["stock"]["available"])
        if held_back:
            self.console.print(
                f"The offers show {5 - held_back}, not 5: the ledger still subtracts {held_back} Allegro "
                "sales it cannot prove the shop's report already counts, and errs low: no oversell."
            )
        status, body = self._webhook({"type": "stock.set", "sku": STAR, "stock": 5}, secret="guessed")  # noqa: S106 - a wrong secret on purpose
        expect(status == 401, f"a wrongly signed webhook got {status}")
        self.console.print(
            f"A webhook signed with the wrong secret -> {status} "
            f"{body.get('error', {}).get('code')}; nothing queued"
        )
        self.lost_delivery_repaired()

    def lost_delivery_repaired(self) -> None:
        """A webhook lost in an outage, repaired by the scheduled shop reconciliation (the shop's changes)."""
        from allegro_sync.cli.reconcile_cmd import render_shop

        ledger = self._ledger()
        level = ledger.view(STAR).available
        time.sleep(1)  # a change the shop makes a second later (its log is ordered by time)
        lost = {"type": "stock.set", "sku": STAR, "stock": 2, "occurred_at": datetime.now(UTC).isoformat()}
        self.shop.record_change(lost)  # ... and its webhook never arrives: our HTTP API was down
        self.console.print(
            f"Outage: the shop sets {STAR} to 2, but its webhook is lost (our API was unreachable). "
            f"Offers still show {level}."
        )
        preview = self.runtime.application("shop_reconciler").shop_reconciler().run(dry_run=True)
        render_shop(preview, self.console)
        verdicts = [c.verdict for c in preview.changes]
        expect(verdicts[-1] == "would apply" and verdicts.count("would apply") == 1, f"dry run: {verdicts}")
        run = self.runtime.fire("shop_reconciler")
        self.runtime.drain(timeout=120)
        shown = {a: self._stock(self.offers[(STAR, a)]) for a in SELLERS}
        now = ledger.view(STAR).available
        expect(now is not None and now <= 2 and set(shown.values()) == {now}, f"offers {shown}, ledger {now}")
        self.console.print(
            f"scheduled shop_reconciler: read {run['changes']} change(s) since its cursor in "
            f"{run['shop_calls']} shop call(s), queued {run['queued']} like webhooks -> offers show {now}; "
            "the changes whose webhooks did arrive were already applied and changed nothing."
        )
        again = self.runtime.fire("shop_reconciler")
        expect(again["queued"] == 0, f"a second run queued {again['queued']}")
        self.console.print(f"Next run: {again['changes']} change(s) since the cursor, nothing queued.")

    def woocommerce_variations(self) -> None:
        self._chapter("7b. A WooCommerce shop, as WooCommerce really sends: a variable product")
        api = f"{self.shop_url}/wp-json/wc/v3"
        parent = {
            "id": WOO_PARENT,
            "type": "variable",
            "name": "Słuchawki nauszne Aura",
            "sku": "AURA",
            "status": "publish",
            "description": "<p>Lekkie słuchawki nauszne, 40 h na baterii.</p>",
            "categories": [{"id": 5, "name": "Słuchawki", "slug": "sluchawki"}],
            "images": [{"src": "https://sklep.example.pl/wp-content/uploads/2026/11/aura.jpg"}],
            "attributes": [
                {"name": "Kolor", "options": ["czarny", "biały"], "variation": True},
                {"name": "Stan", "options": ["Nowy"], "variation": False},
                {"name": "Typ słuchawek", "options": ["nauszne"], "variation": False},
            ],
            # Saved a minute ago: the price edit below is dated now, strictly later even within one second
            # (WooCommerce dates to the second, and an equal date reads as the same version).
            "date_modified_gmt": (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "variations": list(WOO_VARIATIONS),
        }
        variations = {
            vid: {
                "id": vid,
                "parent_id": WOO_PARENT,
                "type": "variation",
                "name": f"Słuchawki nauszne Aura - {colour}",
                **woo_json.sellable(sku, price, stock),
                "attributes": [{"name": "Kolor", "option": colour}],
                "date_modified_gmt": parent["date_modified_gmt"],
            }
            for vid, (colour, sku, price, stock) in WOO_VARIATIONS.items()
        }
        self.shop.rest.update({f"/wp-json/wc/v3/products/{WOO_PARENT}": parent})
        self.shop.rest.update({f"/wp-json/wc/v3/products/{vid}": v for vid, v in variations.items()})
        self.shop.rest[f"/wp-json/wc/v3/products/{WOO_PARENT}/variations"] = list(variations.values())
        self.runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET, "woocommerce": WOO_SECRET})
        generic = {"kind": "generic", "url": f"{self.shop_url}/allegro", "signing_secret": SHOP_SECRET}
        self.runtime.put_secret("shop-credentials", woocommerce_credentials(self.shop_url, "ck_d", "cs_d"))
        hook = self.runtime.application("shop_webhook")
        hook.signing_secrets().forget()
        hook.shop_credentials().forget()
        self._mappings().put_mapping(
            StoredMapping(
                mapping=CategoryMapping(shop_path=["Słuchawki"], allegro_category_id="101", approved=True)
            )
        )
        self.console.print(f"The shop is WooCommerce now ({api}); its REST API is read with the stored keys.")
        ping = httpx.post(
            f"{self.http_url}/webhooks/woocommerce",
            content=b"webhook_id=15",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        expect(ping.status_code == 200, f"the ping got {ping.status_code} {ping.text}")
        self.console.print(
            "Saving the webhook: ping webhook_id=15 (form-encoded: base64 behind API Gateway) -> 200"
        )
        answers = [self._woo(parent)] + [self._woo(v) for v in variations.values()]
        expect(all(a == 202 for a in answers), f"WooCommerce deliveries answered {answers}")
        self.runtime.drain(timeout=120)
        self.console.print(
            f"Default deliveries: the parent with variation ids {list(WOO_VARIATIONS)} only, then each"
            " variation on its own (type variation, parent_id) -> 202, 202, 202"
        )
        table = Table("variation", "account", "offer", "price", "stock")
        for colour, sku, _price, stock in WOO_VARIATIONS.values():
            for account in SELLERS:
                offer_id = self._offer_of(sku, account)
                offer = self.emulator.marketplace.offer(offer_id)
                expect(offer["stock"]["available"] == stock, f"{sku} shows {offer['stock']['available']}")
                table.add_row(
                    f"{sku} ({colour})",
                    account,
                    offer_id,
                    offer["sellingMode"]["price"]["amount"],
                    str(offer["stock"]["available"]),
                )
        self.console.print(table)
        black = {
            **variations[641],
            "price": "179.99",
            "regular_price": "179.99",
            "date_modified_gmt": (datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S"),
        }
        self.shop.rest["/wp-json/wc/v3/products/641"] = black
        expect(self._woo(black) == 202, "the variation's price change was not accepted")
        self.runtime.drain(timeout=120)
        price = self._price(self._offer_of("AURA-CZARNE", next(iter(SELLERS))))
        expect(price == "197.99", f"AURA-CZARNE shows {price} after the shop's 179.99")
        self.console.print(
            f"The shop changes AURA-CZARNE to 179.99 -> Allegro price {price} (rule +10%, ,99)"
        )
        self.runtime.put_secret("shop-credentials", generic)  # orders go to the demo shop's generic API again

    def shopify_variants(self) -> None:
        from allegro_sync.local.demo_shopify import shopify_chapter

        shopify_chapter(self, expect, list(SELLERS))

    def reprice(self) -> None:
        self._chapter("8. Repricing within the seller's bounds")
        first, second = SELLERS
        self.shop.competitor_feed += (
            "SONY-XM5,audio-hurt,1399.00,PLN\n"
            "SONY-XM5,sluchawkowo,1415.00,PLN\n"
            "SONY-XM5,tani-dumping,699.00,PLN\n"  # an outlier far below the rest
            "JBL-TUNE510,audio-hurt,209.00,PLN\n"
            "BOSCH-TWK3A011,agd-swiat,79.00,PLN\n"  # below what the kettle costs us
        )
        self.shop.competitor_feed += demo_marketplaces.FEED_ROW  # issue 16: the allegro.cz kettle
        feed_settings = RepricingSettings(account=first, strategy=Strategy.FEED, endings=(Decimal("0.99"),))
        rule_settings = RepricingSettings(account=second, strategy=Strategy.ALLEGRO)
        repricing = self.runtime.application("repricer")
        store = DynamoRepricingStore(repricing.table("mappings"), repricing.table("control"))
        store.put_settings(feed_settings)
        store.put_settings(rule_settings)
        self.console.print(
            f"{first}: beat the competitor feed ({self.shop_url}/feed.csv) by 0.01, prices ending in ,99; "
            f"{second}: Allegro's own price rule (FOLLOW_BY_MARKET_MIN_PRICE) inside our bounds."
        )
        round_ = self.runtime.fire("repricer")
        for account in SELLERS:
            expect("error" not in round_[account], f"repricing {account}: {round_[account]}")
        table = Table("SKU", "account", "price before -> after", "why")
        repricer = repricing.repricer()
        for (sku, account), offer_id in sorted(self.offers.items()):
            for change in repricer.why(offer_id)[:1]:
                moved = change.changes.get("price")
                shown = f"{moved['old']} -> {moved['new']}" if moved else f"({change.action})"
                table.add_row(sku, account, shown, change.reason)
        self.console.print(table)
        sony = self._price(self.offers[(STAR, first)])
        expect(sony == "1398.99", f"{STAR} on {first} is {sony}, not 1 grosz under the lowest sane rival")
        kettle = self._price(self.offers[("BOSCH-TWK3A011", first)])
        expect(Decimal(kettle) > Decimal("80.00"), f"the kettle went to {kettle}, below its cost")
        expect(round_[second]["rule_commands"] >= 1, f"no Allegro price rule assigned on {second}")
        self.console.print(
            f"round: {first} {round_[first]['price_commands']} price command(s), "
            f"{second} {round_[second]['rule_commands']} rule assignment(s); "
            f"{STAR} {sony} on {first}; the kettle chases a rival at 79.00 by at most 10 % a step "
            f"({kettle}), never below its floor."
        )
        demo_marketplaces.repriced_on_cz(self, first)  # issue 16: its allegro.cz price moved with it

    def optimize_listings(self) -> None:
        from allegro_sync.cli.listings_cmd import render_proposals

        self._chapter("9. Listing optimization: titles and descriptions learned from what sells")
        first = next(iter(SELLERS))
        for (_, account), offer_id in sorted(self.offers.items()):
            if account == first:
                self.emulator.marketplace.add_visits(offer_id, 40, watchers=4)
        catalog = self.runtime.application("catalog_worker")
        optimizer = ListingOptimizer(
            DynamoListingStore(catalog.table("mappings")), self._catalog(), catalog.change_log()
        )
        proposals = optimizer.review(first, self.operator.allegro(first))
        render_proposals(proposals, self.console, f"Listing proposals on {first}")
        expect(bool(proposals), "the review proposed nothing for any offer")
        self.console.print(
            f"{len(proposals)} offers reviewed on {first}; a handful of offers carries little sales signal, "
            "so gains are small here: the description checks apply from day one."
        )

    def seller_limits(self) -> None:
        """A per-seller 429 (#12700) stops that seller's writes only: the other account and the rest of
        the app go on, and the seller's writes resume when Allegro's `Retry-After` says so."""
        self._chapter("10. Allegro limits one seller, not the whole app")
        first, second = SELLERS

        def emulated_now() -> float:  # the guard follows the emulated clock, so the demo can skip the wait
            return self.emulator.clock.now().timestamp()

        guard = RateGuard(InMemoryBlockedUntilStore(), clock=emulated_now)  # one instance's guard
        sync = Application(
            Settings.from_environ(self.runtime.environment("stock_propagator")), rate_guard=guard
        )
        self.emulator.reset_rate_limit()
        self.emulator.set_faults(offer_writes_per_minute=1)  # Allegro: 2,490 a minute; 1 shows it quickly
        logs = logging.getLogger("allegro-sync")  # the table says what happened; no warning lines
        level = logs.level
        logs.setLevel(logging.ERROR)
        try:
            on_first, on_second = self.offers[(STAR, first)], self.offers[(STAR, second)]
            body = {"stock": {"available": self._stock(on_first)}}
            sync.allegro(first).patch_product_offer(on_first, body)
            table = Table("call", "answer")
            table.add_row(f"PATCH offer on {first}", "200 (its one write this minute)")
            try:
                sync.allegro(first).patch_product_offer(on_first, body)
                expect(False, f"the second write on {first} was not limited")
            except AllegroUserRateLimited as limited:
                wait = limited.blocked_until - emulated_now()
                table.add_row(f"PATCH offer on {first} again", f"429 per user -> {first} waits {wait:.0f} s")
            sent = self.emulator.app.request_count
            with contextlib.suppress(AllegroUserRateLimited):
                sync.allegro(first).patch_product_offer(on_first, body)
            expect(self.emulator.app.request_count == sent, "a limited write was sent anyway")
            table.add_row(f"PATCH offer on {first} meanwhile", "held back by the guard: never sent")
            second_stock = {"stock": {"available": self._stock(on_second)}}
            table.add_row(f"PATCH offer on {second}", f"{_status(sync, second, on_second, second_stock)}")
            table.add_row(
                f"GET offer on {first} (a read)",
                f"200, {_shown(sync.allegro(first).get_product_offer(on_first).stock)}",
            )
            expect(guard.blocked_for() == 0, "a per-seller 429 blocked the whole app")
            table.add_row("app-wide block", "none: every other seller and resource goes on")
            self.emulator.advance(wait + 1)
            table.add_row(
                f"{wait + 1:.0f} s later: PATCH offer on {first}", _status(sync, first, on_first, body)
            )
            self.console.print(table)
        finally:
            logs.setLevel(level)
            self.emulator.set_faults(offer_writes_per_minute=2490)

    def not_yet(self) -> None:
        if not NOT_YET:
            return
        self._chapter("Not built yet")
        for item in NOT_YET:
            self.console.print(f"[yellow]-[/] {item}")

    def audit(self) -> None:
        if not self.record:
            return
        self._chapter(f"Audit: the recorded Allegro traffic ({self.record})")
        lines = self.record.read_text(encoding="utf-8").splitlines()
        self.console.print(f"{len(lines)} exchanges recorded, tokens and secrets masked.")
        if not self.spec or not self.spec.is_file():
            self.console.print(
                "The full official spec is not beside the project: skipped the full-spec check."
            )
            return
        report = check(lines, validator_for(self.spec, check_spec=False))
        expect(not report.violations, f"{len(report.violations)} violations of the official spec")
        self.console.print(
            f"Validated against the full official spec: {report.validated} exchanges, "
            f"{report.oauth_skipped} OAuth (outside the spec), 0 violations."
        )

    # ---- helpers -----------------------------------------------------------------------------------

    def _chapter(self, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold cyan]{title}", align="left")

    def _start_poll_chain(self) -> None:
        """The schedule is the poll-tick chain's watchdog: its first run starts each account's cursor at the
        newest event and seeds the chain; from then on each tick polls and sends the next one."""
        watchdog = self.runtime.fire("order_poller")
        expect(watchdog["chain"]["seeded"], f"the watchdog did not start the poll-tick chain: {watchdog}")
        self.console.print(
            "The order poller's watchdog (its schedule) started the poll-tick chain: a delayed SQS message "
            "that polls every account once and re-sends itself (every 5 s deployed, every 1 s here)."
        )

    def _sell(self, offer_id: str, quantity: int) -> str:
        """A buyer buys and pays on Allegro; the next poll-tick polls; the queues drain."""
        form = self.emulator.marketplace.buy(offer_id, quantity)
        self.emulator.marketplace.pay(form)
        self.runtime.next_tick(timeout=30)
        return form

    def _price(self, offer_id: str) -> str:
        return str(self.emulator.marketplace.offer(offer_id)["sellingMode"]["price"]["amount"])

    def _stock(self, offer_id: str) -> int:
        return int(self.emulator.marketplace.offer(offer_id)["stock"]["available"])

    def _labels_chapter(self) -> None:
        from allegro_sync.local.demo_labels import labels_chapter

        labels_chapter(self)

    def _webhook(
        self, payload: Any, *, secret: str = WEBHOOK_SECRET, path: str = "/webhooks/shop"
    ) -> tuple[int, dict[str, Any]]:
        """What the shop does: a signed POST to the HTTP API (`path`: product changes, or order updates)."""
        body = json.dumps(payload).encode()
        delivery, timestamp = uuid.uuid4().hex, int(time.time())
        headers = {
            "Content-Type": "application/json",
            signing.DELIVERY_HEADER: delivery,
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.sign(secret, timestamp, delivery, body),
        }
        answer = httpx.post(f"{self.http_url}{path}", content=body, headers=headers, timeout=30)
        return answer.status_code, answer.json() if answer.content else {}

    def _offer_of(self, sku: str, account: str) -> str:
        link = self._catalog().link(sku, account)
        if link is None or link.offer_id is None:
            raise DemoFailure(f"{sku} is not published on {account}: {link.reasons if link else 'not seen'}")
        return link.offer_id

    def _woo(self, payload: Any) -> int:
        """What WooCommerce does: `trim(wp_json_encode($payload))`, signed, with its headers."""
        body = wc.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": "https://sklep.example.pl/",
            "X-WC-Webhook-Topic": "product.updated",
            "X-WC-Webhook-Resource": "product",
            "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-ID": "15",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
            "X-WC-Webhook-Signature": wc.sign(WOO_SECRET, body),
        }
        return httpx.post(
            f"{self.http_url}/webhooks/woocommerce", content=body, headers=headers, timeout=30
        ).status_code

    def _mappings(self) -> DynamoMappings:
        return DynamoMappings(self.runtime.application("catalog_worker").table("mappings"))

    def _catalog(self) -> DynamoCatalog:
        return DynamoCatalog(self.runtime.application("catalog_worker").table("catalog"))

    def _ledger(self) -> StockLedger:
        return self.runtime.application("order_worker").stock_ledger()

    def _orders(self) -> DynamoOrderRepository:
        return self.runtime.application("order_worker").order_repository()

    def _history(self, sku: str) -> list[Change]:
        return self.runtime.application("stock_propagator").change_log().history(sku)

    def _approve_as(self, login: str) -> Callable[[DevicePrompt], None]:
        def approve(prompt: DevicePrompt) -> None:
            self.console.print(
                f"Open {prompt.verification_uri_complete} and confirm code [bold]{prompt.user_code}[/] "
                f"-> the emulated seller {login} approves."
            )
            self.emulator.approve_device(prompt.user_code, login)

        return approve


def _shown(stock: Any) -> str:
    return f"stock {stock.available}" if stock is not None else "no stock shown"


def _status(sync: Application, account: str, offer_id: str, body: dict[str, Any]) -> str:
    sync.allegro(account).patch_product_offer(offer_id, body)
    return "200"


def _describe(trigger: QueueTrigger | ScheduleTrigger | RouteTrigger) -> str:
    if isinstance(trigger, QueueTrigger):
        return f"queue {trigger.queue} (batch {trigger.batch_size})"
    if isinstance(trigger, ScheduleTrigger):
        return f"every {trigger.rate_minutes} min"
    return f"{trigger.method} {trigger.path}"


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
