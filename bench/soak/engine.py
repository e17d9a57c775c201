"""`Soak`: one run of the soak (the world, the seeding, the traffic with faults, convergence, the count).

See the package's docstring for what it does and why, and docs/soak.md for the figures.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore
from allegro_sync.adapters.shop import signing
from allegro_sync.bootstrap import Application
from allegro_sync.contracts.catalog import LinkStatus, StoredProduct, order_key
from allegro_sync.contracts.catalog import OfferLink as CatalogLink
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.ledger import DEFAULT_CLOCK_SKEW, OfferLink, ShopLevel, SkuLedger
from allegro_sync.domain.repricing import RepricingSettings, Strategy
from allegro_sync.emulator import DEFAULT_APP_IDENTITY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Emulator
from allegro_sync.local.demo_shop import DemoShop, DemoShopServer
from allegro_sync.local.invoker import InjectedCrash
from allegro_sync.local.moto_server import MotoProcess
from allegro_sync.local.runtime import AllegroUrls, LocalRuntime
from allegro_sync.services.accounts import DevicePrompt
from allegro_sync.settings import Settings
from allegro_sync.topology import TOPOLOGY
from bench._seller import headphones_offer, seller_client
from bench.soak.after_sale import AfterSaleBook, AfterSaleTraffic
from bench.soak.config import SoakConfig
from bench.soak.faults import RandomCrashes, SellerLimits, duplicate_offers
from bench.soak.logscan import strings
from bench.soak.metering import AwsMeter
from bench.soak.result import SoakResult

# Throwaway values, which the log scan looks for.
WEBHOOK_SECRET = "soak-webhook-signing-secret-0123456789"
SHOP_SECRET = "soak-shop-signing-secret-9876543210"
GTIN = "4548736132610"  # a product of the emulator's catalogue; every soak offer is "that" product


@dataclass
class Purchase:
    form_id: str
    account: str
    offer_id: str
    sku: str
    quantity: int
    at: float
    cancelled: bool = False


class Soak:
    """One run: `with Soak(config) as soak: result = soak.run()`."""

    def __init__(self, config: SoakConfig, *, say: Callable[[str], None] = lambda _: None) -> None:
        self.config = config
        self.say = say
        self.rng = random.Random(config.seed)
        self.shop = DemoShop(secret=SHOP_SECRET)
        self.crashes = RandomCrashes(0.0, config.seed + 1)
        self.accounts = [f"konto-{n + 1}" for n in range(config.accounts)]
        self.logins = {account: f"SoakSeller{n + 1}" for n, account in enumerate(self.accounts)}
        self.skus = [f"SOAK-{n:05d}" for n in range(config.skus)]
        self.offers: dict[str, dict[str, str]] = defaultdict(dict)  # sku -> account -> offer id
        self.truth: dict[str, int] = {}  # what is physically there and not promised to a buyer
        self.last_drop: dict[str, float] = {}  # when the truth of a SKU last went down
        # Every change of a SKU's truth, (monotonic moment, level after): when it ran short of a purchase.
        self.levels: dict[str, list[tuple[float, int]]] = defaultdict(list)
        # The counters an outsider can take (Allegro's offers, the shop's books), before any repair pass.
        self.outsider: dict[str, int] = {}
        self.seeded: dict[str, int] = {}
        self.purchases: list[Purchase] = []
        self.unpaid: dict[str, Purchase] = {}  # account -> a purchase waiting to be paid with the next one
        self.activity: Counter[str] = Counter()
        self.problems: list[str] = []
        self._lock = threading.Lock()  # the shop and the buyers act on their own threads
        self._windows: dict[str, float] = {}  # fault window -> when it opened / closed
        self.blocked: list[list[float]] = []  # [start, end] (monotonic) while Allegro was not to be called
        self._stack: list[Any] = []
        self.traffic_started = 0.0  # epoch seconds, like a purchase's `at`
        self._traffic_started_monotonic = 0.0  # the same moment on the fault windows' clock
        self._firing: set[str] = set()  # scheduled functions whose run is in progress
        self._scheduled: list[threading.Thread] = []
        # The functions that call Allegro, each behind its own application's rate guard.
        self._allegro_callers = [f.name for f in TOPOLOGY.functions if "app-credentials" in f.secrets]
        self.after_sale_book = AfterSaleBook()  # issue 15: what the shop and buyers did after the sale

    # ---- the world -------------------------------------------------------------------------------------

    def __enter__(self) -> Soak:
        config = self.config
        self.emulator = Emulator(port=0, validate=config.validate, random_seed=config.seed).start()
        self._stack.append(self.emulator)
        self.seller_limits = SellerLimits(self.emulator, config)  # allegro-limits
        self.shop_server = DemoShopServer(self.shop).__enter__()
        self._stack.append(self.shop_server)
        env = {
            "ORDER_POLL_RUN_SECONDS": "0",  # one poll per invocation: the poll-tick chain polls every 5 s
            "POWERTOOLS_METRICS_DISABLED": "true",
            "REPRICING_FEED_URL": f"{self.shop_server.url}/feed.csv",
        }
        # AWS in a process of its own, as in AWS: on the functions' interpreter moto's request handling
        # and serving were in about half of the sampled stacks, so the soak measured moto's queue as much
        # as our functions (docs/soak.md).
        self.moto = MotoProcess().start()
        self._stack.append(self.moto)
        self.runtime = LocalRuntime(
            TOPOLOGY,
            allegro_urls=AllegroUrls.single(self.emulator.base_url),
            aws_endpoint=self.moto.endpoint,
            env=env,
            # A failed batch comes back this much later. In AWS it is the visibility timeout (6 x the
            # function's timeout: minutes); 1 s would burn a message's 5 receives in Allegro's 60 s block.
            retry_delay_seconds=config.retry_delay_seconds,
            crashes=self.crashes,
        ).start()
        self._stack.append(self.runtime)
        self.http_url = self.runtime.start_gateway()
        # The shop's one HTTP client: `httpx.post` builds a client, and its TLS context, per call, which
        # took about 4 % of the interpreter's samples in a full run, time taken from the functions measured.
        self.shop_sender = httpx.Client(timeout=120)
        self._stack.append(self.shop_sender)
        self.after_sale = AfterSaleTraffic(  # issue 15: labels, refunds, returns
            self.runtime,
            self.emulator,
            self.shop,
            http_url=self.http_url,
            sender=self.shop_sender,
            secret=WEBHOOK_SECRET,
            resend_share=config.after_sale_resend_share,
            lock=self._lock,
            rng=random.Random(config.seed + 15),
            book=self.after_sale_book,
        )
        self.meter = AwsMeter(
            self.runtime.invoker,
            {t.queue: f.name for t, f in self.runtime.poller.consumers},
            allegro_url=self.emulator.base_url,  # issue 21: Allegro calls per function
        )
        return self

    def __exit__(self, *exc: object) -> None:
        for part in reversed(self._stack):
            if isinstance(part, DemoShopServer):
                part.__exit__(None, None, None)
            elif isinstance(part, httpx.Client):
                part.close()
            else:
                part.stop()

    # ---- the run ---------------------------------------------------------------------------------------

    def run(self) -> SoakResult:
        started = time.perf_counter()
        self.say(f"seeding {len(self.accounts)} accounts x {len(self.skus)} SKUs ...")
        self._connect()
        self._seed()
        self.after_sale.start(self.accounts)  # issue 15
        self.say(
            f"seeded in {time.perf_counter() - started:.0f} s; "
            f"traffic with faults for {self.config.seconds:g} s"
        )
        with self.meter.installed():
            self._traffic()
            self._ship()  # issue 14, item 6
            self.after_sale.arrive_all(self._returned)  # issue 15: every return on its way arrives
            traffic_end = time.perf_counter()
            self.say("traffic over, faults off: draining and converging ...")
            self._converge()
            converged = time.perf_counter()
        counters = self._check()
        usage = {
            name: {
                "invocations": totals.invocations,
                "errors": totals.errors,
                "seconds": round(totals.seconds, 3),
                "cpu_seconds": round(totals.cpu_seconds, 3),
                "memory_mb": TOPOLOGY.function(name).memory_mb,
                "injected_crashes": self.crashes.injected.get(name, 0),
            }
            for name, totals in sorted(self.runtime.invoker.totals.items())
        }
        return SoakResult(
            config={k: v for k, v in asdict(self.config).items() if k not in {"seed"}},
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            wall_seconds=time.perf_counter() - started,
            converge_seconds=converged - traffic_end,
            counters=counters,
            activity=dict(self.activity),
            lambda_usage=usage,
            aws_calls={k: dict(v) for k, v in sorted(self.meter.calls.items())},
            aws_calls_by_function={
                k: dict(sorted(v.items())) for k, v in sorted(self.meter.by_function.items())
            },
            aws_items_by_function={
                k: dict(sorted(v.items())) for k, v in sorted(self.meter.items_by_function.items())
            },
            allegro_calls_by_function=dict(sorted(self.meter.allegro_by_function.items())),
            consistent_reads_by_function={  # issue 21: eventual reads cost half
                k: {op: n for op, n in sorted(v.items()) if n}
                for k, v in sorted(self.meter.consistent_by_function.items())
            },
            allegro_calls=self.emulator.app.request_count,
            order_latencies=self._order_latencies(),
            order_timeline=[
                (p.at - self.traffic_started, self.shop.first_seen[p.form_id] - p.at)
                for p in self.purchases
                if p.form_id in self.shop.first_seen
            ],
            allegro_blocked=[self._into_traffic(a, b) for a, b in self.blocked],
            shop_down=[self._into_traffic(self._windows["shop_down"], self._windows["shop_down_done"])]
            if "shop_down_done" in self._windows
            else [],
            problems=self.problems,
            secrets=self._secret_values(),
            personal=self._buyer_data(),
        )

    # ---- set-up ----------------------------------------------------------------------------------------

    def _connect(self) -> None:
        self.runtime.put_secret("webhook-signing", {"secret": WEBHOOK_SECRET})
        self.runtime.put_secret(
            "shop-credentials",
            {
                "kind": "generic",
                "url": self.shop_server.url,
                "signing_secret": SHOP_SECRET,
                # the shop's one-SKU stock read: a sale the ledger is in doubt about is settled with it
                "stock_url": f"{self.shop_server.url}/stock",
            },
        )
        # The seller's CLI, on the emulated clock: its own application, built from the oauth function's names.
        operator = Application(
            Settings.from_environ(self.runtime.environment("oauth")),
            now=lambda: self.emulator.clock.now().timestamp(),
            sleep=self.emulator.advance,
        )
        custody = operator.custody()
        custody.app_credentials.write(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, sandbox=False, identity=DEFAULT_APP_IDENTITY
        )
        for account, login in self.logins.items():
            self.emulator.create_seller(login)
            custody.accounts().connect_with_device_flow(
                account, environment="production", on_prompt=self._approve_as(login)
            )

    def _approve_as(self, login: str) -> Callable[[DevicePrompt], None]:
        def approve(prompt: DevicePrompt) -> None:
            self.emulator.approve_device(prompt.user_code, login)

        return approve

    def _seed(self) -> None:
        """Offers on every account for every SKU, the ledger that knows them, catalogue facts to reprice."""
        base = self.emulator.base_url
        worker = self.runtime.application("catalog_worker")
        ledger_repo = DynamoLedgerRepository(worker.settings.table("ledger"), worker.aws_client("dynamodb"))
        catalog = DynamoCatalog(worker.table("catalog"))
        now = datetime.now(UTC)
        feed = ["sku,competitor,price,currency"]
        repricer = self.accounts[0]
        # Seeding is not under test: thousands of creates skip the spec check, which resumes for the run.
        validator, self.emulator.app.validator = self.emulator.app.validator, None
        try:
            self._seed_offers(base)
        finally:
            self.emulator.app.validator = validator
        self.seeded = dict(self.truth)
        for sku in self.skus:
            self.shop.stock[sku] = self.truth[sku]
            ledger_repo.commit(
                ledger=SkuLedger(
                    sku,
                    revision=1,
                    level=ShopLevel(self.truth[sku], now),
                    offers={o: OfferLink(o, a) for a, o in self.offers[sku].items()},
                ),
                expected_revision=0,
                sale=None,
                expected_sale_rev=None,
            )
        for sku in self.skus[: self.config.repriced_skus]:
            price = Decimal(_price(sku))
            upsert = ProductUpsert(
                delivery_id=f"seed-{sku}",
                occurred_at=now,
                sku=sku,
                name=f"Słuchawki Sony WH-1000XM5 {sku}",
                ean=GTIN,
                price=price,
                cost_price=(price * Decimal("0.6")).quantize(Decimal("0.01")),
                stock=self.truth[sku],
                category_path=["Elektronika", "Słuchawki"],
            )
            catalog.accept(
                StoredProduct(
                    sku=sku, order_key=order_key(now, None), upsert=upsert, stock=self.truth[sku], price=price
                )
            )
            catalog.save_link(
                CatalogLink(
                    sku=sku,
                    account=repricer,
                    status=LinkStatus.PUBLISHED,
                    offer_id=self.offers[sku][repricer],
                    price=str(price),
                )
            )
            rival = (price * Decimal(self.rng.uniform(0.85, 1.1))).quantize(Decimal("0.01"))
            feed.append(f"{sku},konkurent-{self.rng.randrange(5)},{rival},PLN")
        self.shop.competitor_feed = "\n".join(feed) + "\n"
        repricing = self.runtime.application("repricer")
        DynamoRepricingStore(repricing.table("mappings"), repricing.table("control")).put_settings(
            RepricingSettings(account=repricer, strategy=Strategy.FEED, min_margin_percent=Decimal(5))
        )
        self.runtime.fire("order_poller")  # the cursors start at the newest event: the soak's orders are new

    def _seed_offers(self, base: str) -> None:
        """Every SKU on every account, through Allegro's API, at a random level (some sold out: ended)."""
        for account, login in self.logins.items():
            with seller_client(
                self.emulator, login, account, rate_guard=RateGuard(InMemoryBlockedUntilStore())
            ) as client:
                for sku in self.skus:
                    level = self.truth.setdefault(sku, self.rng.choice((0, 1, 1, 2, 2, 3, 5, 8, 20)))
                    body = headphones_offer(
                        sku, max(level, 1), name=f"Słuchawki Sony WH-1000XM5 {sku}", price=_price(sku)
                    )
                    offer = client.create_product_offer(body)
                    self.offers[sku][account] = offer.id
                    if level == 0:  # created with 1 (Allegro refuses 0), then ended like the system would
                        client.patch_product_offer(offer.id, {"stock": {"available": 0}})

    # ---- traffic ---------------------------------------------------------------------------------------

    def _traffic(self) -> None:
        """The shop and the buyers act on their own threads, at their own pace; the runtime's background
        pollers consume every queue (each consumer up to its reserved concurrency, as Lambda's event
        sources do); this thread fires the schedules, each run on its own thread as EventBridge invokes
        asynchronously, and flips the faults."""
        config = self.config
        self.crashes.rate = config.crash_rate
        self.emulator.set_faults(
            error_rate=config.allegro_error_rate,
            latency_ms=400,
            latency_rate=config.allegro_slow_rate,
            order_event_duplicate_rate=config.event_duplicate_rate,
            order_event_skip_rate=config.event_skip_rate,
            order_event_reemit_after_seconds=5.0,
            order_event_delay_seconds=config.event_delay_seconds,
            patch_conflict_rate=config.patch_conflict_rate,
            block_seconds=3.0,
        )
        self.seller_limits.start()  # allegro-limits
        hot = self.rng.sample(self.skus, min(config.hot_skus, len(self.skus)))
        stop = threading.Event()
        actors = [
            threading.Thread(
                target=self._act, args=(stop, config.stock_changes_per_second, hot, self._shop_change, 1)
            ),
            threading.Thread(target=self._act, args=(stop, config.purchases_per_second, hot, self._buy, 2)),
            threading.Thread(  # issue 15: labels, refunds, returns
                target=self._act, args=(stop, config.after_sale_per_second, hot, self._after_sale_step, 3)
            ),
        ]
        for actor in actors:
            actor.start()
        self.runtime.poller.start(idle_interval=0.05)
        every = {
            "order_poller": 30.0,  # the watchdog; the poll-tick chain (background loops) polls every 5 s
            "order_gap_scan": config.gap_scan_every,
            "reconciler": config.reconcile_every,
            "repricer": config.reprice_every,
            "token_refresher": config.seconds,
        }
        due = dict(every)
        due["order_poller"] = 0.0
        due["repricer"] = config.reprice_every / 3  # before the 429 window, which would make it skip
        start = time.perf_counter()
        self.traffic_started = time.time()
        self._traffic_started_monotonic = time.monotonic()
        try:
            while (elapsed := time.perf_counter() - start) < config.seconds:
                share = elapsed / config.seconds
                self._window(
                    "throttle",
                    share,
                    config.throttle_window,
                    on=lambda: self.emulator.set_faults(requests_per_minute=20),
                    off=lambda: self.emulator.set_faults(requests_per_minute=9000),
                )
                self._window(
                    "shop_down", share, config.shop_down_window, on=self._shop_down, off=self._shop_up
                )
                self._window(  # allegro-limits: per-seller 429s
                    "user_limits",
                    share,
                    config.user_limit_window,
                    on=self.seller_limits.tighten,
                    off=self.seller_limits.relax,
                )
                self._note_block()
                for name, at in due.items():
                    if elapsed >= at:
                        due[name] = elapsed + every[name]
                        self._fire_async(name)
                time.sleep(0.05)
        finally:
            stop.set()
            for actor in actors:
                actor.join()
            self._pay_held()

    def _act(
        self,
        stop: threading.Event,
        per_second: float,
        hot: list[str],
        action: Callable[[str], None],
        seed: int,
    ) -> None:
        """Call `action` on a random hot SKU `per_second` times a second (Poisson arrivals) until stopped."""
        rng = random.Random(self.config.seed * 10 + seed)
        while not stop.wait(rng.expovariate(per_second)):
            try:
                action(rng.choice(hot))
            except Exception as error:
                with self._lock:
                    self.activity["actor_errors"] += 1
                    self.problems.append(f"{action.__name__}: {type(error).__name__}: {error}"[:300])

    def _window(
        self,
        name: str,
        share: float,
        window: tuple[float, float],
        *,
        on: Callable[[], object],
        off: Callable[[], object],
    ) -> None:
        """Switch a fault on once the run reaches the window's start and off once it lasted its length
        (a slow scheduled run must not let the loop jump over the whole window)."""
        begin, finish = window
        if begin >= 1.0:
            return
        now = time.monotonic()
        if share >= begin and name not in self._windows:
            self._windows[name] = now
            on()
        elif (
            name in self._windows
            and f"{name}_done" not in self._windows
            and share >= finish
            and now - self._windows[name] >= (finish - begin) * self.config.seconds
        ):
            self._windows[f"{name}_done"] = now
            self.activity[f"{name}_seconds"] = round(now - self._windows[name])
            off()

    def _close_windows(self) -> None:
        """A window still open when the traffic ends (a slow last run) closes now, with its length noted."""
        now = time.monotonic()
        for name in ("throttle", "shop_down", "user_limits"):
            if name in self._windows and f"{name}_done" not in self._windows:
                self._windows[f"{name}_done"] = now
                self.activity[f"{name}_seconds"] = round(now - self._windows[name])

    def _note_block(self) -> None:
        """When the app could not call Allegro: Allegro's own block, or a function's guard after a 429."""
        until = self.emulator.app.rate_limiter.blocked_until(DEFAULT_CLIENT_ID)
        blocked = until is not None or any(
            self.runtime.application(name).rate_guard().blocked_until() > time.time()
            for name in self._allegro_callers
        )
        now = time.monotonic()
        with self._lock:
            if blocked and self.blocked and self.blocked[-1][1] >= now - 1.0:
                self.blocked[-1][1] = now
            elif blocked:
                self.blocked.append([now, now])
            self.activity["allegro_blocked_seconds"] = round(sum(b - a for a, b in self.blocked))

    def _into_traffic(self, start: float, end: float) -> tuple[float, float]:
        """A window on the monotonic clock as seconds into the traffic, as an order's `bought_at_s`."""
        return start - self._traffic_started_monotonic, end - self._traffic_started_monotonic

    def _unblocked_seconds(self, start: float, end: float) -> float:
        """Seconds of [start, end] during which the app was allowed to call Allegro."""
        overlap = sum(max(0.0, min(end, b) - max(start, a)) for a, b in self.blocked)
        return end - start - overlap

    def _shop_down(self) -> None:
        self.shop.down = True

    def _shop_up(self) -> None:
        self.shop.down = False

    def _shop_change(self, sku: str) -> None:
        """The shop sells one over the counter, or a delivery arrives; it reports its new level."""
        with self._lock:
            if self.truth[sku] > 0 and self.rng.random() < 0.6:
                delta = -1
                self.last_drop[sku] = time.monotonic()
                self.activity["shop_sales"] += 1
            else:
                delta = self.rng.choice((1, 2, 5))
                self.activity["deliveries"] += 1
            self.truth[sku] += delta
            self.levels[sku].append((time.monotonic(), self.truth[sku]))
            level = self.shop.adjust(sku, delta)
            changed_at = datetime.now(UTC).isoformat()
        self._report_level(sku, level, changed_at)

    def _report_level(self, sku: str, level: int, changed_at: str) -> None:
        """A signed stock.set with the shop's own change time, as a shop's webhook sends it."""
        # A shop that sold more than it had (a race lost to an Allegro buyer) reports 0, not a negative level.
        status = self._webhook(
            {"type": "stock.set", "sku": sku, "stock": max(level, 0), "occurred_at": changed_at}
        )
        with self._lock:
            self.activity["stock_webhooks"] += 1
            if status != 202:
                self.problems.append(f"stock webhook for {sku} answered {status}")
                self.activity["stock_webhooks_refused"] += 1

    def _buy(self, sku: str) -> None:
        """A buyer buys what an offer shows (Allegro refuses more) and pays; now and then one cancels."""
        if self.rng.random() < self.config.cancel_share:
            self._cancel_one()
        account = self.rng.choice(self.accounts)
        offer_id = self.offers[sku][account]
        quantity = 1 if self.rng.random() < 0.8 else 2
        with self._lock:
            try:
                form = self.emulator.marketplace.buy(offer_id, quantity, buyer_login=self._buyer(account))
            except (KeyError, ValueError):
                self.activity["purchases_refused"] += 1  # the offer showed too little or was ended: good
                return
            moment = time.monotonic()
            shortfall = max(0, quantity - max(self.truth[sku], 0))
            if shortfall:
                short = self._short_since(sku, quantity)
                since = float("inf") if short is None else self._unblocked_seconds(short, moment)
                if since > self.config.grace_seconds:
                    self.activity["oversold_preventable"] += shortfall
                    self.problems.append(
                        f"oversold {shortfall} x {sku} on {account}, {since:.0f} s after it ran out"
                    )
                else:
                    self.activity["oversold_in_race"] += shortfall
            self.truth[sku] -= quantity
            self.levels[sku].append((moment, self.truth[sku]))
            self.last_drop[sku] = moment
            purchase = Purchase(form, account, offer_id, sku, quantity, time.time())
            self.purchases.append(purchase)
            self.activity["orders"] += 1
        self._pay(purchase)

    @staticmethod
    def _buyer(account: str) -> str:
        """The buyer of every purchase on `account`: a login and e-mail per account for the log scan to look
        for, and one buyer for both purchases of a combined payment (Allegro combines one buyer's only)."""
        return f"kupujacy-{account}"

    # --- allegro-orders: combined payments (#1111) and changes after payment (#3730, #3085) ------------

    def _pay(self, purchase: Purchase) -> None:
        """Pay now, or hold it for the account's next purchase and pay both together (a combined payment:
        Allegro replaces both forms by a new one, so the purchases now live in that form)."""
        market = self.emulator.marketplace
        with self._lock:
            held = self.unpaid.pop(purchase.account, None)
            if held is None and self.rng.random() < self.config.combined_payment_share:
                self.unpaid[purchase.account] = purchase
                return
            if held is None:
                market.pay(purchase.form_id)
            else:
                [paid] = market.pay_together(held.form_id, purchase.form_id)
                held.form_id = purchase.form_id = paid
                self.activity["combined_payments"] += 1
                self.activity["orders_paid_together"] += 2
            if self.rng.random() < self.config.address_change_share:
                self._change_address()

    def _change_address(self) -> None:
        recent = [p for p in self.purchases[-20:] if not p.cancelled and p not in self.unpaid.values()]
        if recent:
            try:
                self.emulator.marketplace.modify(self.rng.choice(recent).form_id, city="Gdańsk")
                self.activity["address_changes_after_payment"] += 1
            except ValueError:
                pass  # past Allegro's conditions (#3730): the buyer could not either

    def _pay_held(self) -> None:
        """After the traffic: pay what still waits for a partner purchase, on its own."""
        with self._lock:
            for purchase in self.unpaid.values():
                self.emulator.marketplace.pay(purchase.form_id)
            self.unpaid.clear()

    def _short_since(self, sku: str, quantity: int) -> float | None:
        """Since when the SKU has had less than `quantity` without a break (None: since the seeding).

        Counted from the change that made it short, not from the last purchase: a second oversell a minute
        after the stock ran out is preventable, however many purchases came in between."""
        since: float | None = None
        for moment, level in reversed(self.levels[sku]):
            if level >= quantity:
                return since
            since = moment
        return None if self.seeded.get(sku, 0) < quantity else since

    def _cancel_one(self) -> None:
        with self._lock:
            held = list(self.unpaid.values())
            candidates = [
                p
                for p in self.purchases[-50:]
                if not p.cancelled
                and time.time() - p.at > 3
                and p not in held
                # issue 15: an order refunded, labelled or sent back is not cancelled by its buyer too
                and p.form_id not in self.after_sale_book.used
            ]
            if not candidates:
                return
            chosen = self.rng.choice(candidates)
            try:
                self.emulator.marketplace.cancel(
                    chosen.form_id
                )  # paid: BUYER_CANCELLED after payment (#3085)
            except ValueError:
                return  # past Allegro's conditions: the buyer could not cancel either
            for purchase in (p for p in self.purchases if p.form_id == chosen.form_id):  # a merged form: all
                purchase.cancelled = True
                self.truth[purchase.sku] += purchase.quantity
                # soakfix: the units are back from now on (else `_short_since` reads the SKU as short
                # through the cancellation and counts a later race as preventable)
                self.levels[purchase.sku].append((time.monotonic(), self.truth[purchase.sku]))
                self.activity["cancellations"] += 1

    def _fire(self, name: str) -> None:
        try:
            self.runtime.fire(name)
        except InjectedCrash:
            pass
        except Exception as error:
            with self._lock:
                self.activity[f"{name}_failed_runs"] += 1
                self.problems.append(f"{name}: {type(error).__name__}: {error}"[:300])
        with self._lock:
            self.activity[f"{name}_runs"] += 1

    def _fire_async(self, name: str) -> None:
        """A scheduled run on its own thread; skipped while the previous one still runs (the functions
        have reserved concurrency 1, and EventBridge's retries of a throttled run would queue up)."""
        with self._lock:
            if name in self._firing:
                self.activity[f"{name}_skipped_busy"] += 1
                return
            self._firing.add(name)

        def run() -> None:
            try:
                self._fire(name)
            finally:
                with self._lock:
                    self._firing.discard(name)

        thread = threading.Thread(target=run, daemon=True, name=f"schedule-{name}")
        self._scheduled.append(thread)
        thread.start()

    def _wait_scheduled(self) -> None:
        for thread in self._scheduled:
            thread.join()
        self._scheduled.clear()

    def _step_queues(self, *, budget_seconds: float) -> bool:
        """Let the background pollers work until the queues are empty or the budget is spent; True if any
        message was received meanwhile."""
        poller = self.runtime.poller
        before = sum(poller.stats.received.values())
        deadline = time.perf_counter() + budget_seconds
        while time.perf_counter() < deadline and any(poller.pending().values()):
            time.sleep(0.1)
        return sum(poller.stats.received.values()) > before

    # ---- convergence -----------------------------------------------------------------------------------

    def _converge(self) -> None:
        """Faults off, shop up; keep polling until the queues are empty and every order reached the shop."""
        self.crashes.rate = 0.0
        self.emulator.set_faults(
            error_rate=0.0,
            latency_ms=0,
            requests_per_minute=9000,
            order_event_duplicate_rate=0.0,
            order_event_skip_rate=0.0,
            patch_conflict_rate=0.0,
        )
        self.seller_limits.stop()  # allegro-limits
        self._close_windows()
        self._shop_up()
        self._wait_scheduled()
        deadline = time.perf_counter() + self.config.converge_timeout
        settled_rounds = scans = 0
        last_scan = float("-inf")
        # Two gap scans, 10 s apart (events skipped during the run are re-emitted within seconds): each scan
        # re-enqueues every recent order (harmless, imported once), so scanning every round never settles.
        while time.perf_counter() < deadline and settled_rounds < 2:
            self._fire("order_poller")
            if scans < 2 and time.perf_counter() - last_scan > 10:
                self._fire("order_gap_scan")
                scans, last_scan = scans + 1, time.perf_counter()
            worked = self._step_queues(budget_seconds=5.0)
            self._note_block()
            pending = any(self.runtime.poller.pending().values())
            delivered = all(p.form_id in self.shop.orders for p in self.purchases)
            quiet = scans == 2 and not worked and not pending and delivered
            settled_rounds = settled_rounds + 1 if quiet else 0
            if not worked:
                time.sleep(0.5)
        self._quiet_quarter_hour()
        self.outsider = self._outsider_counts()  # before anything below repairs what the system missed
        # The shop's final word, sent past the ledger's clock-skew margin for every confirmed sale.
        time.sleep(DEFAULT_CLOCK_SKEW.total_seconds() + 1)
        for sku in sorted({p.sku for p in self.purchases} | set(self.last_drop) | self._delivered_skus()):
            self._report_level(sku, self.shop.stock[sku], datetime.now(UTC).isoformat())
        self._fire("reconciler")
        end = time.perf_counter() + 120
        while time.perf_counter() < end and (
            self._step_queues(budget_seconds=5.0) or any(self.runtime.poller.pending().values())
        ):
            time.sleep(0.2)
        self.runtime.poller.stop()

    def _quiet_quarter_hour(self) -> None:
        """What a quarter of an hour without traffic brings: every scheduled function of the topology runs
        once (the system's own repairs: reconciler, repricer, and whatever is added), then the queues empty.
        The soak itself repairs nothing before the outsider counts."""
        for function in sorted({f.name for _, f in TOPOLOGY.schedules()} - {"order_poller"}):
            self._fire(function)
        end = time.perf_counter() + 60
        while time.perf_counter() < end and (
            self._step_queues(budget_seconds=5.0) or any(self.runtime.poller.pending().values())
        ):
            time.sleep(0.2)

    def _delivered_skus(self) -> set[str]:
        return {sku for sku in self.shop.stock if self.shop.stock[sku] != self.truth.get(sku)}

    # ---- the count -------------------------------------------------------------------------------------

    def _check(self) -> dict[str, int]:
        """Orders as the shop's books hold them, the outsider counts taken before the repairs, the DLQs (and
        the orders the system asks the seller to look at, as `status` shows them)."""
        orders = self.runtime.application("order_worker").order_repository()
        lost = twice = 0
        bought: dict[tuple[str, str], int] = Counter()  # (form, SKU) -> units: purchases paid together share
        for purchase in self.purchases:
            bought[(purchase.form_id, purchase.sku)] += 0 if purchase.cancelled else purchase.quantity
        for (form_id, sku), expected in sorted(bought.items()):
            record = orders.get(form_id)
            held = self.shop.taken.get(form_id, Counter())[sku]
            if record is None or form_id not in self.shop.orders or held < expected:
                lost += 1
                self.problems.append(
                    f"order {form_id} ({sku} x{expected} expected): imported={record is not None}, "
                    f"shop holds {held}"
                )
            elif held > expected:
                twice += 1
                self.problems.append(f"order {form_id} applied {held} for {expected}")
        waiting = orders.needing_attention()
        self.problems.extend(f"order {form} waits for attention: {why}" for form, _, why in waiting[:5])
        sqs = self.runtime.client("sqs")
        dead = 0
        for name, queue in self.runtime.wiring.queues.items():
            count = int(
                sqs.get_queue_attributes(
                    QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]["ApproximateNumberOfMessages"]
            )
            if count:
                self.problems.append(f"{count} message(s) in the {name} DLQ")
            dead += count
        duplicates = duplicate_offers(self.emulator)  # allegro-limits
        self.problems.extend(duplicates)
        self.activity["per_user_429s"] = self.seller_limits.per_user_429s
        return {
            "duplicate_offers_per_sku_account": len(duplicates),
            "orders_lost": lost,
            "orders_applied_twice": twice,
            "offers_off_shop": self.outsider.get("offers_off_shop", -1),
            "shop_off_truth": self.outsider.get("shop_off_truth", -1),
            "oversold_preventable": self.activity["oversold_preventable"],
            "dlq_messages": dead,
            "orders_waiting_for_attention": len(waiting),
            "tracking_never_reached_allegro": self._tracking_never_reached(),  # issue 14, item 6
            **self._after_sale_counts(),  # issue 15
        }

    # ---- issue 15: labels, refunds and returns (bench/soak/after_sale.py) ---------------------------------

    def _after_sale_step(self, _sku: str) -> None:
        self.after_sale.act(self._after_sale_candidates, self._returned)

    def _after_sale_candidates(self) -> list[tuple[str, str, str, int]]:
        """(form, offer, SKU, units) of the paid, uncancelled orders the shop has (caller holds the lock)."""
        held = list(self.unpaid.values())
        return [
            (p.form_id, p.offer_id, p.sku, p.quantity)
            for p in self.purchases
            if not p.cancelled and p not in held and p.form_id in self.shop.orders
        ]

    def _returned(self, sku: str, units: int) -> None:
        """A returned parcel reached the shop: its units are there again (the caller holds the lock)."""
        self.truth[sku] += units
        self.levels[sku].append((time.monotonic(), self.truth[sku]))

    def _after_sale_counts(self) -> dict[str, int]:
        counts = self.after_sale.count()
        self.activity.update(self.after_sale.activity)
        self.problems.extend(self.after_sale.problems)
        return counts

    # ---- issue 14, item 6 (allegro-misc): tracking numbers ------------------------------------------------

    def _ship(self) -> None:
        """The demo shop fulfils a share of the paid orders: one tracking number each, signed like a shop."""
        self.shipped: dict[str, str] = {}
        self.activity["fulfilments_sent"] += 0
        held = list(self.unpaid.values())
        # The shop ships what it has received: on a loaded machine orders may still be on their way when the
        # traffic stops, so give them (faults still on, the order poller still on its schedule) up to two
        # minutes to arrive, as a shop's day would.
        paid = [p for p in self.purchases if not p.cancelled and p not in held]
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and sum(p.form_id in self.shop.orders for p in paid) < len(paid):
            self._fire_async("order_poller")  # skipped while the previous run still polls
            time.sleep(2.0)
        self.after_sale.each_kind_once(self._after_sale_candidates)  # issue 15: what the traffic missed
        for purchase in list(self.purchases):
            # A shop ships only an order it has received, and a paid one (not one waiting to be paid with the
            # buyer's next purchase); an update for an order not imported yet is dropped by design.
            unknown = purchase.form_id not in self.shop.orders or purchase in held
            unknown |= purchase.form_id in self.after_sale_book.labelled  # issue 15: its label tracks it
            if purchase.cancelled or unknown or self.rng.random() >= self.config.ship_share:
                continue
            waybill = f"SOAK{uuid.uuid4().hex[:16].upper()}"
            payload = {
                "type": "order.status",
                "checkout_form_id": purchase.form_id,
                "parcels": [{"carrier": "DPD", "waybill": waybill}],
            }
            body = json.dumps(payload).encode()
            headers = {
                "Content-Type": "application/json",
                **signing.signed_headers(WEBHOOK_SECRET, uuid.uuid4().hex, body, int(time.time())),
            }
            answer = self.shop_sender.post(
                f"{self.http_url}/webhooks/shop/orders", content=body, headers=headers, timeout=60
            )
            if answer.status_code == 202:
                self.shipped[purchase.form_id] = waybill
            self.activity["fulfilments_sent"] += 1

    def _tracking_never_reached(self) -> int:
        """Tracking numbers the shop sent that are not on Allegro's order (each unique: none is refused)."""
        journal = self.runtime.application("fulfillment_worker").fulfillment_journal()
        missing = 0
        for form_id, waybill in getattr(self, "shipped", {}).items():
            form = self.emulator.marketplace.state.checkout_forms[form_id]
            if any(s["waybill"] == waybill for s in form.shipments):
                continue
            missing += 1
            flagged = bool(journal.refused(form_id))
            self.activity["tracking_refused_and_flagged"] += flagged
            self.problems.append(f"tracking {waybill} of order {form_id} never reached Allegro ({flagged=})")
        return missing

    def _outsider_counts(self) -> dict[str, int]:
        """What a seller would see once things settle, before the soak's repair pass (the shop's last word
        re-sent, a reconciler run): every offer on Allegro against the shop's own books, and the shop's books
        against what is physically there. The system's own records (the ledger) are not asked."""
        touched = sorted(
            {p.sku for p in self.purchases}
            | set(self.last_drop)
            | {s for s in self.skus if self.shop.stock[s] != self.truth[s]}
        )
        sample = self.rng.sample(self.skus, min(50, len(self.skus)))
        offers_off = shop_off = 0
        for sku in sorted(set(touched) | set(sample)):
            books = self.shop.stock[sku]
            if books != self.truth[sku]:
                shop_off += 1
                self.problems.append(f"{sku}: the shop's books say {books}, {self.truth[sku]} are there")
            for account, offer_id in sorted(self.offers[sku].items()):
                offer = self.emulator.marketplace.offer(offer_id)
                shown = int(offer["stock"]["available"])
                status = offer["publication"]["status"]
                fine = (
                    (status == "ACTIVE" and shown == books)
                    if books > 0
                    else (shown == 0 or status == "ENDED")
                )
                if not fine:
                    offers_off += 1
                    self.problems.append(
                        f"offer {offer_id} ({sku}, {account}) shows {shown} {status}, the shop has {books}"
                    )
        return {"offers_off_shop": offers_off, "shop_off_truth": shop_off}

    def _order_latencies(self) -> list[float]:
        return [
            self.shop.first_seen[p.form_id] - p.at
            for p in self.purchases
            if p.form_id in self.shop.first_seen
        ]

    def _secret_values(self) -> list[str]:
        """Every secret the system holds or held: what a log line must never contain."""
        values = {
            WEBHOOK_SECRET,
            SHOP_SECRET,
            DEFAULT_CLIENT_SECRET,
            *self.emulator.oauth.refresh_tokens_issued(),
        }
        sm = self.runtime.client("secretsmanager")
        for page in sm.get_paginator("list_secrets").paginate():
            for entry in page["SecretList"]:
                raw = sm.get_secret_value(SecretId=entry["ARN"]).get("SecretString") or ""
                values.update(strings(json.loads(raw)) if raw.startswith("{") else {raw})
        return sorted(v for v in values if len(v) >= 12)

    def _buyer_data(self) -> list[str]:
        """What would identify a buyer of this run: it must never reach a log line. Names, e-mail, login,
        phones and the address as the emulator generated them (a first name or a city alone would match
        ordinary words, so they count as part of a full name or address)."""
        values: set[str] = set()
        for form in self.emulator.marketplace.state.checkout_forms.values():
            buyer, address = form.buyer, form.delivery.get("address", {})
            values.update(
                str(v)
                for v in (
                    buyer.get("email"),
                    buyer.get("login"),
                    buyer.get("lastName"),
                    buyer.get("phoneNumber"),
                    _joined(buyer.get("firstName"), buyer.get("lastName")),
                    address.get("lastName"),
                    address.get("street"),
                    address.get("phoneNumber"),
                    _joined(address.get("zipCode"), address.get("city")),
                )
                if v
            )
        return sorted(values)

    # ---- helpers ---------------------------------------------------------------------------------------

    def _webhook(self, payload: dict[str, Any]) -> int:
        """What a shop does: a signed POST, retried with the same delivery id while the answer is 5xx."""
        body = json.dumps(payload).encode()
        delivery = uuid.uuid4().hex
        for attempt in range(6):
            headers = {
                "Content-Type": "application/json",
                **signing.signed_headers(WEBHOOK_SECRET, delivery, body, int(time.time())),
            }
            status = self.shop_sender.post(
                f"{self.http_url}/webhooks/shop", content=body, headers=headers, timeout=120
            ).status_code
            if status < 500:
                return status
            with self._lock:
                self.activity["stock_webhooks_retried"] += 1
            time.sleep(0.5 * 2**attempt)
        return status


def _price(sku: str) -> str:
    return f"{100 + int(sku.rsplit('-', 1)[-1]) % 400}.99"


def _joined(*parts: Any) -> str | None:
    """'Jan Kowalski', '00-001 Warszawa': None unless every part is there."""
    return " ".join(str(p) for p in parts) if all(parts) else None
