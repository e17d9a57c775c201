"""Typed arguments of the offer-writing client methods (`AllegroClient.create_offer`, `update_offer`).

Use cases say what an offer is (name, product, price, stock...); `offers.py` turns that into the JSON of
POST/PATCH /sale/product-offers (spec: SaleProductOfferRequestV1, SaleProductOfferPatchRequestV1), so the
shape of Allegro's body lives in one place, next to the call that sends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from allegro_sync.contracts.allegro import AllegroRequest, PriceIn
from allegro_sync.contracts.offer_content import Description, OfferParameter

# --- EU product safety (GPSR): spec ProductSetElement*Request -----------------------------------------


class ResponsibleProducer(AllegroRequest):
    """ProductSetElementResponsibleProducerRequest: by `id` (type ID) or by `name` (type NAME), as defined
    in Allegro's Responsible Producers API."""

    type: Literal["ID", "NAME"]
    id: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=50)


class ResponsiblePerson(AllegroRequest):
    """ProductSetElementResponsiblePersonRequest: `id` or `name` of a Responsible Persons API person."""

    id: str | None = None
    name: str | None = None


class SafetyInformation(AllegroRequest):
    """TextSafetyInformation: safety warnings as plain text."""

    type: Literal["TEXT"] = "TEXT"
    description: str = Field(max_length=5000)


class AttachmentRef(AllegroRequest):
    id: str


class AttachmentsSafetyInformation(AllegroRequest):
    """AttachmentsSafetyInformation: uploaded SAFETY_INFORMATION_MANUAL attachments (1..20), by id."""

    type: Literal["ATTACHMENTS"] = "ATTACHMENTS"
    attachments: list[AttachmentRef] = Field(min_length=1, max_length=20)


class ProductSafety(AllegroRequest):
    """The GPSR part of a `productSet[]` element (empty: nothing is sent)."""

    responsible_producer: ResponsibleProducer | None = None
    responsible_person: ResponsiblePerson | None = None
    safety_information: SafetyInformation | AttachmentsSafetyInformation | None = None


# --- what an offer sells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueProduct:
    """A product of Allegro's catalogue (matched by EAN or picked by the seller), by its id.

    `parameters`: the product parameters the offer states (sent only when there are some).
    """

    id: str
    parameters: Sequence[OfferParameter] = ()


@dataclass(frozen=True)
class NewProduct:
    """A product Allegro's catalogue does not have: the offer proposes it, with the offer's images."""

    name: str
    category_id: str
    parameters: Sequence[OfferParameter]


# --- the two requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOffer:
    """POST /sale/product-offers: a BUY_NOW offer of one product.

    `defaults`: the seller's own offer settings (delivery/shippingRates, location, afterSalesServices,
    payments), sent as given; the fields above win where both say something. `description`: sent only
    with at least one section (Allegro refuses an empty one).
    """

    name: str
    category_id: str
    product: CatalogueProduct | NewProduct
    parameters: Sequence[OfferParameter]
    price: PriceIn
    stock: int
    images: Sequence[str]
    external_id: str
    active: bool
    description: Description | None = None
    safety: ProductSafety = field(default_factory=ProductSafety)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # issue 16: the price on each additional marketplace (`additionalMarketplaces`), in its currency
    markets: Mapping[str, PriceIn] = field(default_factory=dict)


@dataclass(frozen=True)
class OfferChanges:
    """PATCH /sale/product-offers/{offerId}: only the fields given (not None) are sent.

    `product` replaces the offer's `productSet` (with `safety`); `publication` moves the offer's status
    in the same request as its stock, so an activation can never overtake the stock it needs (#10251).
    """

    name: str | None = None
    category_id: str | None = None
    price: PriceIn | None = None
    parameters: Sequence[OfferParameter] | None = None
    product: CatalogueProduct | None = None
    safety: ProductSafety = field(default_factory=ProductSafety)
    images: Sequence[str] | None = None
    description: Description | None = None
    stock: int | None = None
    publication: Literal["ACTIVE", "INACTIVE", "ENDED"] | None = None
    markets: Mapping[str, PriceIn] | None = None  # issue 16: additional marketplaces' prices
