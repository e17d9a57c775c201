"""Shop events -> Allegro offers, for every connected seller account (the catalog_worker's use case).

Rules that shape this module:
- The catalogue accepts an event only if it is not older than what it has (`CatalogRepository.accept`); a
  stale event is acknowledged and ignored. A redelivery has the same order key: it is accepted, and each
  offer link remembers the key it last applied, so nothing is done twice.
- Nothing is guessed: an EAN matching several catalogue products, a shop category without an approved
  mapping, a required parameter without a value all leave the product WAITING with a reason a seller can act
  on, and nothing is sent to Allegro.
- Allegro rejecting content (400/403/422) is stored on the link in plain words and the event is done:
  retrying the same body cannot help. Rate limits, 5xx, timeouts and 409s raise, so SQS retries the event.
- Every change made on Allegro goes to the change log with its reason (event, rule, old -> new).
- Only what changed is sent: the link keeps a fingerprint per field of what Allegro has.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.allegro import (
    CategoryParameter as AllegroCategoryParameter,
)
from allegro_sync.contracts.allegro import (
    OfferCommandResult,
    OffersPage,
    PriceIn,
    PriceModification,
    ProductOffer,
    ProductsPage,
    UploadedImage,
)
from allegro_sync.contracts.allegro_errors import (
    AllegroApiError,
    AllegroBadRequest,
    AllegroForbidden,
    AllegroNotFound,
    AllegroOperationPending,
    AllegroValidationError,
)
from allegro_sync.contracts.catalog import (
    Change,
    LinkStatus,
    OfferLink,
    Outcome,
    StoredMapping,
    StoredProduct,
    category_label,
    order_key,
)
from allegro_sync.contracts.messages import PriceSet, ProductDelete, ProductUpsert, ShopEvent, StockSet
from allegro_sync.domain.description import parse_shop_html
from allegro_sync.domain.ledger import OfferAction, StockView
from allegro_sync.domain.ledger import Outcome as LedgerOutcome
from allegro_sync.domain.parameters import (
    AmbiguousMapping,
    CategoryParameter,
    ParameterResult,
    choose_category,
    map_parameters,
)
from allegro_sync.domain.pricing import PriceDecision, PricingError, PricingPolicy, price_for_allegro
from allegro_sync.domain.title import build_title
from allegro_sync.services.catalog import CatalogRepository, ChangeLog, MappingsRepository
from allegro_sync.services.stock import StockResult

logger = Logger(child=True)

MAX_IMAGES = 16  # Allegro's limit of images per offer
# How long a process reuses mappings and pricing rules: long enough for one batch, short enough that an
# approved mapping applies to the next webhook.
MAPPINGS_TTL_SECONDS = 5.0


# ---------------------------------------------------------------------------------------------- ports


class AllegroPort(Protocol):
    """The Allegro operations publishing needs (`AllegroClient` implements them)."""

    def search_products(
        self,
        phrase: str,
        *,
        mode: Literal["GTIN", "MPN"] | None = "GTIN",
        category_id: str | None = None,
        page_id: str | None = None,
    ) -> ProductsPage: ...

    def get_category_parameters(self, category_id: str) -> list[AllegroCategoryParameter]: ...

    def upload_image(
        self, *, url: str | None = None, data: bytes | None = None, content_type: str = "image/jpeg"
    ) -> UploadedImage: ...

    def create_product_offer(self, body: Mapping[str, Any], *, wait: bool = True) -> ProductOffer: ...

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer: ...

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]: ...

    def list_offers(
        self,
        *,
        external_ids: Sequence[str] = (),
        offer_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        name: str | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> OffersPage: ...


class StockLedgerPort(Protocol):
    """The stock ledger as the catalogue uses it (`services.stock.StockLedger` implements it).

    The ledger, not the shop's raw number, decides what an offer shows: open Allegro sales the shop has not
    counted yet are subtracted, and an older shop report never overwrites a newer one.
    """

    def apply_shop_level(
        self, sku: str, quantity: int | None, at: datetime, version: int | None = None
    ) -> StockResult: ...

    def link_offer(self, sku: str, offer_id: str, account: str, cap: int | None = None) -> StockResult: ...

    def unlink_offer(self, sku: str, offer_id: str) -> StockResult: ...

    def view(self, sku: str) -> StockView: ...


class StockChanges(Protocol):
    """The `stock-changes` hook: the stock propagator pushes the ledger's view to every linked offer."""

    def stock_changed(self, view: StockView, cause: str) -> None: ...


class Accounts(Protocol):
    """Connected seller accounts and an Allegro client for each."""

    def connected(self) -> list[str]: ...

    def client(self, account: str) -> AllegroPort: ...


# ------------------------------------------------------------------------------------------- settings


OFFER_SETTINGS_ENV = "OFFER_SETTINGS"
"""Env var carrying `OfferSettings` as JSON (CDK: `-c offerSettingsFile=offer-settings.json`)."""


class OfferSettings(BaseModel):
    """Seller-wide offer settings from configuration (env `OFFER_SETTINGS`, JSON; see the handler).

    EU product-safety (GPSR) data lives on `productSet[]` of an offer (spec: ProductSetElement*Request):
    `responsible_producer` is `{"type": "ID", "id": ...}` or `{"type": "NAME", "name": ...}` (defined in
    Allegro's Responsible Producers API), `responsible_person` is `{"id": ...}` or `{"name": ...}`,
    `safety_information` a plain text (<= 5000 characters). `offer_defaults` is merged into every new
    offer body: delivery (`shippingRates`), `location`, `afterSalesServices`, `payments`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    responsible_producer: dict[str, str] | None = None
    responsible_person: dict[str, str] | None = None
    safety_information: str | None = Field(default=None, max_length=5000)
    offer_defaults: dict[str, Any] = {}

    def product_set_extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if self.responsible_producer:
            extras["responsibleProducer"] = dict(self.responsible_producer)
        if self.responsible_person:
            extras["responsiblePerson"] = dict(self.responsible_person)
        if self.safety_information:
            extras["safetyInformation"] = {"type": "TEXT", "description": self.safety_information}
        return extras


# ----------------------------------------------------------------------------------------- outcomes


class RetryLater(Exception):
    """At least one account hit a transient Allegro failure; the event must be delivered again.

    Accounts that succeeded recorded the event's key on their link, so the redelivery skips them.
    """

    def __init__(self, sku: str, failures: dict[str, Exception]) -> None:
        self.failures = failures
        detail = "; ".join(f"{account}: {type(e).__name__}: {e}" for account, e in failures.items())
        super().__init__(f"SKU {sku}: retry later ({detail})")


@dataclass
class EventReport:
    """What one event did, for logs and tests."""

    sku: str
    outcome: Outcome
    links: dict[str, LinkStatus] = field(default_factory=dict)


class _Waiting(Exception):
    """The product cannot be published yet; the message says what the seller must do."""

    def __init__(self, reasons: list[str], candidates: Sequence[dict[str, str]] = ()) -> None:
        self.reasons = reasons
        self.candidates = tuple(candidates)
        super().__init__("; ".join(reasons))


@dataclass
class _Listing:
    """Everything the offer body is made of, plus the fingerprints that detect changes later."""

    title: str
    category_id: str
    product_id: str | None
    product_definition: dict[str, Any] | None
    offer_parameters: list[dict[str, Any]]
    product_parameters: list[dict[str, Any]]
    image_sources: list[str]
    description_html: str
    price: PriceDecision
    stock: int | None  # None: the shop never said; the offer's stock is left alone
    warnings: list[str]

    def fingerprints(self, *, with_stock: bool = True) -> dict[str, str]:
        stock = {} if self.stock is None or not with_stock else {"stock": str(self.stock)}
        return stock | {
            "name": self.title,
            "category": self.category_id,
            "price": self.price.allegro_amount,
            "parameters": _digest([self.offer_parameters, self.product_parameters, self.product_id]),
            "images": _digest(self.image_sources),
            "description": _digest([self.description_html, self.image_sources]),
        }


# ---------------------------------------------------------------------------------------- publisher


class Publisher:
    """Applies shop events to the catalogue and to every connected account's offer."""

    def __init__(
        self,
        *,
        catalog: CatalogRepository,
        mappings: MappingsRepository,
        changes: ChangeLog,
        accounts: Accounts,
        settings: OfferSettings | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        parameter_cache: dict[str, list[AllegroCategoryParameter]] | None = None,
        mappings_ttl_seconds: float = MAPPINGS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        price_owner: Callable[[str, str, str | None], bool] | None = None,
        ledger: StockLedgerPort | None = None,
        stock_changes: StockChanges | None = None,
    ) -> None:
        # With a ledger (every deployment), stock goes through it and the stock propagator; without one
        # (content-only unit tests) the shop's level is sent straight to the offer.
        if (ledger is None) != (stock_changes is None):
            raise ValueError("a stock ledger and its stock-changes hook go together")
        self._ledger = ledger
        self._stock_changes = stock_changes
        # (account, sku, Allegro category) -> True when a repricing rule owns the Allegro price
        # (services/repricing.py): shop prices then only move the link's list price (the repricer's ceiling).
        self._price_owner = price_owner
        self._catalog = catalog
        self._mappings = mappings
        self._changes = changes
        self._accounts = accounts
        self._settings = settings or OfferSettings()
        self._now = now
        # Category parameters change rarely; a warm Lambda keeps them (the handler passes a process cache).
        self._parameters = parameter_cache if parameter_cache is not None else {}
        # Mappings and pricing rules are read for every event and account; a batch shares one read.
        self._mappings_ttl = mappings_ttl_seconds
        self._clock = clock
        self._read: dict[str, tuple[float, Any]] = {}

    # -- entry points ---------------------------------------------------------------------------

    def handle(self, event: ShopEvent) -> EventReport:
        """Apply one shop event; raises RetryLater when SQS should deliver it again."""
        key = order_key(event.occurred_at, event.version)
        stored = self._stored_state(event, key)
        if self._catalog.accept(stored) is Outcome.STALE:
            newer_content = self._late_content(event, key)
            if newer_content is not None:
                self._apply_shop_level(event)
                return self._apply_to_accounts(newer_content, event, newer_content.order_key, force=True)
            logger.info(
                "stale shop event ignored: a newer one is already applied",
                extra={"sku": event.sku, "event_type": event.type, "delivery_id": event.delivery_id},
            )
            return EventReport(event.sku, Outcome.STALE)
        self._apply_shop_level(event)
        return self._apply_to_accounts(stored, event, key, force=False)

    def _apply_shop_level(self, event: ShopEvent) -> None:
        """A shop stock level (StockSet, or an upsert that carries one) goes to the ledger, once per event.

        The ledger orders it against earlier reports and subtracts the sales the shop has not counted yet;
        when that moves the SKU, the propagator pushes the new view to every offer on every account.
        """
        if self._ledger is None:
            return
        if isinstance(event, StockSet):
            level: int | None = event.stock
        elif isinstance(event, ProductUpsert) and event.stock is not None:
            level = event.stock
        else:
            return
        before = self._ledger.view(event.sku)
        result = self._ledger.apply_shop_level(event.sku, level, event.occurred_at, event.version)
        # Only when an offer must show something else: a newer report of the same number moves the ledger's
        # revision but needs no Allegro call, and offers this event creates start with the ledger's quantity.
        moved = result.changed and _shown(result.view) != _shown(before)
        # A redelivered stock.set (the ledger already has this report) sends again: the first attempt may
        # have died between the ledger's commit and the queue. (An upsert's level lost that way is left to
        # the reconciler: resending each redelivered upsert would re-push every offer it just created.)
        redelivered = (
            isinstance(event, StockSet)
            and result.outcome is LedgerOutcome.DUPLICATE
            and bool(result.view.offers)
        )
        if moved or redelivered:
            self._emit(result.view, "shop stock level")

    def _emit(self, view: StockView, cause: str) -> None:
        assert self._stock_changes is not None
        self._stock_changes.stock_changed(view, cause)

    def _ledger_quantity(self, sku: str, offer_id: str | None) -> int | None:
        """What the ledger lets this account's offer show (None: unknown, the offer is held inactive)."""
        assert self._ledger is not None
        view = self._ledger.view(sku)
        target = next((t for t in view.offers if t.offer_id == offer_id), None)
        if target is None:
            return view.available
        return None if target.action is OfferAction.HOLD else target.quantity

    def _sync_ledger_link(self, event: ShopEvent, before: OfferLink | None, after: OfferLink) -> None:
        """Keep the ledger's offer links in step with the catalogue's: a new (adopted, recreated) offer sells
        the SKU from now on; a deleted product's offer stops. An offer ended by a sell-out stays linked, so a
        restock re-activates it."""
        if self._ledger is None:
            return
        old_id = before.offer_id if before is not None else None
        if isinstance(event, ProductDelete):
            if after.offer_id is not None:
                self._ledger.unlink_offer(event.sku, after.offer_id)
            return
        if not isinstance(event, ProductUpsert) or after.offer_id is None:
            return
        if old_id is not None and old_id != after.offer_id:
            self._ledger.unlink_offer(event.sku, old_id)
        result = self._ledger.link_offer(event.sku, after.offer_id, after.account)
        target = next((t for t in result.view.offers if t.offer_id == after.offer_id), None)
        shown = after.synced.get("stock")  # what the offer was created (or last patched) with
        moved = target is not None and target.action is not OfferAction.HOLD and shown != str(target.quantity)
        if result.changed and moved:
            # The SKU moved between the offer's creation and its link (a sale, a newer level).
            self._emit(result.view, "new offer")

    def _late_content(self, event: ShopEvent, key: str) -> StoredProduct | None:
        """A stale upsert whose product content is still the newest we have: keep that content.

        The shop may send a stock or price change before the product itself (or one upsert may lag behind
        the next stock change). The newer stock and price stay; the name, images, category... of the late
        upsert are newer than what is stored (or nothing was stored), so dropping them would leave the
        product unpublished. A deleted product is never brought back by a late upsert.
        """
        if not isinstance(event, ProductUpsert):
            return None
        current = self._catalog.product(event.sku)
        if current is None or current.deleted:
            return None
        if (
            current.upsert is not None
            and order_key(current.upsert.occurred_at, current.upsert.version) >= key
        ):
            return None
        # The stored price is newer only if a PriceSet changed it after the previous upsert.
        if current.upsert is None:
            price_set_since = current.price is not None
        else:
            price_set_since = current.price != current.upsert.price
        price = current.price if price_set_since else event.price
        merged = replace(current, upsert=event, price=price, updated_at=self._timestamp())
        if self._catalog.accept(merged) is Outcome.STALE:
            return None  # a newer event landed meanwhile; it carries on from there
        logger.info(
            "late product content kept with the newer stock and price",
            extra={"sku": event.sku, "delivery_id": event.delivery_id},
        )
        return merged

    def republish(self, sku: str, *, accounts: Sequence[str] | None = None) -> EventReport:
        """Publish the stored product again on every (or the given) account, whatever the links last
        applied: after a mapping was approved, for `catalog import` and `products retry`."""
        stored = self._catalog.product(sku)
        if stored is None or stored.upsert is None:
            raise LookupError(f"no product {sku!r} in the catalogue: the shop has not sent it yet")
        event: ShopEvent = stored.upsert
        if stored.deleted:
            event = ProductDelete(
                delivery_id="republish",
                occurred_at=stored.upsert.occurred_at,
                sku=sku,
                source=stored.upsert.source,
            )
        else:
            event = stored.upsert.model_copy(
                update={
                    "stock": stored.stock,
                    "price": stored.price if stored.price is not None else stored.upsert.price,
                    "delivery_id": "republish",
                }
            )
        return self._apply_to_accounts(stored, event, stored.order_key, force=True, only=accounts)

    def link_product(self, sku: str, product_id: str, *, account: str | None = None) -> EventReport:
        """The seller's pick among the catalogue products one EAN matched (`products link SKU ID`)."""
        if not product_id.strip():
            raise ValueError("a catalogue product id is needed")
        accounts = [account] if account else self._accounts.connected()
        for name in accounts:
            link = self._catalog.link(sku, name) or OfferLink(
                sku=sku, account=name, status=LinkStatus.WAITING
            )
            if link.offer_id is not None and link.status is not LinkStatus.ENDED:
                raise ValueError(
                    f"{sku} is already offer {link.offer_id} on {name}; end it before linking another product"
                )
            self._catalog.save_link(
                replace(link, offer_id=None, product_id=product_id, candidates=(), synced={}, images={})
            )
        return self.republish(sku, accounts=accounts)

    def recreate(self, sku: str, account: str, offer_id: str) -> str | None:
        """An archived offer (ended > 60 days ago, 404, #10743): create a new one from the stored product.

        The stock propagator's `ArchivedOffers` port. Returns the new offer id, or None when the product
        cannot be published now (the link then says why).
        """
        link = self._catalog.link(sku, account)
        if link is None:
            return None
        if link.offer_id != offer_id:
            return link.offer_id  # already replaced
        self._catalog.save_link(
            replace(
                link,
                offer_id=None,
                status=LinkStatus.WAITING,
                synced={},
                images={},
                reasons=(f"offer {offer_id} was archived by Allegro; a new offer is being created",),
            )
        )
        try:
            self.republish(sku, accounts=[account])
        except LookupError:
            return None
        fresh = self._catalog.link(sku, account)
        return fresh.offer_id if fresh is not None else None

    # -- catalogue state --------------------------------------------------------------------------

    def _stored_state(self, event: ShopEvent, key: str) -> StoredProduct:
        needs_previous = not isinstance(event, ProductUpsert) or event.stock is None
        previous = self._catalog.product(event.sku) if needs_previous else None
        base = previous or StoredProduct(sku=event.sku, order_key=key)
        at = self._timestamp()
        if isinstance(event, ProductUpsert):
            return StoredProduct(
                sku=event.sku,
                order_key=key,
                upsert=event,
                # A shop that does not say how many it has keeps the last level it did say.
                stock=event.stock if event.stock is not None else base.stock,
                price=event.price,
                updated_at=at,
            )
        if isinstance(event, ProductDelete):
            return replace(base, order_key=key, deleted=True, updated_at=at)
        if isinstance(event, StockSet):
            return replace(base, order_key=key, stock=event.stock, updated_at=at)
        return replace(base, order_key=key, price=event.price, updated_at=at)

    def _apply_to_accounts(
        self,
        stored: StoredProduct,
        event: ShopEvent,
        key: str,
        *,
        force: bool,
        only: Sequence[str] | None = None,
    ) -> EventReport:
        report = EventReport(event.sku, Outcome.APPLIED)
        failures: dict[str, Exception] = {}
        for account in self._accounts.connected():
            if only is not None and account not in only:
                continue
            link = self._catalog.link(event.sku, account)
            if link is not None and not force and link.applied_key >= key:
                report.links[account] = link.status  # a redelivery: this account already has it
                continue
            try:
                updated = self._apply(account, link, stored, event, key)
            except (AllegroValidationError, AllegroBadRequest, AllegroForbidden) as error:
                updated = self._rejected(account, link, event, key, error)
            except Exception as error:
                logger.warning(
                    "publishing failed; the event will be retried",
                    extra={"sku": event.sku, "account": account, "error": f"{type(error).__name__}: {error}"},
                )
                failures[account] = error
                continue
            if updated is not None:
                self._catalog.save_link(updated)
                self._sync_ledger_link(event, link, updated)
                report.links[account] = updated.status
        if failures:
            raise RetryLater(event.sku, failures)
        return report

    def _apply(
        self, account: str, link: OfferLink | None, stored: StoredProduct, event: ShopEvent, key: str
    ) -> OfferLink | None:
        if isinstance(event, ProductUpsert):
            return self._upsert(account, link, event, key, stock=stored.stock, price=stored.price)
        if link is None or link.offer_id is None:
            # Nothing on Allegro to change; a product still waiting publishes later with the new value.
            return replace(link, applied_key=key) if link is not None else None
        if isinstance(event, ProductDelete):
            return self._end(account, link, event, key)
        if stored.deleted:
            return replace(link, applied_key=key)  # the product is gone: its ended offer stays as it is
        if isinstance(event, StockSet):
            return self._stock_set(account, link, event, key)
        return self._price(account, link, stored, event, key)

    # -- ProductUpsert --------------------------------------------------------------------------

    def _upsert(
        self,
        account: str,
        link: OfferLink | None,
        event: ProductUpsert,
        key: str,
        *,
        stock: int | None,
        price: Decimal | None,
    ) -> OfferLink:
        if self._ledger is not None:
            # What the ledger lets this offer show (shop level minus sales not counted yet), not the raw one.
            stock = self._ledger_quantity(event.sku, link.offer_id if link is not None else None)
        # The catalogue's newest stock and price (a StockSet/PriceSet may be newer than this upsert).
        event = event.model_copy(
            update={"stock": stock, "price": price if price is not None else event.price}
        )
        client = self._accounts.client(account)
        base = link or OfferLink(sku=event.sku, account=account, status=LinkStatus.WAITING)
        try:
            mapping = self._mapping_for(account, event)
            linking = base.offer_id is None  # a new offer: find its catalogue product
            if linking and base.creating_since:
                # An earlier attempt was creating the offer and never recorded the answer: it may exist.
                adopted = self._find_existing_offer(client, event.sku)
                if adopted is not None:
                    base = replace(base, offer_id=adopted, synced={}, images={}, creating_since="")
            listing = self._listing(client, account, base, event, mapping, linking=linking)
        except _Waiting as waiting:
            return replace(
                base,
                status=LinkStatus.WAITING,
                reasons=tuple(waiting.reasons),
                candidates=waiting.candidates,
                last_error=None,
                applied_key=key,
                updated_at=self._timestamp(),
            )
        if base.offer_id is None:
            return self._create(client, account, base, event=event, listing=listing, key=key)
        try:
            return self._update(client, account, base, event=event, listing=listing, key=key)
        except AllegroNotFound:
            # Ended more than 60 days ago, the offer is archived: a new one is needed (#10743).
            fresh = replace(base, offer_id=None, synced={}, images={})
            listing = self._listing(client, account, fresh, event, mapping, linking=True)
            return self._create(client, account, fresh, event=event, listing=listing, key=key)

    def _mapping_for(self, account: str, event: ProductUpsert) -> StoredMapping:
        stored: list[StoredMapping] = self._cached(
            f"mappings#{account}", lambda: self._mappings.category_mappings(account)
        )
        own = [m for m in stored if m.account == account]
        shared = [m for m in stored if m.account != account]
        label = category_label(event.category_path)
        try:
            chosen = choose_category(event.category_path, [m.mapping for m in own]) or choose_category(
                event.category_path, [m.mapping for m in shared]
            )
        except AmbiguousMapping as error:
            raise _Waiting([f"{error}; keep one of them with `allegro-sync mappings set`"]) from error
        if chosen is None:
            raise _Waiting(
                [f"no approved category mapping for {label!r}; run `allegro-sync mappings suggest`"]
            )
        return next(m for m in own + shared if m.mapping is chosen)

    def _find_existing_offer(self, client: AllegroPort, sku: str) -> str | None:
        """An offer already carrying this SKU (a crash after Allegro created it, before we saved it)."""
        page = client.list_offers(external_ids=[sku], statuses=["ACTIVE", "INACTIVE", "ACTIVATING"], limit=10)
        found = [o.id for o in page.offers if o.external is not None and o.external.id == sku]
        return found[0] if found else None

    def _listing(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        event: ProductUpsert,
        mapping: StoredMapping,
        *,
        linking: bool,
    ) -> _Listing:
        category_id = mapping.mapping.allegro_category_id
        product_id = self._catalogue_product(client, event, link, category_id) if linking else link.product_id
        raw_definitions = self._category_parameters(client, category_id)
        definitions = [
            CategoryParameter.model_validate(p.model_dump(by_alias=True, exclude_none=True))
            for p in raw_definitions
        ]
        describes_product = {
            str(p.id) for p in raw_definitions if p.id and (p.options or {}).get("describesProduct")
        }
        result = map_parameters(definitions, event.attributes, mapping.mapping.parameters)
        # A linked catalogue product brings its own product parameters; the offer's own ones are still ours.
        missing = [m for m in result.missing_required if product_id is None or m.id not in describes_product]
        if missing:
            names = ", ".join(f"{m.name} ({m.id})" for m in missing)
            problems = "; ".join(f"{p.parameter_name}: {p.message}" for p in result.problems)
            reasons = [
                f"missing required parameters for Allegro category {category_id}: {names}; add them as shop "
                f"attributes or map them with `allegro-sync mappings set`"
            ]
            if problems:
                reasons.append(f"shop values Allegro cannot use: {problems}")
            raise _Waiting(reasons)
        offer_parameters, product_parameters = _split_parameters(result, describes_product)
        definition: dict[str, Any] | None = None
        if product_id is None:
            definition = {
                "name": build_title(event.name, event.attributes, brand=_brand(event), sku=event.sku),
                "category": {"id": category_id},
                "parameters": product_parameters,
            }
        decision = self._price_decision(account, mapping, event.price)
        description = parse_shop_html(event.description_html)
        sources = list(dict.fromkeys([str(u) for u in event.image_urls] + description.image_sources))
        warnings = [f"{p.parameter_name}: {p.message}" for p in result.problems]
        if len(sources) > MAX_IMAGES:
            warnings.append(f"{len(sources)} images; Allegro takes {MAX_IMAGES}, the rest are left out")
        return _Listing(
            title=build_title(event.name, event.attributes, brand=_brand(event), sku=event.sku),
            category_id=category_id,
            product_id=product_id,
            product_definition=definition,
            offer_parameters=offer_parameters,
            product_parameters=product_parameters,
            image_sources=sources[:MAX_IMAGES],
            description_html=event.description_html,
            price=decision,
            stock=event.stock,
            warnings=warnings,
        )

    def _catalogue_product(
        self, client: AllegroPort, event: ProductUpsert, link: OfferLink, category_id: str
    ) -> str | None:
        """The catalogue product with the product's EAN; never a guess between several."""
        if link.product_id:
            return link.product_id  # the seller picked one (`products link`)
        if not event.ean:
            return None
        products = client.search_products(event.ean, mode="GTIN").products
        if len(products) > 1:
            candidates = [
                {"id": p.id, "name": p.name, "category": str((p.category or {}).get("id", ""))}
                for p in products
            ]
            listed = ", ".join(f"{c['id']} ({c['name']})" for c in candidates)
            raise _Waiting(
                [
                    f"EAN {event.ean} matches {len(products)} Allegro catalogue products: {listed}; "
                    f"choose one with `allegro-sync products link {event.sku} PRODUCT_ID`"
                ],
                candidates,
            )
        if not products:
            return None
        product = products[0]
        product_category = str((product.category or {}).get("id", ""))
        if product_category and product_category != category_id:
            raise _Waiting(
                [
                    f"EAN {event.ean} is Allegro product {product.id} ({product.name}) in category "
                    f"{product_category}, but the mapping for {category_label(event.category_path)!r} says "
                    f"{category_id}; fix the mapping or link another product"
                ]
            )
        return product.id

    def _category_parameters(self, client: AllegroPort, category_id: str) -> list[AllegroCategoryParameter]:
        if category_id not in self._parameters:
            self._parameters[category_id] = client.get_category_parameters(category_id)
        return self._parameters[category_id]

    def _price_decision(
        self, account: str, mapping: StoredMapping | None, shop_price: Decimal
    ) -> PriceDecision:
        policy: PricingPolicy = self._cached(
            "pricing", lambda: PricingPolicy(rules=tuple(self._mappings.pricing_rules()))
        )
        path: Sequence[str] = ()
        if mapping is not None:
            path = mapping.category_path or (mapping.mapping.allegro_category_id,)
        try:
            return price_for_allegro(shop_price, policy.rule_for(account, path))
        except PricingError as error:
            raise _Waiting([f"no valid Allegro price: {error}; fix the pricing rule"]) from error

    def _upload(
        self, client: AllegroPort, sources: Sequence[str], known: Mapping[str, str]
    ) -> dict[str, str]:
        """Source URL -> Allegro location; images this offer already uses are not uploaded again."""
        uploaded = {s: known[s] for s in sources if s in known}
        for source in sources:
            if source not in uploaded:
                uploaded[source] = client.upload_image(url=source).location
        return uploaded

    def _create(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        *,
        event: ProductUpsert,
        listing: _Listing,
        key: str,
    ) -> OfferLink:
        images = self._upload(client, listing.image_sources, link.images)
        description = parse_shop_html(listing.description_html).to_allegro(images)
        warnings = listing.warnings + [w.message for w in description.warnings if w.code != "empty"]
        product: dict[str, Any] = (
            {"id": listing.product_id}
            if listing.product_id is not None
            else {**(listing.product_definition or {}), "images": [images[s] for s in listing.image_sources]}
        )
        if listing.product_id is not None and listing.product_parameters:
            product["parameters"] = listing.product_parameters
        active = (listing.stock or 0) > 0
        body: dict[str, Any] = {
            **self._settings.offer_defaults,
            "name": listing.title,
            "category": {"id": listing.category_id},
            "productSet": [{"product": product, **self._settings.product_set_extras()}],
            "parameters": listing.offer_parameters,
            "sellingMode": {"format": "BUY_NOW", "price": listing.price.to_allegro()},
            "stock": {"available": listing.stock or 0, "unit": "UNIT"},
            "images": [images[s] for s in listing.image_sources],
            "external": {"id": event.sku},
            "publication": {"status": "ACTIVE" if active else "INACTIVE"},
        }
        if description.description.sections:
            body["description"] = description.description.model_dump(mode="json")
        # Marked first: should the process die after Allegro created the offer but before the link is saved,
        # the retry looks the offer up by its SKU instead of listing the product twice.
        self._catalog.save_link(replace(link, creating_since=self._timestamp()))
        try:
            offer_id = client.create_product_offer(body).id
            note = ""
        except AllegroOperationPending as pending:
            if pending.offer_id is None:
                raise
            offer_id, note = pending.offer_id, "Allegro was still processing the new offer"
        fingerprints = listing.fingerprints()
        self._record(
            account,
            event,
            offer_id,
            "create",
            {
                name: {"old": None, "new": fingerprints.get(name, "0")}
                for name in ("name", "category", "price", "stock")
            },
            reason=f"new shop product; price: {listing.price.explanation}",
            rule=listing.price.rule,
        )
        reasons = [r for r in [note, *warnings] if r]
        if listing.stock is None:
            reasons.insert(0, "the shop has not said how many are in stock: the offer stays inactive")
        elif not active:
            reasons.insert(0, "stock is 0 in the shop: the offer stays inactive until stock arrives")
        return replace(
            link,
            creating_since="",
            offer_id=offer_id,
            product_id=listing.product_id,
            status=LinkStatus.PUBLISHED if active else LinkStatus.WAITING,
            reasons=tuple(reasons),
            candidates=(),
            last_error=None,
            synced=fingerprints,
            images=images,
            price=listing.price.allegro_amount,
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _update(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        *,
        event: ProductUpsert,
        listing: _Listing,
        key: str,
    ) -> OfferLink:
        assert link.offer_id is not None
        wanted = listing.fingerprints(with_stock=self._ledger is None)  # ledger: the propagator's job
        changed = [name for name, value in wanted.items() if link.synced.get(name) != value]
        repriced = "price" in changed and self._repriced(account, link.sku, listing.category_id)
        if repriced:
            changed.remove("price")  # the repricer sets this price; the new list price moves its bounds
        reactivate = link.status is LinkStatus.ENDED and (listing.stock or 0) > 0
        if not changed and not reactivate:
            if repriced:
                return replace(
                    link,
                    price=listing.price.allegro_amount,
                    synced={**link.synced, "price": wanted["price"]},
                    applied_key=key,
                    updated_at=self._timestamp(),
                )
            return replace(link, applied_key=key, updated_at=self._timestamp())
        images = dict(link.images)
        if "images" in changed or "description" in changed:
            images = self._upload(client, listing.image_sources, link.images)
        patch = self._content_patch(listing, changed, images)
        status, reasons = link.status, list(listing.warnings)
        if listing.stock is not None and ("stock" in changed or reactivate):
            fragment, status, stock_reason = stock_patch(listing.stock, link.status)
            patch.update(fragment)
            reasons = [r for r in [stock_reason, *reasons] if r]
        elif link.status is LinkStatus.FAILED:
            status = LinkStatus.PUBLISHED
        client.patch_product_offer(link.offer_id, patch)
        self._record(
            account,
            event,
            link.offer_id,
            "update",
            {name: {"old": link.synced.get(name), "new": wanted[name]} for name in changed},
            reason=f"shop product changed ({', '.join(changed) or 'stock back'})"
            + (f"; price: {listing.price.explanation}" if "price" in changed else ""),
            rule=listing.price.rule if "price" in changed else "",
        )
        return replace(
            link,
            status=status,
            reasons=tuple(reasons),
            candidates=(),
            last_error=None,
            synced={**link.synced, **wanted},
            images=images,
            price=listing.price.allegro_amount,
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _content_patch(
        self, listing: _Listing, changed: list[str], images: Mapping[str, str]
    ) -> dict[str, Any]:
        """The PATCH body for the changed content fields only (stock and publication are added apart)."""
        patch: dict[str, Any] = {}
        if "name" in changed:
            patch["name"] = listing.title
        if "category" in changed:
            patch["category"] = {"id": listing.category_id}
        if "price" in changed:
            patch["sellingMode"] = {"price": listing.price.to_allegro()}
        if "parameters" in changed:
            patch["parameters"] = listing.offer_parameters
            if listing.product_id is not None:
                product: dict[str, Any] = {"id": listing.product_id}
                if listing.product_parameters:
                    product["parameters"] = listing.product_parameters
                patch["productSet"] = [{"product": product, **self._settings.product_set_extras()}]
        if "images" in changed:
            patch["images"] = [images[s] for s in listing.image_sources]
        if "description" in changed:
            built = parse_shop_html(listing.description_html).to_allegro(images)
            # Allegro refuses a description without sections (1..100): a shop description emptied to
            # nothing leaves the last one on Allegro rather than failing the whole update.
            if built.description.sections:
                patch["description"] = built.description.model_dump(mode="json")
        return patch

    # -- StockSet, PriceSet, ProductDelete ------------------------------------------------------------

    def _stock_set(self, account: str, link: OfferLink, event: StockSet, key: str) -> OfferLink:
        if self._ledger is not None:
            return self._activate_draft(account, link, event, key)
        return self._stock(account, link, event.stock, event, key)

    def _activate_draft(self, account: str, link: OfferLink, event: StockSet, key: str) -> OfferLink:
        """StockSet with a ledger: the propagator pushes stock to live offers; only an offer the catalogue
        created INACTIVE (no stock known yet) is activated here: stock and activation in one PATCH (#10251).
        """
        assert link.offer_id is not None
        quantity = self._ledger_quantity(event.sku, link.offer_id)
        if quantity is None:
            return replace(link, applied_key=key)  # unknown: HOLD, the offer keeps what it shows
        if link.status is not LinkStatus.WAITING or quantity == 0:
            # The propagator ends or restocks the live offer; the link only tells the seller where it stands.
            status, reasons = link.status, link.reasons
            if quantity == 0 and link.status is LinkStatus.PUBLISHED:
                status, reasons = LinkStatus.ENDED, (SOLD_OUT,)
            elif quantity > 0 and link.status is LinkStatus.ENDED:
                status, reasons = LinkStatus.PUBLISHED, ()
            return replace(
                link, status=status, reasons=reasons, applied_key=key, updated_at=self._timestamp()
            )
        patch, status, _ = stock_patch(quantity, link.status)
        self._accounts.client(account).patch_product_offer(link.offer_id, patch)
        self._record(
            account,
            event,
            link.offer_id,
            "stock",
            {"stock": {"old": link.synced.get("stock"), "new": str(quantity)}},
            reason="stock arrived for an inactive offer (ledger level): activated",
        )
        return replace(
            link,
            status=status,
            reasons=(),
            synced={**link.synced, "stock": str(quantity)},
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _stock(self, account: str, link: OfferLink, stock: int, event: ShopEvent, key: str) -> OfferLink:
        """StockSet without a ledger (content-only tests and tools): the shop's level straight to the offer.

        Every deployment wires the ledger (`catalog_worker.build_publisher`), where `_stock_set` applies.
        """
        assert link.offer_id is not None
        old = link.synced.get("stock")
        if old == str(stock) and (stock == 0 or link.status is LinkStatus.PUBLISHED):
            return replace(link, applied_key=key)
        patch, status, reason = stock_patch(stock, link.status)
        self._accounts.client(account).patch_product_offer(link.offer_id, patch)
        self._record(
            account,
            event,
            link.offer_id,
            "stock",
            {"stock": {"old": old, "new": str(stock)}},
            reason="shop stock level" + ("; 0 ends the offer" if stock == 0 else ""),
        )
        return replace(
            link,
            status=status,
            reasons=(reason,) if reason else (),
            synced={**link.synced, "stock": str(stock)},
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _price(
        self, account: str, link: OfferLink, stored: StoredProduct, event: PriceSet, key: str
    ) -> OfferLink:
        assert link.offer_id is not None
        mapping: StoredMapping | None = None
        if stored.upsert is not None:
            try:
                mapping = self._mapping_for(account, stored.upsert)
            except _Waiting:
                mapping = None
        decision = self._price_decision(account, mapping, event.price)
        if decision.allegro_amount == link.price:
            return replace(link, applied_key=key)
        category = mapping.mapping.allegro_category_id if mapping else None
        if self._repriced(account, link.sku, category):  # list price only: the next repricing round decides
            return replace(
                link,
                price=decision.allegro_amount,
                synced={**link.synced, "price": decision.allegro_amount},
                applied_key=key,
                updated_at=self._timestamp(),
            )
        modification = PriceModification(
            type="FIXED_PRICE", price=PriceIn(amount=decision.allegro_amount, currency=decision.currency)
        )
        results = self._accounts.client(account).change_price([link.offer_id], modification)
        result = next((r for r in results if r.offer_id == link.offer_id), None)
        if result is not None and result.status == "FAIL":
            return replace(
                link,
                status=LinkStatus.FAILED,
                reasons=(
                    f"Allegro refused the price {decision.allegro_amount}: {result.message or 'no reason'}",
                ),
                applied_key=key,
                updated_at=self._timestamp(),
            )
        self._record(
            account,
            event,
            link.offer_id,
            "price",
            {"price": {"old": link.price, "new": decision.allegro_amount}},
            reason=f"shop price changed; {decision.explanation}",
            rule=decision.rule,
        )
        return replace(
            link,
            price=decision.allegro_amount,
            synced={**link.synced, "price": decision.allegro_amount},
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _repriced(self, account: str, sku: str, category_id: str | None) -> bool:
        return self._price_owner is not None and self._price_owner(account, sku, category_id)

    def _end(self, account: str, link: OfferLink, event: ProductDelete, key: str) -> OfferLink:
        assert link.offer_id is not None
        if link.status is not LinkStatus.ENDED:
            self._accounts.client(account).patch_product_offer(
                link.offer_id, {"publication": {"status": "ENDED"}}
            )
            self._record(
                account,
                event,
                link.offer_id,
                "end",
                {"publication.status": {"old": link.status.value, "new": "ENDED"}},
                reason="product deleted in the shop",
            )
        return replace(
            link,
            status=LinkStatus.ENDED,
            reasons=("product deleted in the shop",),
            applied_key=key,
            updated_at=self._timestamp(),
        )

    # -- failures and records -----------------------------------------------------------------------

    def _rejected(
        self, account: str, link: OfferLink | None, event: ShopEvent, key: str, error: AllegroApiError
    ) -> OfferLink:
        """Allegro refused the content: store why, in words, and do not retry the same thing."""
        reasons = [
            _readable(detail.user_message or detail.message or detail.code, detail.metadata, detail.path)
            for detail in error.errors
        ]
        logger.warning(
            "Allegro rejected the offer",
            extra={"sku": event.sku, "account": account, "status": error.status, "codes": error.codes},
        )
        base = link or OfferLink(sku=event.sku, account=account, status=LinkStatus.FAILED)
        return replace(
            base,
            creating_since="",
            status=LinkStatus.FAILED,
            reasons=tuple(reasons) or (str(error),),
            last_error={
                "status": error.status,
                "trace_id": error.trace_id,
                "errors": [
                    {
                        "code": d.code,
                        "message": d.message,
                        "userMessage": d.user_message,
                        "path": d.path,
                        "metadata": d.metadata,
                    }
                    for d in error.errors
                ],
            },
            applied_key=key,
            updated_at=self._timestamp(),
        )

    def _record(
        self,
        account: str,
        event: ShopEvent,
        offer_id: str,
        action: str,
        changes: dict[str, dict[str, Any]],
        *,
        reason: str,
        rule: str = "",
    ) -> None:
        self._changes.record(
            Change(
                sku=event.sku,
                account=account,
                offer_id=offer_id,
                action=action,
                changes=changes,
                reason=f"{reason} (shop event {event.type} {event.delivery_id})",
                event_id=event.delivery_id,
                rule=rule,
                at=self._timestamp(),
            )
        )

    def _cached(self, key: str, read: Callable[[], Any]) -> Any:
        now = self._clock()
        hit = self._read.get(key)
        if hit is None or now - hit[0] > self._mappings_ttl:
            hit = self._read[key] = (now, read())
        return hit[1]

    def _timestamp(self) -> str:
        return self._now().astimezone(UTC).isoformat()


# -------------------------------------------------------------------------------------------- helpers

SOLD_OUT = "sold out in the shop (stock 0): Allegro ended the offer"


def stock_patch(stock: int, status: LinkStatus) -> tuple[dict[str, Any], LinkStatus, str]:
    """How a shop stock level reaches an offer: (PATCH fragment, the link's new status, reason).

    Used to create/activate the catalogue's own offers; live stock is the propagator's (ledger). Stock 0
    ends an ACTIVE offer (a quantity command cannot set 0, #6166); stock > 0 on an ended or inactive offer
    goes in the same PATCH as the activation, so the activation can never overtake it (#10251).
    """
    fragment: dict[str, Any] = {"stock": {"available": stock}}
    if stock == 0:
        return fragment, LinkStatus.ENDED, SOLD_OUT
    if status is not LinkStatus.PUBLISHED:
        fragment["publication"] = {"status": "ACTIVE"}
    return fragment, LinkStatus.PUBLISHED, ""


def _shown(view: StockView) -> dict[str, tuple[OfferAction, int | None]]:
    return {t.offer_id: (t.action, t.quantity) for t in view.offers}


def _brand(event: ProductUpsert) -> str | None:
    for name, value in event.attributes.items():
        if name.strip().casefold() in ("marka", "brand", "producent"):
            return value
    return None


def _split_parameters(
    result: ParameterResult, describes_product: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Offer parameters (condition, ...) vs product parameters (brand, type, ...), as Allegro splits them."""
    offer: list[dict[str, Any]] = []
    product: list[dict[str, Any]] = []
    for parameter in result.offer_parameters():
        (product if parameter["id"] in describes_product else offer).append(parameter)
    return offer, product


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _readable(message: str, metadata: Mapping[str, str], path: str | None) -> str:
    where = f" (at {path})" if path else ""
    extra = f" [{', '.join(f'{k}={v}' for k, v in sorted(metadata.items()))}]" if metadata else ""
    return f"{message}{where}{extra}"
