"""The composition root: the one place that turns `Settings` into the objects a function works with.

`Application(settings)` builds each use case the first time it is asked for and keeps it, so a warm
Lambda reuses its boto3 clients, its httpx pool, its cached secrets and its rate guard. A handler module
asks `application()` for what it needs; nothing else in the package builds adapters or reads settings.

In AWS one process is one function instance: `application()` builds the process's application from
`os.environ` once. The local runtime and tests build their own (`Application(Settings.from_environ(env))`)
and `bind` it for the duration of an invocation, so several functions, each with its own settings, can
run side by side in one process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from aws_lambda_powertools import Logger

from allegro_sync.settings import Settings

if TYPE_CHECKING:  # the modules below are imported by the method that builds with them (cold start)
    import httpx

    from allegro_sync.adapters.allegro.client import AllegroClient
    from allegro_sync.adapters.allegro.environment import AllegroEnvironment
    from allegro_sync.adapters.allegro.rate_guard import RateGuard
    from allegro_sync.adapters.dynamodb.buyer_data import DynamoBuyerData
    from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
    from allegro_sync.adapters.dynamodb.catalog_import import DynamoImportProgress
    from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
    from allegro_sync.adapters.dynamodb.fulfillment_journal import DynamoFulfillmentJournal
    from allegro_sync.adapters.dynamodb.gpsr import DynamoProducerMappings
    from allegro_sync.adapters.dynamodb.label_rules import DynamoLabelRules
    from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository
    from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
    from allegro_sync.adapters.dynamodb.market_rules import DynamoMarketRules
    from allegro_sync.adapters.dynamodb.orders import DynamoOrderCursors, DynamoOrderRepository
    from allegro_sync.adapters.dynamodb.pushed import DynamoPushLog
    from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore
    from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries
    from allegro_sync.adapters.dynamodb.sweep_cursor import DynamoSweepCursor
    from allegro_sync.adapters.order_queues import SqsFulfillmentQueue, SqsOrderQueue, SqsStockChanges
    from allegro_sync.adapters.queues import ShopEventQueue
    from allegro_sync.adapters.redelivery import Redelivery
    from allegro_sync.adapters.safety_files import HttpSafetyFiles
    from allegro_sync.adapters.shop.deliveries import DynamoRefusals
    from allegro_sync.adapters.shop.shopify import ShopifyKeys
    from allegro_sync.adapters.shop.signing_secret import SigningSecretStore
    from allegro_sync.adapters.shop.woocommerce_refunds import WooCommerceRefunds
    from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceProducts
    from allegro_sync.adapters.shop_credentials import ShopCredentialsStore
    from allegro_sync.adapters.stock_rechecks import SqsStockRechecks
    from allegro_sync.contracts.accounts import AccountProfile
    from allegro_sync.contracts.allegro import CategoryParameter
    from allegro_sync.contracts.shop import LabelLink
    from allegro_sync.custody import Custody
    from allegro_sync.services.buyer_messages import MessageFollower  # issue 15, item 4
    from allegro_sync.services.dlq import DeadLetters
    from allegro_sync.services.fulfillment import Fulfillment
    from allegro_sync.services.invoices import Invoices
    from allegro_sync.services.labels import Labels
    from allegro_sync.services.listings import ListingOptimizer
    from allegro_sync.services.orders import GapScanner, OrderImporter, OrderPoller, PollChain, PollSettings
    from allegro_sync.services.privacy import BuyerData
    from allegro_sync.services.propagation import Propagator
    from allegro_sync.services.publishing import OfferSettings, Publisher
    from allegro_sync.services.reconcile import Reconciler
    from allegro_sync.services.refunds import RefundIssuer
    from allegro_sync.services.repricing import Repricer
    from allegro_sync.services.returns import ReturnsFollower
    from allegro_sync.services.shop_delivery import ShopDelivery
    from allegro_sync.services.shop_probe import ShopProbe
    from allegro_sync.services.shop_reconcile import ShopReconciler
    from allegro_sync.services.stock import StockLedger
    from allegro_sync.services.stock_recheck import StockRecheck
    from allegro_sync.services.tokens import AccountTokens
    from allegro_sync.services.webhooks import WebhookIntake

_T = TypeVar("_T")

ALLEGRO_TIMEOUT_SECONDS, ALLEGRO_CONNECT_TIMEOUT_SECONDS = 10.0, 3.0
SHOP_TIMEOUT_SECONDS = 10.0


logger = Logger(child=True)


class Application:
    """Everything one function instance needs, built lazily from its settings.

    `aws` (a boto3 Session) and `http` (the httpx client Allegro is called with) can be given by tests and
    the local runtime; otherwise they are built from the settings. One instance serves one function
    instance: a Lambda process, or one worker of the local runtime.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        aws: boto3.Session | None = None,
        http: httpx.Client | None = None,
        rate_guard: RateGuard | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:

        self.settings = settings
        self._aws = aws
        self._http = http
        self._rate_guard = rate_guard
        self.now = now
        self.sleep = sleep
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}
        self._clients: dict[str, AllegroClient] = {}
        self._tokens: dict[str, AccountTokens] = {}
        self.parameter_cache: dict[str, list[CategoryParameter]] = {}

    def _once(self, name: str, build: Callable[[], _T]) -> _T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]  # type: ignore[no-any-return]

    # -- AWS and HTTP --------------------------------------------------------------------------

    def session(self) -> boto3.Session:
        return self._once("session", lambda: self._aws or boto3.Session(region_name=self.settings.region))

    def aws_client(self, service: str) -> Any:
        """One boto3 client per service (boto3 clients are thread-safe), at the settings' endpoint."""
        return self._once(
            f"client:{service}",
            lambda: self.session().client(service, endpoint_url=self.settings.aws_endpoint_url),
        )

    def dynamodb(self) -> Any:
        return self._once(
            "resource:dynamodb",
            lambda: self.session().resource("dynamodb", endpoint_url=self.settings.aws_endpoint_url),
        )

    def table(self, name: str) -> Any:
        """A DynamoDB Table resource for the topology's logical table `name`."""
        return self._once(f"table:{name}", lambda: self.dynamodb().Table(self.settings.table(name)))

    def http(self) -> httpx.Client:
        """The connection pool Allegro is called through: warm TLS sessions across invocations."""
        import httpx

        timeout = httpx.Timeout(ALLEGRO_TIMEOUT_SECONDS, connect=ALLEGRO_CONNECT_TIMEOUT_SECONDS)
        return self._once("http", lambda: self._http or httpx.Client(timeout=timeout))

    def shop_http(self) -> httpx.Client:
        import httpx

        return self._once(
            "shop-http", lambda: httpx.Client(timeout=SHOP_TIMEOUT_SECONDS, follow_redirects=False)
        )

    # -- Allegro and seller accounts -----------------------------------------------------------

    def allegro_environment(self) -> AllegroEnvironment:
        from allegro_sync.adapters.allegro.environment import AllegroEnvironment

        s = self.settings
        return AllegroEnvironment.resolve(
            environment=s.allegro_environment,
            api_url=s.allegro_api_url,
            upload_url=s.allegro_upload_url,
            oauth_url=s.allegro_oauth_url,
        )

    def rate_guard(self) -> RateGuard:
        """One guard per function instance: its pace is the instance's, whatever account it serves; with the
        control table, every call also draws on the app-wide shared pool (docs/architecture.md, D12)."""
        from allegro_sync.adapters.allegro.rate_guard import (
            InMemoryBlockedUntilStore,
            RateGuard,
            pooled_rate_guard,
        )
        from allegro_sync.adapters.allegro.shared_budget import UNDRAWN_PER_SLOT
        from allegro_sync.adapters.dynamodb.rate_limit import (
            FALLBACK_RPM_BUDGET,
            DynamoBlockedUntilStore,
            DynamoSharedBudget,
        )

        def build() -> RateGuard:
            if self._rate_guard is not None:
                return self._rate_guard
            budget = self.settings.allegro_rpm_budget or FALLBACK_RPM_BUDGET
            control = self.settings.tables.get("control")
            if not control:
                return RateGuard(InMemoryBlockedUntilStore(), rpm_budget=budget)
            dynamodb = self.aws_client("dynamodb")
            return pooled_rate_guard(
                DynamoBlockedUntilStore(control, client=dynamodb),
                DynamoSharedBudget(control, client=dynamodb),
                rpm_budget=budget,
                burst_rpm=self.settings.allegro_burst_rpm,
                # a deployed function (counted in the pool's undrawn share), not the operator's CLI
                undrawn=UNDRAWN_PER_SLOT if self.settings.function_name else 0,
            )

        return self._once("rate-guard", build)

    def custody(self) -> Custody:
        from allegro_sync.adapters.allegro.oauth import AllegroOAuth
        from allegro_sync.adapters.secrets import AppCredentialsStore
        from allegro_sync.custody import AccountsSettings, Custody

        def build() -> Custody:
            s = self.settings
            accounts = AccountsSettings.from_settings(s)
            secrets = self.aws_client("secretsmanager")
            oauth = AllegroOAuth(
                AppCredentialsStore(accounts.app_credentials_secret, client=secrets).read,
                hosts=accounts.allegro_hosts,
            )
            return Custody.build(
                accounts,
                oauth=oauth,
                now=self.now,
                sleep=self.sleep,
                secrets_client=secrets,
                dynamodb=self.dynamodb(),
                sqs_client=self.aws_client("sqs") if accounts.recovery_queue_url else None,
                metrics_namespace=s.metrics_namespace,
            )

        return self._once("custody", build)

    def tokens(self, account: str) -> AccountTokens:
        """The token source of one seller account; one per account, so a warm process refreshes once."""
        with self._lock:
            if account not in self._tokens:
                self._tokens[account] = self.custody().tokens(account)
            return self._tokens[account]

    def allegro(self, account: str) -> AllegroClient:
        """The Allegro client of one seller account, sharing this instance's guard and pool."""
        from allegro_sync.adapters.allegro.client import AllegroClient

        with self._lock:
            if account not in self._clients:
                self._clients[account] = AllegroClient(
                    self.allegro_environment(),
                    self.tokens(account),
                    account=account,
                    rate_guard=self.rate_guard(),
                    http=self.http(),
                    user_agent=self.user_agent(),
                )
            return self._clients[account]

    def user_agent(self) -> str:
        """The registered application's `name/version (+URL)` from the app credentials (`accounts set-app`);
        the project's own until they name it, logged so the operator sees why Allegro may refuse calls."""
        from allegro_sync.adapters.allegro.client import USER_AGENT

        try:
            stored = self.custody().app_credentials.read().user_agent()
        except Exception:  # no credentials yet: the token source fails the call with the real reason
            stored = None
        if stored is None:
            logger.warning("the Allegro application's name, version and URL are not set: accounts set-app")
        return stored or USER_AGENT

    def connected_accounts(self) -> list[AccountProfile]:
        """CONNECTED accounts by name (one query): a disconnected one waits for the seller, not for us."""
        from allegro_sync.contracts.accounts import AccountStatus

        profiles = self.custody().registry.all()
        return sorted((p for p in profiles if p.status is AccountStatus.CONNECTED), key=lambda p: p.name)

    def connected_clients(self) -> dict[str, AllegroClient]:
        return {p.name: self.allegro(p.name) for p in self.connected_accounts()}

    # -- stock ---------------------------------------------------------------------------------

    def stock_ledger(self) -> StockLedger:
        """With the re-read of a sale in doubt where the function may send it (`stock-rechecks`)."""
        from allegro_sync.services.stock import StockLedger

        return self._once(
            "ledger", lambda: StockLedger(self.ledger_repository(), rechecks=self.stock_rechecks())
        )

    def ledger_repository(self) -> DynamoLedgerRepository:
        """The ledger table itself: the stock use cases' store, and where the intake reads a SKU's level."""
        from allegro_sync.adapters.dynamodb.ledger import DynamoLedgerRepository

        return self._once(
            "ledger-repository",
            lambda: DynamoLedgerRepository(self.settings.table("ledger"), self.aws_client("dynamodb")),
        )

    def stock_changes(self) -> SqsStockChanges:
        from allegro_sync.adapters.order_queues import SqsStockChanges

        return self._once(
            "stock-changes",
            lambda: SqsStockChanges(lambda: self.settings.queue("stock-changes"), self.aws_client("sqs")),
        )

    def change_log(self) -> DynamoChangeLog:
        from allegro_sync.adapters.dynamodb.changes import DynamoChangeLog
        from allegro_sync.contracts.catalog import Change

        def stock_changes(sku: str) -> list[Change]:  # built when read: not every function pushes stock
            return self.push_log().stock_changes(sku)

        return self._once("changes", lambda: DynamoChangeLog(self.table("changes"), stock_changes))

    def push_log(self) -> DynamoPushLog:
        from allegro_sync.adapters.dynamodb.pushed import DynamoPushLog

        return self._once("push-log", lambda: DynamoPushLog(self.settings.table("ledger"), self.dynamodb()))

    def propagator(self) -> Propagator:
        from allegro_sync.services.propagation import Propagator

        return self._once(
            "propagator",
            lambda: Propagator(
                views=self.stock_ledger(),
                pushed=self.push_log(),
                clients=ConnectedAccounts(self),
                changes=self.change_log(),
                archived=CatalogRecreator(self),
            ),
        )

    def reconciler(self) -> Reconciler:
        from allegro_sync.services.reconcile import Reconciler

        return self._once(
            "reconciler",
            lambda: Reconciler(
                ledger=self.stock_ledger(),
                clients=ConnectedAccounts(self),
                propagator=self.propagator(),
                accounts=lambda: [p.name for p in self.connected_accounts()],
            ),
        )

    # -- catalogue -----------------------------------------------------------------------------

    def offer_settings(self) -> OfferSettings:
        from allegro_sync.services.publishing import OfferSettings
        from allegro_sync.settings import OFFER_SETTINGS_ENV

        raw = self.settings.offer_settings
        if not raw:
            return OfferSettings()
        try:
            return OfferSettings.model_validate_json(raw)
        except ValueError as error:
            raise ValueError(f"{OFFER_SETTINGS_ENV} is not valid offer settings JSON: {error}") from error

    def publisher(self) -> Publisher:
        from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog, DynamoLinkWrites
        from allegro_sync.adapters.dynamodb.gpsr import DynamoGpsrIds
        from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
        from allegro_sync.adapters.dynamodb.repricing import RepricingOwnership
        from allegro_sync.services.publishing import Context, Publisher

        return self._once(
            "publisher",
            lambda: Publisher(
                Context(
                    catalog=DynamoCatalog(self.table("catalog")),
                    mappings=DynamoMappings(self.table("mappings")),
                    changes=self.change_log(),
                    link_writes=DynamoLinkWrites(self.table("catalog"), self.table("changes")),
                    accounts=ConnectedAccounts(self),
                    settings=self.offer_settings(),
                    parameters=self.parameter_cache,
                    price_owner=RepricingOwnership(self.table("mappings")).owns_price,
                    ledger=self.stock_ledger(),
                    stock_changes=self.stock_changes(),
                    producers=self.producer_mappings(),
                    gpsr_ids=DynamoGpsrIds(self.table("control")),
                    safety_files=self.safety_files(),
                    market_rules=self.market_rules(),
                )
            ),
        )

    def repricer(self) -> Repricer:
        from allegro_sync.adapters.competitor_feed import CompetitorFeed
        from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
        from allegro_sync.adapters.dynamodb.market_rules import RepricingMarkets
        from allegro_sync.adapters.dynamodb.repricing import CatalogFacts, DynamoRepricingStore
        from allegro_sync.services.repricing import Repricer

        def build() -> Repricer:
            ledger = self.stock_ledger() if "ledger" in self.settings.tables else None
            facts = CatalogFacts(
                DynamoCatalog(self.table("catalog")),
                (lambda sku: ledger.view(sku).available) if ledger else None,
                (lambda skus: {k: v.available for k, v in ledger.views(skus).items()}) if ledger else None,
            )
            feed_url = self.settings.repricing_feed_url
            return Repricer(
                DynamoRepricingStore(self.table("mappings"), self.table("control")),
                facts,
                self.change_log(),
                feed=CompetitorFeed(feed_url) if feed_url else None,
                markets=RepricingMarkets(self.table("mappings")),  # issue 16: allegro.cz, .sk, .hu prices
            )

        return self._once("repricer", build)

    # -- orders --------------------------------------------------------------------------------

    def order_cursors(self) -> DynamoOrderCursors:
        from allegro_sync.adapters.dynamodb.orders import DynamoOrderCursors

        return self._once(
            "cursors", lambda: DynamoOrderCursors(self.settings.table("control"), self.aws_client("dynamodb"))
        )

    def order_repository(self) -> DynamoOrderRepository:
        from allegro_sync.adapters.dynamodb.orders import DynamoOrderRepository

        return self._once(
            "orders",
            lambda: DynamoOrderRepository(self.settings.table("orders"), self.aws_client("dynamodb")),
        )

    def order_queue(self) -> SqsOrderQueue:
        from allegro_sync.adapters.order_queues import SqsOrderQueue

        return self._once(
            "order-queue", lambda: SqsOrderQueue(self.settings.queue("orders"), self.aws_client("sqs"))
        )

    def poll_settings(self) -> PollSettings:
        from allegro_sync.services.orders import PollSettings

        return PollSettings(
            run_seconds=self.settings.order_poll_run_seconds,
            interval_seconds=self.settings.order_poll_interval_seconds,
        )

    def order_poller(self) -> OrderPoller:
        from allegro_sync.services.orders import OrderPoller

        return self._once(
            "poller",
            lambda: OrderPoller(self.order_cursors(), self.order_queue(), settings=self.poll_settings()),
        )

    def gap_scanner(self) -> GapScanner:
        from allegro_sync.services.orders import GapScanner

        return self._once(
            "gap-scanner",
            lambda: GapScanner(self.order_cursors(), self.order_repository(), self.order_queue()),
        )

    def order_importer(self) -> OrderImporter:
        from allegro_sync.adapters.dynamodb.orders import CatalogOfferLinks
        from allegro_sync.adapters.order_queues import SqsShopOutbox, SqsStockChangeHook
        from allegro_sync.domain.orders import StockCountPoint
        from allegro_sync.services.orders import OrderImporter

        def build() -> OrderImporter:
            sqs, dynamodb = self.aws_client("sqs"), self.aws_client("dynamodb")
            return OrderImporter(
                self.order_repository(),
                self.stock_ledger(),
                SqsShopOutbox(self.settings.queue("shop-outbox"), sqs),
                SqsStockChangeHook(self.settings.queue("stock-changes"), sqs),
                CatalogOfferLinks(self.settings.table("catalog"), dynamodb),
                self.stored_buyers(),
                count_at=StockCountPoint.parse(self.settings.order_stock_count_at),
                buyer_data_days=self.settings.order_buyer_data_days,
            )

        return self._once("importer", build)

    # -- the shop ------------------------------------------------------------------------------

    def shop_deliveries(self) -> DynamoShopDeliveries:
        from allegro_sync.adapters.dynamodb.shop_deliveries import DynamoShopDeliveries

        return self._once(
            "shop-deliveries",
            lambda: DynamoShopDeliveries(self.settings.table("orders"), self.aws_client("dynamodb")),
        )

    def shop_credentials(self) -> ShopCredentialsStore:
        from allegro_sync.adapters.shop_credentials import ShopCredentialsStore

        return self._once(
            "shop-credentials",
            lambda: ShopCredentialsStore(
                self.settings.secret("shop-credentials"), self.aws_client("secretsmanager")
            ),
        )

    def shop_delivery(self) -> ShopDelivery:
        """For this invocation: the shop's credentials as cached now (a rotation lands within max_age)."""
        from allegro_sync.adapters.shop_credentials import build_sink
        from allegro_sync.services.shop_delivery import ShopDelivery

        sink = build_sink(self.shop_credentials().read(), self.shop_http(), self.shop_deliveries())
        return ShopDelivery(
            sink, self.stock_ledger(), self.shop_deliveries(), self.stored_buyers(), self.shop_probe()
        )

    def signing_secrets(self) -> SigningSecretStore:
        from allegro_sync.adapters.shop.signing_secret import SigningSecretStore

        return self._once(
            "signing-secrets",
            lambda: SigningSecretStore(
                self.settings.secret("webhook-signing"),
                max_age_seconds=self.settings.webhook_secret_max_age_seconds,
                client=self.aws_client("secretsmanager"),
            ),
        )

    def webhook_intake(self) -> WebhookIntake:
        from allegro_sync.adapters.dynamodb.shop_cursor import LedgerLevels
        from allegro_sync.adapters.queues import ShopEventQueue, SqsFifoPublisher
        from allegro_sync.adapters.shop.deliveries import (
            DynamoDeliveryMarkers,
            DynamoInventoryItems,
            DynamoProductIndex,
            DynamoRefusals,
        )
        from allegro_sync.services.webhooks import WebhookIntake

        def build() -> WebhookIntake:
            table = self.table("idempotency")
            queue = SqsFifoPublisher(self.settings.queue("shop-events"), self.aws_client("sqs"))
            return WebhookIntake(
                DynamoDeliveryMarkers(table),
                ShopEventQueue(queue),
                DynamoProductIndex(table),
                DynamoRefusals(table),
                applied=LedgerLevels(self.ledger_repository()),
                inventory=DynamoInventoryItems(table),
            )

        return self._once("webhook-intake", build)

    def fulfillment_queue(self) -> SqsFulfillmentQueue:
        from allegro_sync.adapters.order_queues import SqsFulfillmentQueue

        return self._once(
            "fulfillment-queue",
            lambda: SqsFulfillmentQueue(self.settings.queue("fulfillment"), self.aws_client("sqs")),
        )

    # -- operator tooling (CLI) ----------------------------------------------------------------
    # What `allegro-sync` commands use beside the functions' use cases (see cli/deployment.py).

    def catalog(self) -> DynamoCatalog:
        from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog

        return self._once("catalog", lambda: DynamoCatalog(self.table("catalog")))

    def mappings(self) -> DynamoMappings:
        from allegro_sync.adapters.dynamodb.mappings import DynamoMappings

        return self._once("mappings", lambda: DynamoMappings(self.table("mappings")))

    def shop_event_queue(self) -> ShopEventQueue:
        """Where a catalogue import queues its products: the shop webhooks' own queue."""
        from allegro_sync.adapters.queues import ShopEventQueue, SqsFifoPublisher

        return self._once(
            "shop-event-queue",
            lambda: ShopEventQueue(
                SqsFifoPublisher(self.settings.queue("shop-events"), self.aws_client("sqs"))
            ),
        )

    def import_progress(self) -> DynamoImportProgress:
        from allegro_sync.adapters.dynamodb.catalog_import import DynamoImportProgress

        return self._once(
            "import-progress", lambda: DynamoImportProgress(self.table("control"), clock=self.now)
        )

    def repricing_store(self) -> DynamoRepricingStore:
        """The seller's repricing settings and history, without the repricer's Allegro side."""
        from allegro_sync.adapters.dynamodb.repricing import DynamoRepricingStore

        return self._once(
            "repricing-store",
            lambda: DynamoRepricingStore(self.table("mappings"), self.table("control")),
        )

    def listing_optimizer(self) -> ListingOptimizer:
        from allegro_sync.adapters.dynamodb.listings import DynamoListingStore
        from allegro_sync.services.listings import ListingOptimizer

        return self._once(
            "listing-optimizer",
            lambda: ListingOptimizer(
                DynamoListingStore(self.table("mappings")), self.catalog(), self.change_log()
            ),
        )

    def dead_letters(self) -> DeadLetters:
        """The DLQs this deployment has (the settings' queue and dead-letter queue URLs)."""
        from allegro_sync.services.dlq import DeadLetters
        from allegro_sync.topology import dlq_env, queue_env

        def build() -> DeadLetters:
            s = self.settings
            urls = {queue_env(name): url for name, url in s.queues.items()}
            urls |= {dlq_env(name): url for name, url in s.dead_letter_queues.items()}
            return DeadLetters(self.aws_client("sqs"), urls)

        return self._once("dead-letters", build)

    # -- WooCommerce as it really sends (issue 20): its REST API for what a delivery leaves out --------

    def shop_products(self) -> WooCommerceProducts | None:
        """The shop's product reader for the webhook intake (a variation's parent, a variable product's
        variations), or None when the stored shop credentials are not WooCommerce's or cannot be read
        now: the delivery then carries what it has. Built on first need, with a short timeout (the shop
        waits for our answer, and API Gateway gives us 30 s at most)."""
        import httpx

        from allegro_sync.adapters.shop.http_request import TRANSIENT_FAILURES
        from allegro_sync.adapters.shop.woocommerce_rest import READ_TIMEOUT_SECONDS, WooCommerceProducts
        from allegro_sync.adapters.shop_credentials import ShopNotConfigured, WooCommerceCredentials

        built = self._built.get("shop-products")
        if built is not None:
            return built  # type: ignore[no-any-return]
        try:
            credentials = self.shop_credentials().read()
        except (ShopNotConfigured, *TRANSIENT_FAILURES):
            return None  # not cached: credentials stored later are picked up by the next delivery
        if not isinstance(credentials, WooCommerceCredentials):
            return None
        reader = WooCommerceProducts(
            credentials.url,
            credentials.consumer_key.get_secret_value(),
            credentials.consumer_secret.get_secret_value(),
            httpx.Client(timeout=READ_TIMEOUT_SECONDS, follow_redirects=False),
        )
        return self._once("shop-products", lambda: reader)

    def shop_refusals(self) -> DynamoRefusals:
        """Shop data answered 2xx but not taken, per SKU (`products status` shows the last one)."""
        from allegro_sync.adapters.shop.deliveries import DynamoRefusals

        return self._once("shop-refusals", lambda: DynamoRefusals(self.table("idempotency")))

    # -- Shopify (issue 17): its webhooks are signed with the app's client secret, kept with the token ---

    def shopify_keys(self) -> ShopifyKeys:
        """What `/webhooks/shopify` verifies and counts with, from the `shopify` shop credentials (cached
        like them); SigningNotConfigured (503: Shopify resends) while they are missing or not Shopify's."""
        from allegro_sync.adapters.shop.shopify import ShopifyKeys
        from allegro_sync.adapters.shop.signing_secret import SigningNotConfigured
        from allegro_sync.adapters.shop_credentials import ShopifyCredentials, ShopNotConfigured

        try:
            credentials = self.shop_credentials().read()
        except ShopNotConfigured as exc:
            raise SigningNotConfigured(str(exc)) from None
        if not isinstance(credentials, ShopifyCredentials):
            raise SigningNotConfigured('the shop-credentials secret is not {"kind": "shopify", ...}')
        return ShopifyKeys(
            [credentials.api_secret.get_secret_value()],
            credentials.shop_domain,
            frozenset(credentials.location_ids),
            credentials.api_version,
        )

    # -- redelivery of failed records (adapters/redelivery.py) ---------------------------------
    # One call in each queue consumer after its batch: failed records come back when retrying makes
    # sense, not after the queue's visibility timeout.

    def redelivery(self, queue: str) -> Redelivery:
        """The consumer's own `queue` (its trigger; its URL is in the function's settings)."""
        from allegro_sync.adapters.redelivery import Redelivery

        url = lambda: self.settings.queue(queue)  # noqa: E731 - resolved only when a record failed
        return self._once(f"redelivery:{queue}", lambda: Redelivery(self.aws_client("sqs"), url))

    def redeliver_after_allegro_block(
        self, queue: str, event: Any, batch: Callable[[], Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Consumers that call Allegro: while Allegro blocks the app (or, in this instance, a seller's
        resource), failed records return at the block's end."""
        from allegro_sync.adapters.redelivery import until

        return self.redelivery(queue).settle(event, until(self.rate_guard().retry_in), batch)

    def redeliver_backing_off(
        self, queue: str, event: Any, batch: Callable[[], Mapping[str, Any]]
    ) -> dict[str, Any]:
        """The shop notifier: a failed delivery returns on the shop's next probe tick (D15)."""
        from allegro_sync.adapters.redelivery import back_off

        return self.redelivery(queue).settle(event, back_off(self.now), batch)

    # The queue consumers' whole entry point: Powertools' partial batch, then the redelivery above.

    def consume_after_allegro_block(
        self, queue: str, event: Any, context: Any, processor: Any, record_handler: Callable[..., Any]
    ) -> dict[str, Any]:
        """A consumer that calls Allegro: `record_handler` per record, failures back at a block's end."""
        from allegro_sync.adapters.batch import partial_batch

        batch = partial_batch(event, context, processor, record_handler)
        return self.redeliver_after_allegro_block(queue, event, batch)

    def consume_backing_off(
        self, queue: str, event: Any, context: Any, processor: Any, record_handler: Callable[..., Any]
    ) -> dict[str, Any]:
        """The shop notifier's entry point: `record_handler` per record, failures backed off."""
        from allegro_sync.adapters.batch import partial_batch

        batch = partial_batch(event, context, processor, record_handler)
        return self.redeliver_backing_off(queue, event, batch)

    def redeliver_stock_pushes(
        self, event: Any, blocked_until: Mapping[str, float], batch: Callable[[], Mapping[str, Any]]
    ) -> dict[str, Any]:
        """The stock propagator: each failed record back at the end of the block that failed it
        (`blocked_until` by message id), any other failure soon (adapters/redelivery.py)."""
        from allegro_sync.adapters.redelivery import own_block_or_soon

        policy = own_block_or_soon(self.rate_guard().blocked_for, blocked_until, self.now())
        return self.redelivery("stock-changes").settle(event, policy, batch)

    # -- shop reconciliation: lost webhooks (services/shop_reconcile.py) -----------------------
    # The shop's change listing fed through the webhooks' own intake; the cursor in `control`.

    def shop_reconciler(self) -> ShopReconciler:
        """For this run: the shop's credentials as cached now (a rotation lands within max_age)."""
        from datetime import timedelta

        from allegro_sync.adapters.dynamodb.shop_cursor import CatalogAppliedState, DynamoShopCursor
        from allegro_sync.adapters.shop_credentials import build_feed
        from allegro_sync.services.shop_reconcile import ShopReconciler

        overlap = timedelta(seconds=self.settings.shop_reconcile_overlap_seconds)
        feed = build_feed(self.shop_credentials().read(), self.shop_http(), overlap=overlap)
        cursor = DynamoShopCursor(self.table("control"))
        applied = CatalogAppliedState(self.catalog(), self.ledger_repository())
        return ShopReconciler(feed, self.webhook_intake(), cursor, applied, self.fulfillment_queue())

    # -- issue 14, item 6 (allegro-misc): fulfillment back, with its journal ----------------------

    def fulfillment_journal(self) -> DynamoFulfillmentJournal:
        from allegro_sync.adapters.dynamodb.fulfillment_journal import DynamoFulfillmentJournal

        return self._once(
            "fulfillment-journal",
            lambda: DynamoFulfillmentJournal(self.settings.table("orders"), self.aws_client("dynamodb")),
        )

    def fulfillment(self, account: str) -> Fulfillment:
        """A tracking number Allegro refuses goes to the order's journal, never silently away."""
        from allegro_sync.services.fulfillment import Fulfillment

        return Fulfillment(self.allegro(account), self.fulfillment_journal(), account=account)

    # -- trust (issue 19): buyers' personal data ---------------------------------------------------

    def buyer_data(self) -> BuyerData:
        """The queues holding buyers' personal data, for `buyers forget` (operator tooling)."""
        from allegro_sync.services.privacy import BuyerData
        from allegro_sync.topology import dlq_env, queue_env

        s = self.settings
        urls = {queue_env(name): url for name, url in s.queues.items()}
        urls |= {dlq_env(name): url for name, url in s.dead_letter_queues.items()}
        labels = None
        if "labels" in s.buckets:  # issue 15: label PDFs print the buyer's address
            from allegro_sync.adapters.label_files import S3LabelFiles

            labels = S3LabelFiles(s.bucket("labels"), self.aws_client("s3"))
        return BuyerData(self.aws_client("sqs"), urls, self.stored_buyers(), labels=labels)

    def stored_buyers(self) -> DynamoBuyerData:
        """Buyers' personal data on the orders table: written by the order worker for the shop notifier.
        Expiry is on the wall clock, as DynamoDB's TTL is."""
        from allegro_sync.adapters.dynamodb.buyer_data import DynamoBuyerData

        return self._once(
            "stored-buyers",
            lambda: DynamoBuyerData(self.settings.table("orders"), self.aws_client("dynamodb")),
        )

    # -- issue 21, goal 2: the order poller's tick chain (services/orders/ticks.py) -----------------

    def poll_chain(self) -> PollChain:
        """One poll per tick; the chain's heartbeat and each account's cursor in `control`."""
        from allegro_sync.adapters.dynamodb.poll_chain import DynamoPollChain
        from allegro_sync.adapters.order_queues import SqsPollTicks
        from allegro_sync.services.orders import PollChain

        def build() -> PollChain:
            store = DynamoPollChain(self.settings.table("control"), self.aws_client("dynamodb"))
            ticks = SqsPollTicks(self.settings.queue("poll-tick"), self.aws_client("sqs"))
            interval = self.settings.order_poll_interval_seconds
            return PollChain(store, ticks, self.order_poller(), interval_seconds=interval, clock=self.now)

        return self._once("poll-chain", build)

    # -- a sale in doubt settled by reading the shop (services/stock_recheck.py, docs/stock-ledger.md) --

    def stock_rechecks(self) -> SqsStockRechecks | None:
        """The delayed `stock-rechecks` queue, for the functions that may send to it (catalog worker, shop
        notifier); None elsewhere: only a shop level or an acknowledgement can put a sale in doubt."""
        from allegro_sync.adapters.stock_rechecks import SqsStockRechecks

        if "stock-rechecks" not in self.settings.queues:
            return None
        url = lambda: self.settings.queue("stock-rechecks")  # noqa: E731 - resolved at the first doubt
        return self._once("stock-rechecks", lambda: SqsStockRechecks(url, self.aws_client("sqs")))

    def stock_recheck(self) -> StockRecheck:
        """For this invocation: the shop's credentials as cached now; ShopNotConfigured for a generic shop
        without a `stock_url` (its next stock report settles the doubt)."""
        from allegro_sync.adapters.shop_credentials import build_stock_reader
        from allegro_sync.services.stock_recheck import StockRecheck

        reader = build_stock_reader(self.shop_credentials().read(), self.shop_http())
        return StockRecheck(reader, self.webhook_intake())

    # -- sweeps that scale (issue 21, goal 3): a sweep's continuation between runs -----------------------

    def sweep_cursor(self, sweep: str) -> DynamoSweepCursor:
        """Where the `sweep` function's next run goes on (control table)."""
        from allegro_sync.adapters.dynamodb.sweep_cursor import DynamoSweepCursor

        return self._once(f"sweep-cursor:{sweep}", lambda: DynamoSweepCursor(self.table("control"), sweep))

    # -- issue 16, item 2: GPSR per product (services/publishing/gpsr.py) -------------------------------

    def producer_mappings(self) -> DynamoProducerMappings:
        """The seller's brand -> responsible producer mappings (`producers map`), in `mappings`."""
        from allegro_sync.adapters.dynamodb.gpsr import DynamoProducerMappings

        return self._once("producer-mappings", lambda: DynamoProducerMappings(self.table("mappings")))

    def safety_files(self) -> HttpSafetyFiles:
        """Reads the shop's safety-information files (GPSR attachments) over the shop's HTTP client."""
        from allegro_sync.adapters.safety_files import HttpSafetyFiles

        return self._once("safety-files", lambda: HttpSafetyFiles(self.shop_http()))

    # -- issue 16, item 1: foreign marketplaces (services/publishing/markets.py) --------------------------

    def market_rules(self) -> DynamoMarketRules:
        """Which additional marketplaces, at which price (`markets set`), in `mappings`."""
        from allegro_sync.adapters.dynamodb.market_rules import DynamoMarketRules

        return self._once("market-rules", lambda: DynamoMarketRules(self.table("mappings")))

    # -- issue 15, item 3: customer returns and refunds (services/returns.py, services/refunds.py) --------

    def returns_follower(self) -> ReturnsFollower:
        """The order gap scan's second job: follow returns, take them back into stock, file claims."""
        from allegro_sync.adapters.dynamodb.after_sale import DynamoReturnsCursor
        from allegro_sync.adapters.order_queues import SqsShopOutbox
        from allegro_sync.services.returns import ReturnsFollower

        def build() -> ReturnsFollower:
            return ReturnsFollower(
                DynamoReturnsCursor(self.table("control")),
                self.order_repository(),
                self.stock_ledger(),
                SqsShopOutbox(self.settings.queue("shop-outbox"), self.aws_client("sqs")),
                self.stock_changes(),
                self.settings.returns_restock_on,
                lambda: datetime.fromtimestamp(self.now(), UTC),
            )

        return self._once("returns-follower", build)

    def refunds(self, account: str) -> RefundIssuer:
        """Payment refunds of one account, exactly once (the refund journal is in the orders table)."""
        from allegro_sync.adapters.dynamodb.after_sale import DynamoRefundJournal
        from allegro_sync.services.refunds import RefundIssuer

        return RefundIssuer(self.allegro(account), DynamoRefundJournal(self.table("orders")))

    # -- issue 15, item 1: shipping labels through Ship with Allegro (services/labels.py) ----------------

    def label_rules(self) -> DynamoLabelRules:
        """Each seller's label rule (`orders label-rule`), in `control`."""
        from allegro_sync.adapters.dynamodb.label_rules import DynamoLabelRules

        return self._once(
            "label-rules",
            lambda: DynamoLabelRules(self.settings.table("control"), self.aws_client("dynamodb")),
        )

    def labels(self, account: str) -> Labels:
        """Buys, stores and tracks an order's label exactly once; the waybill takes the fulfillment path."""
        from allegro_sync.adapters.dynamodb.labels import DynamoLabelBook
        from allegro_sync.adapters.label_files import S3LabelFiles
        from allegro_sync.services.labels import Labels

        book = DynamoLabelBook(self.settings.table("orders"), self.aws_client("dynamodb"))
        files = S3LabelFiles(self.settings.bucket("labels"), self.aws_client("s3"))
        from allegro_sync.adapters.order_queues import SqsShopOutbox

        outbox = SqsShopOutbox(self.settings.queue("shop-outbox"), self.aws_client("sqs"))
        tracking = self.fulfillment(account)
        return Labels(self.allegro(account), book, files, tracking, account=account, outbox=outbox)

    # -- issue 15, item 2: invoices on Allegro orders (services/invoices.py) ------------------------------

    def invoices(self, account: str) -> Invoices:
        from allegro_sync.services.invoices import Invoices

        return Invoices(self.allegro(account))

    def label_link(self) -> Callable[[str], LabelLink]:
        """The shop notifier's presigned link to a stored label (issue 15, item 1; LABEL_LINK_SECONDS)."""
        from allegro_sync.adapters.label_files import S3LabelFiles
        from allegro_sync.contracts.shop import LabelLink

        files = S3LabelFiles(self.settings.bucket("labels"), self.aws_client("s3"))
        seconds = self.settings.label_link_seconds

        def link(key: str) -> LabelLink:
            expires = datetime.fromtimestamp(self.now() + seconds, UTC)
            return LabelLink(files.link(key, seconds), expires)

        return link

    def woocommerce_refunds(self) -> WooCommerceRefunds | None:
        """Issue 15, item 3: the WooCommerce shop's refund reader (None: the shop is not WooCommerce)."""
        from allegro_sync.adapters.shop.woocommerce_refunds import WooCommerceRefunds
        from allegro_sync.adapters.shop_credentials import WooCommerceCredentials

        found = self.shop_credentials().read()
        if not isinstance(found, WooCommerceCredentials):
            return None
        key, secret = found.consumer_key.get_secret_value(), found.consumer_secret.get_secret_value()
        return WooCommerceRefunds(found.url, key, secret, self.shop_http())

    def invoice_fetch(self) -> Callable[[str], bytes]:
        """GET the shop's invoice PDF (the URL came in a signed shop webhook), at most 3 MB."""
        from allegro_sync.adapters.shop.invoice_download import download

        return lambda url: download(self.shop_http(), url)

    # -- issue 15, item 4: buyer messages and disputes (services/buyer_messages.py) -----------------------

    def message_follower(self) -> MessageFollower:
        """`message_follower`'s run: new buyer messages to the shop outbox and the seller's SNS topic."""
        from allegro_sync.adapters.dynamodb.buyer_messages import DynamoMessagesCursor
        from allegro_sync.adapters.order_queues import SqsShopOutbox
        from allegro_sync.adapters.seller_topic import SnsSellerNotifier
        from allegro_sync.services.buyer_messages import MessageFollower

        def build() -> MessageFollower:
            return MessageFollower(
                DynamoMessagesCursor(self.table("control")),
                SqsShopOutbox(self.settings.queue("shop-outbox"), self.aws_client("sqs")),
                SnsSellerNotifier(self.settings.topic("seller-messages"), self.aws_client("sns")),
                lambda: datetime.fromtimestamp(self.now(), UTC),
            )

        return self._once("message-follower", build)

    # -- a shop back from an outage gets its orders promptly (D15; services/shop_probe.py) ---------------

    def shop_probe(self) -> ShopProbe:
        """This instance's: a shop that is down is asked once per batch (`new_batch` per invocation)."""
        from allegro_sync.services.shop_probe import ShopProbe

        return self._once("shop-probe", ShopProbe)


class ConnectedAccounts:
    """The publisher's `Accounts`: which accounts are connected, and each one's client."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def connected(self) -> list[str]:
        return [p.name for p in self._app.connected_accounts()]

    def client(self, account: str) -> AllegroClient:
        return self._app.allegro(account)


class CatalogRecreator:
    """`ArchivedOffers` through the catalogue's publishing use case (`Publisher.recreate`).

    The catalogue creates a new offer from the stored product (#10743), or leaves its link WAITING with
    the reason when it cannot publish now; the ledger then sells the SKU through the new id, not the old.
    """

    def __init__(self, app: Application) -> None:
        self._app = app

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        ledger = self._app.stock_ledger()
        new_id = self._app.publisher().recreate(sku, account, offer_id)
        ledger.unlink_offer(sku, offer_id)
        if new_id is not None and new_id != offer_id:
            ledger.link_offer(sku, new_id, account)
            return new_id
        return None


# -- the process's application ------------------------------------------------------------------

_bound: ContextVar[Application | None] = ContextVar("allegro_sync_application", default=None)
_process_lock = threading.Lock()
_process: Application | None = None


def application() -> Application:
    """The application of the running function: the one bound by the local runtime or a test, else the
    process's own, built from `os.environ` on first use (a Lambda process is one function instance)."""
    bound = _bound.get()
    if bound is not None:
        return bound
    global _process  # noqa: PLW0603 - one application per Lambda process is the point
    with _process_lock:
        if _process is None:
            _process = Application(Settings.from_environ())
        return _process


@contextmanager
def bind(app: Application) -> Iterator[Application]:
    """Run the block (an invocation) with `app` as the function's application, in this context only."""
    token = _bound.set(app)
    try:
        yield app
    finally:
        _bound.reset(token)
