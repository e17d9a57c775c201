"""The repricer's DynamoDB state: settings (mappings table), offer memory, pauses, fees (control table).

Layout (string keys `pk`, `sk` like every table):
- mappings: pk="reprice#settings", sk="<account|*>#<category|*>#<sku|*>", `settings` = the JSON of
  `RepricingSettings` (the seller's configuration, next to the pricing rules).
- control: pk="reprice#offer#<account>", sk=<offer id>: sku, last change time, assigned rule range;
  pk="reprice#offer-sku", sk=<offer id>: sku and account (so `prices why OFFER` is one read);
  pk="reprice#pause", sk=<account>: paused until, why (the circuit breaker);
  pk="reprice#fee", sk="<category>#<band>": a fee line with `expires_at` (TTL, 24 h);
  pk="reprice#seller", sk=<account>: the account's Allegro seller id (a rival that is us is ignored).
Also `CatalogFacts`: cost and list price from the catalogue table, through its repository.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.contracts.catalog import OfferLink, StoredProduct
from allegro_sync.contracts.records.control import (
    FeeItem,
    OfferSkuItem,
    PauseItem,
    RepricerOfferItem,
    SellerItem,
)
from allegro_sync.contracts.records.mappings import RepricingSettingsItem
from allegro_sync.contracts.repricing import OfferState, ProductFacts
from allegro_sync.domain.repricing import LinearFee, RepricingSettings, SettingsIndex, Strategy

SETTINGS_PK = "reprice#settings"
OFFER_PK = "reprice#offer#"
OFFER_SKU_PK = "reprice#offer-sku"
PAUSE_PK = "reprice#pause"
FEE_PK = "reprice#fee"
SELLER_PK = "reprice#seller"


def _query_all(table: Any, pk: str) -> list[dict[str, Any]]:
    return list(items.all_items(table.query, KeyConditionExpression=Key("pk").eq(pk)))


class DynamoRepricingStore:
    """`RepricingStore` on the mappings (settings) and control (state) tables."""

    def __init__(self, mappings_table: Any, control_table: Any) -> None:
        self._mappings = mappings_table
        self._control = control_table

    # settings -------------------------------------------------------------------------------------------

    def settings(self) -> list[RepricingSettings]:
        return [_settings(i) for i in _query_all(self._mappings, SETTINGS_PK)]

    def put_settings(self, settings: RepricingSettings) -> None:
        self._mappings.put_item(
            Item=RepricingSettingsItem(
                pk=SETTINGS_PK, sk=settings.scope, settings=settings.model_dump_json(exclude_defaults=True)
            ).item()
        )

    def delete_settings(self, scope: str) -> None:
        self._mappings.delete_item(Key={"pk": SETTINGS_PK, "sk": scope})

    # per offer ------------------------------------------------------------------------------------------

    def offer_states(self, account: str) -> dict[str, OfferState]:
        stored = [RepricerOfferItem.from_item(i) for i in _query_all(self._control, OFFER_PK + account)]
        return {i.sk: _state(i) for i in stored}

    def save_offer_state(self, account: str, offer_id: str, state: OfferState) -> None:
        assigned = None
        if state.assigned_range is not None:
            rule, low, high = state.assigned_range
            assigned = json.dumps([rule, str(low), str(high)])
        changed = state.last_changed_at
        item = RepricerOfferItem(
            pk=OFFER_PK + account,
            sk=offer_id,
            sku=state.sku,
            last_changed_at=None if changed is None else changed.isoformat(),
            assigned=assigned,
            campaign=state.campaign,
        )
        self._control.put_item(Item=item.item())
        self._control.put_item(
            Item=OfferSkuItem(pk=OFFER_SKU_PK, sk=offer_id, sku=state.sku, account=account).item()
        )

    def offer_sku(self, offer_id: str) -> str | None:
        item = self._control.get_item(Key={"pk": OFFER_SKU_PK, "sk": offer_id}).get("Item")
        return OfferSkuItem.from_item(item).sku if item else None

    # circuit breaker -------------------------------------------------------------------------------------

    def paused_until(self, account: str) -> tuple[datetime, str] | None:
        item = self._control.get_item(Key={"pk": PAUSE_PK, "sk": account}).get("Item")
        if not item:
            return None
        pause = PauseItem.from_item(item)
        return datetime.fromisoformat(pause.until), pause.reason

    def pause(self, account: str, until: datetime, reason: str) -> None:
        self._control.put_item(
            Item=PauseItem(
                pk=PAUSE_PK,
                sk=account,
                until=until.isoformat(),
                reason=reason,
                expires_at=int(until.timestamp()) + 86_400,
            ).item()
        )

    def resume(self, account: str) -> None:
        self._control.delete_item(Key={"pk": PAUSE_PK, "sk": account})

    # fees -----------------------------------------------------------------------------------------------

    def fee(self, category_id: str, band: int, now: datetime) -> LinearFee | None:
        raw = self._control.get_item(Key={"pk": FEE_PK, "sk": f"{category_id}#{band}"}).get("Item")
        item = FeeItem.from_item(raw) if raw else None
        if item is None or item.expires_at <= now.timestamp():
            return None
        return LinearFee(fixed=Decimal(item.fixed), rate=Decimal(item.rate))

    def save_fee(self, category_id: str, band: int, fee: LinearFee, expires: datetime) -> None:
        self._control.put_item(
            Item=FeeItem(
                pk=FEE_PK,
                sk=f"{category_id}#{band}",
                fixed=str(fee.fixed),
                rate=str(fee.rate),
                expires_at=int(expires.timestamp()),
            ).item()
        )

    # our own seller ids ------------------------------------------------------------------------------------

    def own_sellers(self) -> frozenset[str]:
        stored = [SellerItem.from_item(i) for i in _query_all(self._control, SELLER_PK)]
        return frozenset(name for i in stored for name in (i.seller_id, i.login) if name)

    def record_seller(self, account: str, seller_id: str, login: str | None = None) -> None:
        item = SellerItem(pk=SELLER_PK, sk=account, seller_id=seller_id, login=login or None)
        self._control.put_item(Item=item.item())


def _state(item: RepricerOfferItem) -> OfferState:
    assigned = json.loads(item.assigned) if item.assigned else None
    return OfferState(
        sku=item.sku,
        last_changed_at=datetime.fromisoformat(item.last_changed_at) if item.last_changed_at else None,
        assigned_range=(assigned[0], Decimal(assigned[1]), Decimal(assigned[2])) if assigned else None,
        campaign=item.campaign,
    )


def _settings(raw: dict[str, Any]) -> RepricingSettings:
    return RepricingSettings.model_validate_json(RepricingSettingsItem.from_item(raw).settings)


FACTS_CHUNK = 1000
FACTS_KEPT = 200_000  # SKUs one run keeps (~0.3 KB each): the largest catalogue the bench sizes for, twice


class CatalogFacts:
    """`ProductFactsSource` on the catalogue: cost price and EAN from the shop product, list price from the
    offer link (the Allegro price the shop's pricing rule last set), else the shop price.

    `facts_many` is the round's read: the products, links and ledger views of a whole account in batched,
    eventually consistent reads (a GetItem per fact per offer made a round of 100,000 offers ~2,700 s). A
    fact a second stale only matters for one round: prices stay inside the seller's floor and ceiling, and
    the shop's cost reaches the catalogue through a queue anyway, so no read could be fresher than that."""

    def __init__(
        self,
        catalog: DynamoCatalog,
        stock: Callable[[str], int | None] | None = None,
        stocks: Callable[[Sequence[str]], Mapping[str, int | None]] | None = None,
    ) -> None:
        self._catalog = catalog
        self._stock = stock
        self._stocks = stocks
        self._kept: dict[str, _SkuFacts] | None = None  # inside `one_run` only

    @contextmanager
    def one_run(self) -> Iterator[None]:
        """A sweep over several accounts (issue 21): a SKU's product facts and ledger stock are the SKU's,
        not an account's, so the run reads them once (up to `FACTS_KEPT` SKUs) and each further account
        reads only its own offer links. Kept no longer than the run: the next sweep reads them afresh."""
        self._kept = {}
        try:
            yield
        finally:
            self._kept = None

    def facts(self, sku: str, account: str) -> ProductFacts | None:
        product = self._catalog.product(sku)
        if product is None:
            return None
        return _facts(product, self._catalog.link(sku, account), self._stock(sku) if self._stock else None)

    def facts_many(self, skus: Sequence[str], account: str, *, stock: bool = True) -> dict[str, ProductFacts]:
        """A thousand SKUs at a time, from the small product items and the account's links: the content
        items (the shop's whole picture, descriptions included) are not read (issue 21: a third of the
        round's keys and most of its bytes), so a round's memory holds facts, not products."""
        found: dict[str, ProductFacts] = {}
        unique = list(dict.fromkeys(skus))
        kept = self._kept if self._kept is not None else {}
        for start in range(0, len(unique), FACTS_CHUNK):
            chunk = unique[start : start + FACTS_CHUNK]
            known = {s: kept[s] for s in chunk if s in kept and (kept[s].stock_read or not stock)}
            rest = [s for s in chunk if s not in known]
            products, links = self._catalog.facts_and_links(rest, account) if rest else ({}, {})
            stocks = self._stocks(list(products)) if stock and self._stocks and products else {}
            fresh = {
                sku: _SkuFacts(p.cost, p.price, p.ean, stocks.get(sku), stock_read=stock)
                for sku, p in products.items()
            }
            if self._kept is not None and len(kept) + len(fresh) <= FACTS_KEPT:
                kept.update(fresh)
            links |= self._catalog.links_on(list(known), account) if known else {}
            found |= {sku: part.facts(links.get(sku)) for sku, part in (known | fresh).items()}
        return found


@dataclass(frozen=True)
class _SkuFacts:
    """What a SKU's facts are before its offer link on one account is known (the link's price wins)."""

    cost: Decimal | None
    price: Decimal | None
    ean: str | None
    stock: int | None
    stock_read: bool

    @classmethod
    def of(cls, product: StoredProduct, stock: int | None, *, stock_read: bool) -> _SkuFacts:
        upsert = product.upsert
        return cls(
            cost=upsert.cost_price if upsert else None,
            price=product.price or (upsert.price if upsert else None),
            ean=upsert.ean if upsert else None,
            stock=stock,
            stock_read=stock_read,
        )

    def facts(self, link: OfferLink | None) -> ProductFacts:
        price = Decimal(link.price) if link and link.price else self.price
        return ProductFacts(cost=self.cost, list_price=price, ean=self.ean, stock=self.stock)


def _facts(product: StoredProduct, link: OfferLink | None, stock: int | None) -> ProductFacts:
    return _SkuFacts.of(product, stock, stock_read=True).facts(link)


class RepricingOwnership:
    """`owns_price` for the catalogue worker: reads the repricing settings at most every `ttl` seconds, so a
    batch of shop events costs one query, and a new setting takes effect within seconds."""

    def __init__(
        self, mappings_table: Any, *, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._table = mappings_table
        self._ttl = ttl
        self._clock = clock
        self._cached: tuple[float, SettingsIndex] | None = None

    def owns_price(self, account: str, sku: str, category_id: str | None = None) -> bool:
        now = self._clock()
        if self._cached is None or now - self._cached[0] >= self._ttl:
            stored = _query_all(self._table, SETTINGS_PK)
            self._cached = (now, SettingsIndex(_settings(i) for i in stored))
        return self._cached[1].for_offer(account, category_id, sku).strategy is not Strategy.NONE
