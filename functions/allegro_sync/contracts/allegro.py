"""Pydantic models of the Allegro payloads the project uses, with the spec's field names.

Responses are lenient (`extra="allow"`, most fields optional): Allegro adds fields without notice and a new
field must never break a sync. Requests are strict (`extra="forbid"`): a typo in what we send is our bug and
should fail here, not as a 422 from Allegro. Money amounts are strings, as in Allegro's API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from allegro_sync.contracts.fulfillment_status import FulfillmentStatus

__all__ = [
    "AddShipment",
    "AllegroRequest",
    "AllegroResponse",
    "AutomaticPricingModification",
    "Carrier",
    "Carriers",
    "Categories",
    "Category",
    "CategoryParameter",
    "CategoryParameters",
    "CategorySuggestion",
    "ChangeByAmount",
    "ChangeByPercentage",
    "CheckoutForm",
    "CheckoutFormRef",
    "CheckoutForms",
    "CommandReport",
    "CommandTask",
    "ErrorEntry",
    "ExternalId",
    "FeePreview",
    "Fulfillment",
    "FulfillmentStatus",
    "FulfillmentUpdate",
    "IdRef",
    "IdRefIn",
    "LatestOrderEvent",
    "ListingStats",
    "ListingStock",
    "MatchingCategories",
    "Me",
    "NextPage",
    "OfferAutomaticPricingCommand",
    "OfferCommandResult",
    "OfferCriterion",
    "OfferEvent",
    "OfferEvents",
    "OfferListing",
    "OfferPublication",
    "OfferRuleAssignment",
    "OfferRuleConfiguration",
    "OfferRules",
    "OfferSellingMode",
    "OfferStock",
    "OffersPage",
    "OperationState",
    "OrderEvent",
    "OrderEventOrder",
    "OrderEventStats",
    "OrderEvents",
    "OrderLineItem",
    "OrderLineItemOffer",
    "Price",
    "PriceAutomationRule",
    "PriceAutomationRuleRequest",
    "PriceAutomationRules",
    "PriceChangeCommand",
    "PriceIn",
    "PriceModification",
    "PriceRange",
    "Product",
    "ProductOffer",
    "ProductOfferOperation",
    "ProductsPage",
    "PublicationChangeCommand",
    "PublicationModification",
    "QuantityChangeCommand",
    "QuantityModification",
    "RuleConfiguration",
    "RuleRemoveEntry",
    "RuleSetEntry",
    "RuleType",
    "Shipment",
    "ShipmentLineItem",
    "Shipments",
    "TaskCount",
    "TaskReport",
    "UploadedImage",
]


class AllegroResponse(BaseModel):
    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="allow"
    )


class AllegroRequest(BaseModel):
    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- shared pieces --------------------------------------------------------------------------------------


class Price(AllegroResponse):
    amount: str
    currency: str


class PriceIn(AllegroRequest):
    """A price we send: `amount` as a decimal string ("49.99"), never a float."""

    amount: str = Field(pattern=r"^\d+(\.\d{1,2})?$")
    currency: str = Field(default="PLN", min_length=3, max_length=3)


class IdRef(AllegroResponse):
    id: str


class IdRefIn(AllegroRequest):
    id: str = Field(min_length=1)


class ExternalId(AllegroResponse):
    id: str | None = None


# --- /me ------------------------------------------------------------------------------------------------


class Me(AllegroResponse):
    id: str
    login: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    base_marketplace: IdRef | None = None


# --- product offers -------------------------------------------------------------------------------------


class OfferStock(AllegroResponse):
    available: int | None = None
    unit: str | None = None


class OfferSellingMode(AllegroResponse):
    format: str | None = None
    price: Price | None = None


class OfferPublication(AllegroResponse):
    status: str | None = None
    ended_by: str | None = None
    started_at: str | None = None  # ISO 8601, the last activation (GET /sale/offers: publication.startedAt)


class ProductOffer(AllegroResponse):
    """`SaleProductOfferResponseV1`: only the fields the sync reads are typed; the rest is kept as extra."""

    id: str
    name: str | None = None
    category: IdRef | None = None
    external: ExternalId | None = None
    stock: OfferStock | None = None
    selling_mode: OfferSellingMode | None = None
    publication: OfferPublication | None = None
    product_set: list[dict[str, Any]] | None = None


class OperationState(AllegroResponse):
    id: str | None = None
    status: str | None = None
    started_at: str | None = None


class ProductOfferOperation(AllegroResponse):
    """`SaleProductOfferStatusResponse`: what a still-running create/edit operation reports."""

    offer: IdRef | None = None
    operation: OperationState | None = None


# --- own offers listing ---------------------------------------------------------------------------------


class ListingStock(AllegroResponse):
    available: int | None = None
    sold: int | None = None


class ListingStats(AllegroResponse):
    watchers_count: int | None = None
    visits_count: int | None = None


class OfferListing(AllegroResponse):
    id: str
    name: str | None = None
    category: IdRef | None = None
    external: ExternalId | None = None
    selling_mode: OfferSellingMode | None = None
    stock: ListingStock | None = None
    stats: ListingStats | None = None
    publication: OfferPublication | None = None
    # issue 16: marketplace id -> {publication: {state}, sellingMode: {price}} (spec OfferListingDtoV1...)
    additional_marketplaces: dict[str, Any] | None = None


class OffersPage(AllegroResponse):
    offers: list[OfferListing] = Field(default_factory=list)
    count: int = 0
    total_count: int = 0


# --- batch commands -------------------------------------------------------------------------------------


class OfferCriterion(AllegroRequest):
    type: Literal["CONTAINS_OFFERS"] = "CONTAINS_OFFERS"
    offers: list[IdRefIn]


class QuantityModification(AllegroRequest):
    change_type: Literal["FIXED", "GAIN"]
    value: int


class QuantityChangeCommand(AllegroRequest):
    modification: QuantityModification
    offer_criteria: list[OfferCriterion]


class PriceModification(AllegroRequest):
    """One of FIXED_PRICE (`price`), INCREASE/DECREASE_PRICE (`value`), INCREASE/DECREASE_PERCENTAGE."""

    type: Literal[
        "FIXED_PRICE", "INCREASE_PRICE", "DECREASE_PRICE", "INCREASE_PERCENTAGE", "DECREASE_PERCENTAGE"
    ]
    marketplace_id: str | None = None
    price: PriceIn | None = None
    value: PriceIn | None = None
    percentage: str | None = Field(default=None, pattern=r"^\d+(\.\d+)?$")

    @model_validator(mode="after")
    def _one_matching_amount(self) -> PriceModification:
        """Exactly the holder field that `type` names, as Allegro's discriminator requires."""
        wanted = {"FIXED_PRICE": "price", "INCREASE_PRICE": "value", "DECREASE_PRICE": "value"}.get(
            self.type, "percentage"
        )
        given = [name for name in ("price", "value", "percentage") if getattr(self, name) is not None]
        if given != [wanted]:
            raise ValueError(f"{self.type} takes exactly `{wanted}`, got {given or 'none'}")
        return self


class PriceChangeCommand(AllegroRequest):
    modification: PriceModification
    offer_criteria: list[OfferCriterion]


class PublicationModification(AllegroRequest):
    action: Literal["ACTIVATE", "END"]
    scheduled_for: str | None = None


class PublicationChangeCommand(AllegroRequest):
    publication: PublicationModification
    offer_criteria: list[OfferCriterion]


class TaskCount(AllegroResponse):
    failed: int = 0
    success: int = 0
    total: int = 0


class CommandReport(AllegroResponse):
    """`GeneralReport`: a command's progress counters (often all 0 right after the PUT)."""

    id: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    task_count: TaskCount | None = None


class ErrorEntry(AllegroResponse):
    code: str | None = None
    message: str | None = None
    details: str | None = None
    path: str | None = None
    user_message: str | None = None
    metadata: dict[str, str] | None = None


class CommandTask(AllegroResponse):
    offer: IdRef | None = None
    status: str | None = None
    message: str | None = None
    field: str | None = None
    errors: list[ErrorEntry] | None = None


class TaskReport(AllegroResponse):
    tasks: list[CommandTask] = Field(default_factory=list)


class OfferCommandResult(BaseModel):
    """What a batch command did to one offer. PENDING: no final status within the allowed wait."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    offer_id: str
    status: Literal["SUCCESS", "FAIL", "PENDING"]
    message: str | None = None
    command_id: str


# --- price automation -----------------------------------------------------------------------------------

RuleType = Literal[
    "EXCHANGE_RATE", "FOLLOW_BY_ALLEGRO_MIN_PRICE", "FOLLOW_BY_MARKET_MIN_PRICE", "FOLLOW_BY_TOP_OFFER_PRICE"
]


class ChangeByPercentage(AllegroRequest):
    operation: Literal["SUBTRACT", "ADD"]
    value: str


class ChangeByAmount(AllegroRequest):
    operation: Literal["SUBTRACT", "ADD"]
    values: list[PriceIn]


class RuleConfiguration(AllegroRequest):
    change_by_percentage: ChangeByPercentage | None = None
    change_by_amount: ChangeByAmount | None = None


class PriceAutomationRuleRequest(AllegroRequest):
    name: str = Field(min_length=1, max_length=33)
    type: RuleType
    configuration: RuleConfiguration | None = None


class PriceAutomationRule(AllegroResponse):
    id: str
    type: str
    name: str
    default: bool = False
    updated_at: str | None = None
    configuration: dict[str, Any] | None = None


class PriceAutomationRules(AllegroResponse):
    rules: list[PriceAutomationRule] = Field(default_factory=list)


class OfferRuleAssignment(AllegroResponse):
    marketplace: IdRef
    rule: IdRef
    configuration: dict[str, Any] | None = None
    updated_at: str | None = None


class OfferRules(AllegroResponse):
    rules: list[OfferRuleAssignment] = Field(default_factory=list)
    updated_at: str | None = None


class PriceRange(AllegroRequest):
    type: Literal["BASE_MARKETPLACE_CURRENCY", "MARKETPLACE_CURRENCY"] = "MARKETPLACE_CURRENCY"
    min_price: PriceIn
    max_price: PriceIn


class OfferRuleConfiguration(AllegroRequest):
    price_range: PriceRange | None = None


class RuleSetEntry(AllegroRequest):
    marketplace: IdRefIn
    rule: IdRefIn
    configuration: OfferRuleConfiguration | None = None


class RuleRemoveEntry(AllegroRequest):
    marketplace: IdRefIn


class AutomaticPricingModification(AllegroRequest):
    set: list[RuleSetEntry] | None = None
    remove: list[RuleRemoveEntry] | None = None


class OfferAutomaticPricingCommand(AllegroRequest):
    id: str | None = None  # the command id (uuid4), set per chunk by the client
    modification: AutomaticPricingModification
    offer_criteria: list[OfferCriterion]


# --- categories, products, images -----------------------------------------------------------------------


class Category(AllegroResponse):
    id: str
    name: str | None = None
    leaf: bool | None = None
    parent: IdRef | None = None
    options: dict[str, Any] | None = None


class Categories(AllegroResponse):
    categories: list[Category] = Field(default_factory=list)


class CategoryParameter(AllegroResponse):
    id: str | None = None
    name: str | None = None
    type: str
    required: bool | None = None
    required_for_product: bool | None = None
    unit: str | None = None
    dictionary: list[dict[str, Any]] | None = None
    restrictions: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class CategoryParameters(AllegroResponse):
    parameters: list[CategoryParameter] = Field(default_factory=list)


class CategorySuggestion(AllegroResponse):
    id: str
    name: str
    parent: CategorySuggestion | None = None


class MatchingCategories(AllegroResponse):
    matching_categories: list[CategorySuggestion] = Field(default_factory=list)


class UploadedImage(AllegroResponse):
    """`location` must be used in an offer before `expiresAt`."""

    location: str
    expires_at: str | None = None


class Product(AllegroResponse):
    id: str
    name: str
    category: dict[str, Any] | None = None
    images: list[dict[str, Any]] | None = None
    parameters: list[dict[str, Any]] | None = None
    publication: dict[str, Any] | None = None


class NextPage(AllegroResponse):
    id: str | None = None


class ProductsPage(AllegroResponse):
    products: list[Product] = Field(default_factory=list)
    next_page: NextPage | None = None


# --- events ---------------------------------------------------------------------------------------------


class OfferEvent(AllegroResponse):
    id: str
    occurred_at: str
    type: str
    offer: dict[str, Any] | None = None


class OfferEvents(AllegroResponse):
    offer_events: list[OfferEvent] = Field(default_factory=list)


class OrderLineItemOffer(AllegroResponse):
    id: str
    name: str | None = None
    external: ExternalId | None = None


class OrderLineItem(AllegroResponse):
    id: str
    offer: OrderLineItemOffer
    quantity: int
    price: Price | None = None
    original_price: Price | None = None
    bought_at: str | None = None


class CheckoutFormRef(AllegroResponse):
    id: str
    revision: str | None = None


class OrderEventOrder(AllegroResponse):
    checkout_form: CheckoutFormRef | None = None
    line_items: list[OrderLineItem] = Field(default_factory=list)
    seller: IdRef | None = None
    buyer: dict[str, Any] | None = None
    marketplace: IdRef | None = None


class OrderEvent(AllegroResponse):
    id: str
    type: str
    occurred_at: str
    order: OrderEventOrder


class OrderEvents(AllegroResponse):
    events: list[OrderEvent] = Field(default_factory=list)


class LatestOrderEvent(AllegroResponse):
    id: str
    occurred_at: str | None = None


class OrderEventStats(AllegroResponse):
    latest_event: LatestOrderEvent | None = None


# --- checkout forms -------------------------------------------------------------------------------------


class Fulfillment(AllegroResponse):
    status: str | None = None
    shipment_summary: dict[str, Any] | None = None


class CheckoutForm(AllegroResponse):
    id: str
    status: str
    line_items: list[OrderLineItem] = Field(default_factory=list)
    buyer: dict[str, Any] | None = None
    payment: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None
    fulfillment: Fulfillment | None = None
    summary: dict[str, Any] | None = None
    marketplace: IdRef | None = None
    revision: str | None = None
    updated_at: str | None = None


class CheckoutForms(AllegroResponse):
    checkout_forms: list[CheckoutForm] = Field(default_factory=list)
    count: int = 0
    total_count: int = 0


class FulfillmentUpdate(AllegroRequest):
    status: FulfillmentStatus


class Carrier(AllegroResponse):
    id: str
    name: str | None = None


class Carriers(AllegroResponse):
    carriers: list[Carrier] = Field(default_factory=list)


class ShipmentLineItem(AllegroRequest):
    id: str


class AddShipment(AllegroRequest):
    carrier_id: str = Field(min_length=1)
    waybill: str = Field(min_length=1, max_length=64)
    carrier_name: str | None = Field(default=None, max_length=30)
    line_items: list[ShipmentLineItem] | None = None


class Shipment(AllegroResponse):
    id: str | None = None
    waybill: str | None = None
    carrier_id: str | None = None
    carrier_name: str | None = None
    line_items: list[dict[str, Any]] | None = None
    created_at: str | None = None


class Shipments(AllegroResponse):
    shipments: list[Shipment] = Field(default_factory=list)


class FeePreview(AllegroResponse):
    commissions: list[dict[str, Any]] = Field(default_factory=list)
    quotes: list[dict[str, Any]] = Field(default_factory=list)


# --- issue 14, item 7 (allegro-misc): campaigns. The offer's own data has no campaign field (spec:
# `sellingMode.price` stays the seller's, #4345, #13617); `GET /sale/badges` is where a campaign price shows.


class BadgeProcess(AllegroResponse):
    status: str | None = None


class BadgeCampaign(AllegroResponse):
    id: str
    name: str | None = None


class Badge(AllegroResponse):
    """One offer in one campaign; `prices.bargain` or `prices.subsidy.targetPrice` is what buyers pay."""

    offer: IdRef
    campaign: BadgeCampaign
    prices: dict[str, Any] | None = None
    process: BadgeProcess | None = None

    def campaign_price(self) -> str | None:
        prices = self.prices or {}
        found = (prices.get("bargain") or {}).get("amount") or (
            (prices.get("subsidy") or {}).get("targetPrice") or {}
        ).get("amount")
        return str(found) if found is not None else None


class Badges(AllegroResponse):
    badges: list[Badge] = Field(default_factory=list)
