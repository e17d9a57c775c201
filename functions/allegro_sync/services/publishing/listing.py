"""What an offer is made of (title, category, catalogue product, parameters, images, description, price,
stock), worked out from a shop product and its category mapping, with the fingerprints that later tell
which fields changed. Anything that cannot be decided without guessing raises `Waiting`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from allegro_sync.contracts.allegro_requests import ProductSafety
from allegro_sync.contracts.catalog import OfferLink, StoredMapping, category_label
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.offer_content import OfferParameter
from allegro_sync.domain.description import parse_shop_html
from allegro_sync.domain.parameters import CategoryParameter, map_parameters
from allegro_sync.domain.pricing import PriceDecision
from allegro_sync.domain.product_checks import title_warning
from allegro_sync.domain.title import build_title
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.markets import NONE, MarketPrices
from allegro_sync.services.publishing.outcomes import Waiting
from allegro_sync.services.publishing.ports import AllegroPort

MAX_IMAGES = 16  # Allegro's limit of images per offer


@dataclass
class Listing:
    """Everything the offer is made of, plus the fingerprints that detect changes later."""

    title: str
    category_id: str
    product_id: str | None  # None: the offer proposes a new product (title, category, product parameters)
    offer_parameters: list[OfferParameter]
    product_parameters: list[OfferParameter]
    image_sources: list[str]
    description_html: str
    price: PriceDecision
    stock: int | None  # None: the shop never said; the offer's stock is left alone
    warnings: list[str]
    safety: ProductSafety = field(default_factory=ProductSafety)  # GPSR: producer, person, safety text
    markets: MarketPrices = NONE  # issue 16: the price on each additional marketplace

    def fingerprints(self, *, with_stock: bool = True) -> dict[str, str]:
        """Per field, a digest of what Allegro gets. Stock only as a new offer starts: from then on the
        ledger and the stock propagator own it."""
        stock = {} if self.stock is None or not with_stock else {"stock": str(self.stock)}
        # Only when there is GPSR data: links stored before it existed do not all change at once.
        gpsr = self.safety.to_json()
        stock |= {"gpsr": _digest(gpsr)} if gpsr else {}
        stock |= {"markets": self.markets.fingerprint()} if self.markets.prices else {}
        parameters = [_dumped(self.offer_parameters), _dumped(self.product_parameters), self.product_id]
        return stock | {
            "name": self.title,
            "category": self.category_id,
            "price": self.price.allegro_amount,
            "parameters": _digest(parameters),
            "images": _digest(self.image_sources),
            "description": _digest([self.description_html, self.image_sources]),
        }


def build_listing(
    ctx: Context,
    client: AllegroPort,
    account: str,
    link: OfferLink,
    event: ProductUpsert,
    *,
    mapping: StoredMapping,
    linking: bool,
) -> Listing:
    """The listing of `event` on `account`; `linking`: a new offer, so find its catalogue product."""
    category_id = mapping.mapping.allegro_category_id
    product_id = _catalogue_product(client, event, link, category_id) if linking else link.product_id
    raw_definitions = ctx.category_parameters(client, category_id)
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
        raise Waiting(reasons)
    # Offer parameters (condition, ...) vs product parameters (brand, type, ...), as Allegro splits them.
    offer_parameters = [p for p in result.parameters if p.id not in describes_product]
    product_parameters = [p for p in result.parameters if p.id in describes_product]
    decision = ctx.price_decision(account, mapping, event.price)
    safety = ctx.safety(client, account, event)
    markets = ctx.markets(client, account, mapping, event.sku, decision)
    description = parse_shop_html(event.description_html)
    sources = list(dict.fromkeys([str(u) for u in event.image_urls] + description.image_sources))
    warnings = [f"{p.parameter_name}: {p.message}" for p in result.problems]
    if len(sources) > MAX_IMAGES:
        warnings.append(f"{len(sources)} images; Allegro takes {MAX_IMAGES}, the rest are left out")
    title = build_title(event.name, event.attributes, brand=_brand(event), sku=event.sku)
    # What Allegro's limits cut, on every publish and update (not only the first): `products status` shows it.
    shortened = [title_warning(event, title)] + [
        f"shortened: {w.message}"
        for w in description.to_allegro({s: s for s in sources}).warnings
        if w.code == "truncated"
    ]
    warnings.extend(w for w in shortened if w)
    return Listing(
        title=title,
        category_id=category_id,
        product_id=product_id,
        offer_parameters=offer_parameters,
        product_parameters=product_parameters,
        image_sources=sources[:MAX_IMAGES],
        description_html=event.description_html,
        price=decision,
        stock=event.stock,
        warnings=warnings,
        safety=safety,
        markets=markets,
    )


def _catalogue_product(
    client: AllegroPort, event: ProductUpsert, link: OfferLink, category_id: str
) -> str | None:
    """The catalogue product with the product's EAN; never a guess between several."""
    if link.product_id:
        return link.product_id  # the seller picked one (`products link`)
    if not event.ean:
        return None
    products = client.search_products(event.ean, mode="GTIN").products
    if len(products) > 1:
        candidates = [
            {"id": p.id, "name": p.name, "category": str((p.category or {}).get("id", ""))} for p in products
        ]
        listed = ", ".join(f"{c['id']} ({c['name']})" for c in candidates)
        raise Waiting(
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
        raise Waiting(
            [
                f"EAN {event.ean} is Allegro product {product.id} ({product.name}) in category "
                f"{product_category}, but the mapping for {category_label(event.category_path)!r} says "
                f"{category_id}; fix the mapping or link another product"
            ]
        )
    return product.id


def _brand(event: ProductUpsert) -> str | None:
    for name, value in event.attributes.items():
        if name.strip().casefold() in ("marka", "brand", "producent"):
            return value
    return None


def _dumped(parameters: list[OfferParameter]) -> list[dict[str, Any]]:
    # The form the fingerprints were first taken in: links stored before keep matching.
    return [p.model_dump(by_alias=True, exclude_none=True) for p in parameters]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
