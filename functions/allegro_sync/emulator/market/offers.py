"""Offers: `/sale/product-offers` (create, read, edit, operations), `GET /sale/offers` and offer events.

Every create and edit goes through one validator (`validate`) so POST and PATCH enforce the same
rules: leaf category, the linked product's category (CATEGORY_MISMATCH), one product per GTIN
(MultipleProductsFoundException, #8081), the category's required parameters (PARAMETER_MISMATCH),
the name's length, the description's HTML rules and unexpired image locations.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field, fields
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from allegro_sync.emulator.market import gpsr, marketplaces
from allegro_sync.emulator.market.catalogue import IMAGE_HOST, Category, Product, fold
from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    CURRENCY,
    Reject,
    body_object,
    error_item,
    events_page,
    int_arg,
    iso,
    new_uuid,
    obj,
    ok,
    parse_decimal,
    price,
    seq,
)
from allegro_sync.emulator.market.description import description_problems
from allegro_sync.emulator.market.state import OFFER_EVENT_RETENTION, Offer, OfferContent, Operation
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

NAME_MIN, NAME_MAX = 12, 75
# Offer fields the emulator does not interpret but keeps and shows back, as Allegro does.
ECHOED = (
    "delivery",
    "payments",
    "location",
    "afterSalesServices",
    "contact",
    "sizeTable",
    "b2b",
    "language",
    "taxSettings",
    "messageToSellerSettings",
    "attachments",
)
MERGED = ("sellingMode", "stock", "publication")  # PATCH merges these objects; other keys replace


@dataclass
class Draft(OfferContent):
    """A validated offer body, ready to become (or update) an `Offer`."""

    status: str | None  # the publication.status asked for, if any


# What an edit copies from the body as it is; price and stock change through `set_price`/`set_stock`,
# which record their events.
PLAIN_FIELDS = tuple(f.name for f in fields(OfferContent) if f.name not in ("price", "stock"))


# ----------------------------------------------------------------------------- validation


def _dictionary_problem(definition: dict[str, Any], ids: list[Any], values: list[Any]) -> str | None:
    allowed = {d["id"] for d in definition.get("dictionary", [])}
    if not ids and not (values and definition.get("options", {}).get("customValuesEnabled")):
        return "needs valuesIds from its dictionary"
    wrong = [str(v) for v in ids if v not in allowed]
    if wrong:
        return f"has no value id {', '.join(wrong)}"
    if len(ids) > 1 and not definition.get("restrictions", {}).get("multipleChoices"):
        return "accepts one value"
    return None


def _number_problem(definition: dict[str, Any], values: list[Any]) -> str | None:
    kind, restrictions = definition["type"], definition.get("restrictions", {})
    if len(values) != 1:
        return "needs exactly one value"
    number = parse_decimal(values[0])
    if number is None or (kind == "integer" and number != number.to_integral_value()):
        return f"must be {'an integer' if kind == 'integer' else 'a number'}"
    low, high = restrictions.get("min"), restrictions.get("max")
    if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
        return f"must be between {low} and {high}"
    precision = restrictions.get("precision")
    exponent = number.as_tuple().exponent
    if precision is not None and isinstance(exponent, int) and -exponent > precision:
        return f"allows {precision} decimal places"
    return None


def _string_problem(definition: dict[str, Any], values: list[Any]) -> str | None:
    restrictions = definition.get("restrictions", {})
    if not values:
        return "needs a value"
    limit = restrictions.get("allowedNumberOfValues") or 0
    if limit and len(values) > limit:
        return f"accepts at most {limit} values"
    low, high = restrictions.get("minLength", 0), restrictions.get("maxLength")
    if any(not isinstance(v, str) or len(v) < low or (high is not None and len(v) > high) for v in values):
        return f"values must have {low}..{high} characters"
    return None


def _parameter_problem(definition: dict[str, Any], raw: dict[str, Any]) -> str | None:
    """What is wrong with one parameter value for its definition (None: nothing)."""
    kind = definition["type"]
    values = list(seq(raw.get("values")))
    ids = list(seq(raw.get("valuesIds")))
    problem: str | None
    if not all(isinstance(v, str) for v in values + ids):
        problem = "values and valuesIds must be strings"
    elif raw.get("rangeValue") is not None:
        problem = None if definition.get("restrictions", {}).get("range") else "does not accept a range"
    elif kind == "dictionary":
        problem = _dictionary_problem(definition, ids, values)
    elif ids:
        problem = "is not a dictionary parameter: use values"
    elif kind in ("integer", "float"):
        problem = _number_problem(definition, values)
    else:
        problem = _string_problem(definition, values)
    return None if problem is None else f"Parameter {definition['name']} ({definition['id']}) {problem}"


def _check_parameters(
    category: Category, offer_params: list[Any], product_params: list[Any], errors: list[dict[str, Any]]
) -> None:
    """Known ids with valid values, and every required parameter present in the offer or its product."""
    present: set[str] = set()
    for path, params in (("parameters", offer_params), ("productSet[0].product.parameters", product_params)):
        for index, raw in enumerate(params):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                errors.append(
                    error_item("VALIDATION_ERROR", "A parameter needs an id", path=f"{path}[{index}]")
                )
                continue
            definition = category.parameter(raw["id"])
            if definition is None:
                errors.append(
                    error_item(
                        "PARAMETER_MISMATCH",
                        f"Parameter {raw['id']} does not exist in category {category.id}",
                        path=f"{path}[{index}]",
                        metadata={"parameterId": raw["id"], "categoryId": category.id},
                    )
                )
                continue
            problem = _parameter_problem(definition, raw)
            if problem is not None:
                errors.append(
                    error_item(
                        "PARAMETER_MISMATCH",
                        problem,
                        path=f"{path}[{index}]",
                        metadata={"parameterId": raw["id"], "categoryId": category.id},
                    )
                )
            present.add(raw["id"])
    for definition in category.parameters:
        if definition.get("required") and definition["id"] not in present:
            errors.append(
                error_item(
                    "PARAMETER_MISMATCH",
                    f"Missing required parameter {definition['name']} ({definition['id']})",
                    path="parameters",
                    metadata={
                        "parameterId": definition["id"],
                        "parameterName": definition["name"],
                        "categoryId": category.id,
                    },
                )
            )


def _resolve_product(
    st: MarketState, product: dict[str, Any], errors: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]], str | None, str | None]:
    """(product id, its catalogue parameters, its category, its name) for `productSet[0].product`."""
    ident = product.get("id")
    id_type = product.get("idType")
    if ident is None:
        return _defined_product(st, product, errors)
    if not isinstance(ident, str) or not ident:
        errors.append(
            error_item("VALIDATION_ERROR", "productSet product needs an id", path="productSet[0].product")
        )
        return None, [], None, None
    if id_type in ("GTIN", "MPN"):
        matches = st.catalogue.by_gtin(ident) if id_type == "GTIN" else []
        if len(matches) > 1:
            ids = ",".join(p.id for p in matches)
            errors.append(
                error_item(
                    "MultipleProductsFoundException",
                    f"{len(matches)} products match {id_type} {ident}: link one of them by its id",
                    path="productSet[0].product.id",
                    metadata={"gtin": ident, "productIds": ids},
                )
            )
            return None, [], None, None
        if not matches:
            errors.append(
                error_item(
                    "ProductNotFoundException",
                    f"No product matches {id_type} {ident}",
                    path="productSet[0].product.id",
                    metadata={"gtin": ident},
                )
            )
            return None, [], None, None
        found = matches[0]
    else:
        catalogue_product = st.catalogue.products.get(ident)
        if catalogue_product is None:
            errors.append(
                error_item(
                    "ProductNotFoundException", f"Product {ident} not found", path="productSet[0].product.id"
                )
            )
            return None, [], None, None
        found = catalogue_product
    return found.id, [dict(p) for p in found.parameters], found.category_id, found.name


def _defined_product(
    st: MarketState, product: dict[str, Any], errors: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]], str | None, str | None]:
    """A full product definition (no catalogue match): name, category and parameters are required.

    Allegro then proposes a new catalogue product and links the offer to it; `validate` registers it only
    once the whole offer is accepted, so a refused offer leaves the catalogue untouched.
    """
    name = product.get("name")
    category_id = obj(product.get("category")).get("id")
    if not isinstance(name, str) or not name.strip():
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                "A product without an id needs a name",
                path="productSet[0].product.name",
            )
        )
    if not isinstance(category_id, str) or category_id not in st.catalogue.categories:
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                "A product without an id needs a known category",
                path="productSet[0].product.category.id",
            )
        )
    if errors:
        return None, [], None, None
    return None, [], str(category_id), str(name)


def _check_images(st: MarketState, urls: list[str], errors: list[dict[str, Any]]) -> None:
    """Locations from `POST /sale/images` must be used before they expire; other URLs are downloaded."""
    now = st.now()
    for url in urls:
        if not url.startswith(IMAGE_HOST):
            continue
        if url not in st.images:
            errors.append(error_item("VALIDATION_ERROR", f"Provided image address is incorrect: {url}"))
            continue
        expires = st.images[url]
        if expires is not None and expires < now:
            # Deleted after its TTL; Allegro says neither which image nor why (#2584, #1946, #7889).
            errors.append(error_item("VALIDATION_ERROR", f"Provided image address is incorrect: {url}"))


@dataclass
class _Linked:
    """What `productSet[0].product` resolved to."""

    product_id: str | None = None
    catalogue_params: list[dict[str, Any]] = field(default_factory=list)
    request_params: list[Any] = field(default_factory=list)
    category_id: str | None = None
    name: str | None = None


def _linked_product(st: MarketState, doc: dict[str, Any], errors: list[dict[str, Any]]) -> _Linked:
    linked = _Linked()
    product_set = doc.get("productSet")
    if not product_set:
        return linked
    first = product_set[0] if isinstance(product_set, list) else None
    product = first.get("product") if isinstance(first, dict) else None
    if not isinstance(product, dict):
        errors.append(error_item("VALIDATION_ERROR", "productSet[0].product is missing", path="productSet"))
        return linked
    linked.product_id, linked.catalogue_params, linked.category_id, linked.name = _resolve_product(
        st, product, errors
    )
    linked.request_params = list(seq(product.get("parameters")))
    return linked


def _check_category(
    st: MarketState, doc: dict[str, Any], linked: _Linked, errors: list[dict[str, Any]]
) -> str | None:
    """The offer's leaf category (given or the product's), its agreement with the product, its parameters."""
    requested = obj(doc.get("category")).get("id")
    category_id = requested or linked.category_id
    category = st.catalogue.categories.get(category_id) if isinstance(category_id, str) else None
    if category_id is None:
        if not errors:
            errors.append(error_item("VALIDATION_ERROR", "category.id is required", path="category.id"))
        return None
    if category is None:
        errors.append(
            error_item("CATEGORY_NOT_FOUND", f"Category {category_id} not found", path="category.id")
        )
        return None
    if not category.leaf:
        errors.append(
            error_item(
                "CATEGORY_NOT_LEAF", f"Category {category_id} is not a leaf category", path="category.id"
            )
        )
        return None
    if requested and linked.category_id and requested != linked.category_id:
        errors.append(
            error_item(
                "CATEGORY_MISMATCH",
                f"The offer's category {requested} differs from the product's category {linked.category_id}",
                path="category.id",
                metadata={"offerCategoryId": requested, "productCategoryId": linked.category_id},
            )
        )
        return None
    # A linked catalogue product brings its own parameters; the request may add product parameters.
    offer_params = list(seq(doc.get("parameters")))
    _check_parameters(category, offer_params, linked.request_params + linked.catalogue_params, errors)
    return category.id


# Allegro counts a title after HTML-entity encoding: & 5, < and > 4, " 6 (#1306, #3394); a word has at most
# 30 characters (#10008). Written out here, not imported: the emulator shares no rule with the system.
_TITLE_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
WORD_MAX = 30


def _counted(text: str) -> int:
    return sum(len(_TITLE_ENTITIES.get(ch, ch)) for ch in text)


def _check_name(name: Any, errors: list[dict[str, Any]]) -> str:
    """12..75 characters as Allegro counts them, no word over 30; ">= 3 words" is the project's own rule."""
    if not isinstance(name, str) or not name.strip():
        errors.append(error_item("VALIDATION_ERROR", "name is required", path="name"))
        return ""
    counted = _counted(name)
    if not len(name) >= NAME_MIN or counted > NAME_MAX:
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                f"The title has {counted} characters: use {NAME_MIN} to {NAME_MAX}, assuming that some "
                "letters and symbols are counted as more than 1 character",
                path="name",
                metadata={"length": str(counted)},
            )
        )
    if long := [w for w in name.split() if _counted(w) > WORD_MAX]:
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                f"A word of the title exceeds {WORD_MAX} characters: {long[0]}",
                path="name",
            )
        )
    return name


def _check_price(doc: dict[str, Any], errors: list[dict[str, Any]]) -> Decimal:
    selling = obj(doc.get("sellingMode"))
    if selling.get("format", "BUY_NOW") != "BUY_NOW":
        errors.append(
            error_item("VALIDATION_ERROR", "Only BUY_NOW offers are supported", path="sellingMode.format")
        )
    raw_price = obj(selling.get("price"))
    amount = parse_decimal(raw_price.get("amount"))
    if amount is None or amount <= 0:
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                "sellingMode.price.amount must be a positive amount",
                path="sellingMode.price",
            )
        )
        return Decimal(0)
    if raw_price.get("currency", CURRENCY) != CURRENCY:
        errors.append(
            error_item(
                "VALIDATION_ERROR", f"The price must be in {CURRENCY}", path="sellingMode.price.currency"
            )
        )
    return amount


def _check_stock(doc: dict[str, Any], errors: list[dict[str, Any]]) -> int:
    stock = obj(doc.get("stock"))
    available = stock.get("available", 0)
    if stock.get("unit", "UNIT") not in ("UNIT", "PAIR", "SET"):
        errors.append(
            error_item("VALIDATION_ERROR", "stock.unit must be UNIT, PAIR or SET", path="stock.unit")
        )
    if not isinstance(available, int) or isinstance(available, bool) or available < 0:
        errors.append(error_item("VALIDATION_ERROR", "stock.available must be an integer >= 0", path="stock"))
        return 0
    return available


def _check_content(st: MarketState, doc: dict[str, Any], errors: list[dict[str, Any]]) -> list[str]:
    """Description rules, image locations, external id and publication status; returns the images."""
    description = doc.get("description")
    if description is not None:
        errors.extend(
            error_item("VALIDATION_ERROR", message, path=path)
            for path, message in description_problems(description)
        )
    images = seq(doc.get("images"))
    if not isinstance(images, list) or not all(isinstance(u, str) for u in images):
        errors.append(error_item("VALIDATION_ERROR", "images must be a list of URLs", path="images"))
        images = []
    _check_images(st, images, errors)
    external_id = obj(doc.get("external")).get("id")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 100):
        errors.append(
            error_item("VALIDATION_ERROR", "external.id has at most 100 characters", path="external.id")
        )
    status = obj(doc.get("publication")).get("status")
    if status is not None and status not in ("INACTIVE", "ACTIVE", "ENDED"):
        errors.append(
            error_item(
                "VALIDATION_ERROR", f"publication.status {status} cannot be set", path="publication.status"
            )
        )
    return list(images)


def validate(st: MarketState, doc: dict[str, Any], seller_id: str) -> Draft:
    """The whole offer body, checked as Allegro checks it; raises a 422 listing every problem."""
    errors: list[dict[str, Any]] = []
    linked = _linked_product(st, doc, errors)
    safety = gpsr.product_safety(st, seller_id, doc, errors)
    category_id = _check_category(st, doc, linked, errors)
    name = _check_name(doc.get("name") or linked.name, errors)
    amount = _check_price(doc, errors)
    available = _check_stock(doc, errors)
    images = _check_content(st, doc, errors)
    markets = marketplaces.accepted(st, doc, errors)
    if errors or category_id is None:
        raise Reject(422, errors)
    if linked.product_id is None and doc.get("productSet"):
        linked.product_id = _propose_product(st, linked.name or name, category_id, linked.request_params)
    return Draft(
        name=name,
        category_id=category_id,
        product_id=linked.product_id,
        parameters=[dict(p) for p in seq(doc.get("parameters"))],
        product_parameters=[dict(p) for p in linked.request_params],
        price=amount,
        stock=available,
        unit=obj(doc.get("stock")).get("unit", "UNIT"),
        description=doc.get("description"),
        images=images,
        external_id=obj(doc.get("external")).get("id"),
        extras={k: copy.deepcopy(doc[k]) for k in ECHOED if k in doc},
        safety=safety,
        markets=markets,
        status=obj(doc.get("publication")).get("status"),
    )


def _propose_product(st: MarketState, name: str, category_id: str, parameters: list[Any]) -> str:
    """Register the seller's product definition in the catalogue, as Allegro's product proposal does."""
    product_id = str(uuid.uuid4())
    st.catalogue.products[product_id] = Product(
        id=product_id,
        name=name,
        category_id=category_id,
        ean="",
        images=(),
        parameters=tuple(dict(p) for p in parameters if isinstance(p, dict)),
    )
    return product_id


# ----------------------------------------------------------------------------- views


def offer_doc(offer: Offer) -> dict[str, Any]:
    """The offer as a request body, the base a PATCH is merged onto."""
    doc: dict[str, Any] = {
        "name": offer.name,
        "category": {"id": offer.category_id},
        "parameters": copy.deepcopy(offer.parameters),
        "sellingMode": {"format": "BUY_NOW", "price": price(offer.price)},
        "stock": {"available": offer.stock, "unit": offer.unit},
        "images": list(offer.images),
        **copy.deepcopy(offer.extras),
    }
    if offer.product_id is not None:
        doc["productSet"] = [
            {
                "product": {"id": offer.product_id, "parameters": copy.deepcopy(offer.product_parameters)},
                **gpsr.shown(offer.safety, 0),
            }
        ]
    if offer.description is not None:
        doc["description"] = copy.deepcopy(offer.description)
    if offer.external_id is not None:
        doc["external"] = {"id": offer.external_id}
    if offer.markets:
        doc["additionalMarketplaces"] = marketplaces.as_request(offer)
    return doc


def offer_view(st: MarketState, offer: Offer) -> dict[str, Any]:
    """The offer as `GET /sale/product-offers/{id}` shows it (SaleProductOfferResponseV1)."""
    publication = _publication(offer, started="startingAt", ended="endingAt")
    if offer.ended_by is not None:  # nullable in the spec, but null is not in its enum
        publication["endedBy"] = offer.ended_by
    view: dict[str, Any] = {
        "id": offer.id,
        "language": "pl-PL",
        **offer_doc(offer),  # its echoed extras may say otherwise (language)
        "publication": publication,
        "additionalMarketplaces": marketplaces.shown(offer)[1],
        "validation": {"errors": [], "warnings": [], "validatedAt": iso(offer.updated_at)},
        "createdAt": iso(offer.created_at),
        "updatedAt": iso(offer.updated_at),
    }
    if offer.product_id is not None:  # the product as the catalogue has it, not only the offer's parameters
        product = st.catalogue.products[offer.product_id]
        view["productSet"] = [
            {
                "quantity": {"value": 1},
                "product": {
                    "id": product.id,
                    "publication": {"status": "LISTED"},
                    "parameters": copy.deepcopy(list(product.parameters) + offer.product_parameters),
                },
                **gpsr.shown(offer.safety, 0),
            }
        ]
    return view


def _publication(offer: Offer, *, started: str, ended: str) -> dict[str, Any]:
    """The offer's publication block; the two views name its start and end differently in the spec."""
    publication: dict[str, Any] = {
        "status": offer.status,
        "marketplaces": {"base": {"id": BASE_MARKETPLACE}, "additional": marketplaces.shown(offer)[0]},
    }
    if offer.started_at is not None:
        publication[started] = iso(offer.started_at)
    if offer.ended_at is not None:
        publication[ended] = iso(offer.ended_at)
    return publication


def listing_view(st: MarketState, offer: Offer) -> dict[str, Any]:
    """One entry of `GET /sale/offers` (OfferListingDto) with the 30-day figures."""
    now = st.now()
    selling: dict[str, Any] = {"format": "BUY_NOW", "price": price(offer.price)}
    base_rule = offer.rules.get(BASE_MARKETPLACE)
    if base_rule is not None:
        selling["priceAutomation"] = {"rule": {"id": base_rule["rule"]["id"]}}
    publication = _publication(offer, started="startedAt", ended="endedAt")
    view: dict[str, Any] = {
        "id": offer.id,
        "name": offer.name,
        "category": {"id": offer.category_id},
        "sellingMode": selling,
        "stock": {"available": offer.stock, "sold": offer.sold(now)},
        "stats": {"watchersCount": offer.watchers, "visitsCount": offer.visits},
        "publication": publication,
    }
    view["additionalMarketplaces"] = {
        ident: {"publication": {"state": block["publication"]["state"]}}
        | ({"sellingMode": {"price": block["sellingMode"]["price"]}} if "sellingMode" in block else {})
        for ident, block in marketplaces.shown(offer)[1].items()
    }
    if offer.images:
        view["primaryImage"] = {"url": offer.images[0]}
    if offer.external_id is not None:
        view["external"] = {"id": offer.external_id}
    return view


# ----------------------------------------------------------------------------- state changes


def own_offer(st: MarketState, seller_id: str, offer_id: str) -> Offer:
    """The seller's live offer; 404 for unknown or archived ids (#10743), 403 for someone else's."""
    offer = st.offers.get(offer_id)
    if offer is None or offer.archived(st.now()):
        raise Reject.one(404, "NOT_FOUND", f"Offer {offer_id} not found", path="offerId")
    if offer.seller_id != seller_id:
        raise Reject.one(403, "ACCESS_DENIED", f"Offer {offer_id} belongs to another seller")
    return offer


def activate(st: MarketState, offer: Offer) -> None:
    now = st.now()
    offer.status, offer.ended_by, offer.ended_at, offer.started_at = "ACTIVE", None, None, now
    offer.updated_at = now
    st.record_offer_event(offer, "OFFER_ACTIVATED")


def end(st: MarketState, offer: Offer, ended_by: str) -> None:
    now = st.now()
    offer.status, offer.ended_by, offer.ended_at, offer.updated_at = "ENDED", ended_by, now, now
    st.record_offer_event(offer, "OFFER_ENDED", {"publication": {"endedBy": ended_by}})


def set_stock(st: MarketState, offer: Offer, available: int) -> None:
    """A stock change; 0 on an ACTIVE offer ends it asynchronously with endedBy EMPTY_STOCK."""
    if not _change(st, offer, "stock", available, "OFFER_STOCK_CHANGED"):
        return
    if available == 0 and offer.status in ("ACTIVE", "ACTIVATING"):

        def end_if_still_empty() -> None:
            if offer.stock == 0 and offer.status in ("ACTIVE", "ACTIVATING"):
                end(st, offer, "EMPTY_STOCK")

        st.schedule(st.faults.offer_end_delay_seconds, end_if_still_empty)


def set_price(st: MarketState, offer: Offer, amount: Decimal) -> None:
    _change(st, offer, "price", amount, "OFFER_PRICE_CHANGED")


def _change(
    st: MarketState, offer: Offer, name: Literal["stock", "price"], value: object, event: str
) -> bool:
    """Set one of the offer's values and record its event, unless it already has it; True if it changed."""
    if getattr(offer, name) == value:
        return False
    setattr(offer, name, value)
    offer.updated_at = st.now()
    st.record_offer_event(offer, event)
    return True


def _use_images(st: MarketState, draft: Draft) -> None:
    for url in draft.images:
        if url in st.images:
            st.images[url] = None  # used by an offer: no longer expires


def _stale_stock(st: MarketState, draft: Draft) -> None:
    """#9846: Allegro refused an activation with stock 6 as "less than 1" for a while."""
    if draft.status == "ACTIVE" and draft.stock > 0 and st.faults.stale_stock_refusals > 0:
        st.faults.stale_stock_refusals -= 1
        raise Reject.one(
            422,
            "AvailableStockMustEqualToOneOrBeGreaterThanOne",
            "The listed quantity cannot be less than 1.",
            path="stock.available",
        )


def _status_problem(draft: Draft, current: str | None) -> Reject | None:
    if draft.status == "ACTIVE" and draft.stock == 0:
        return Reject.one(  # the real code and wording (#10699, #9846)
            422,
            "AvailableStockMustEqualToOneOrBeGreaterThanOne",
            "The listed quantity cannot be less than 1.",
            path="stock.available",
        )
    if draft.status == "ENDED" and current is None:
        return Reject.one(422, "VALIDATION_ERROR", "A new offer cannot be ENDED", path="publication.status")
    if draft.status == "INACTIVE" and current not in {None, "INACTIVE"}:
        return Reject.one(
            422, "VALIDATION_ERROR", f"A {current} offer cannot become INACTIVE", path="publication.status"
        )
    return None


def _assign(offer: Offer, draft: Draft) -> None:
    """The plain fields of an edit (no events, no side effects)."""
    for name in PLAIN_FIELDS:
        setattr(offer, name, getattr(draft, name))


def _apply(st: MarketState, offer: Offer, draft: Draft) -> None:
    """Apply a validated edit (PATCH) to the offer, with the events and async effects it implies."""
    _assign(offer, draft)
    offer.updated_at = st.now()
    _use_images(st, draft)
    set_price(st, offer, draft.price)
    set_stock(st, offer, draft.stock)
    if draft.status == "ACTIVE" and offer.status not in ("ACTIVE", "ACTIVATING"):
        activate(st, offer)
    elif draft.status == "ENDED" and offer.status in ("ACTIVE", "ACTIVATING"):
        end(st, offer, "USER")
    st.record_offer_event(offer, "OFFER_CHANGED")


def _operation_error() -> dict[str, Any]:
    """Why an emulated operation failed: an earlier operation still held the offer (#5819)."""
    message = "The offer could not be processed: it was locked by another operation. Try again."
    return {
        "code": "OfferProcessingFailedException",
        "message": message,
        "details": None,
        "path": None,
        "userMessage": message,
        "metadata": {},
    }


def _operation_headers(offer_id: str, operation_id: str) -> dict[str, str]:
    return {
        "Location": f"/sale/product-offers/{offer_id}/operations/{operation_id}",
        "Retry-After": "1",
    }


# ----------------------------------------------------------------------------- handlers


def create_offer(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """201 with the offer, or (for `async_offer_share` of calls) 202 + Location of an operation."""
    assert request.seller_id is not None
    draft = validate(st, body_object(request), request.seller_id)
    _stale_stock(st, draft)
    rejected = _status_problem(draft, None)
    if rejected is not None:
        raise rejected
    now = st.now()
    offer = Offer(
        **{name: getattr(draft, name) for name in PLAIN_FIELDS},
        id=st.next_offer_id(),
        seller_id=request.seller_id,
        price=draft.price,
        stock=draft.stock,
        created_at=now,
        updated_at=now,
    )
    _use_images(st, draft)
    st.offers[offer.id] = offer
    if not st.chance(st.faults.async_offer_share):
        if draft.status == "ACTIVE":
            activate(st, offer)
        return ok(offer_view(st, offer), 201)
    operation = Operation(new_uuid(st.rng), offer.id, now)
    st.operations[operation.id] = operation
    if draft.status == "ACTIVE":
        offer.status = "ACTIVATING"
    offer.busy_until = now + timedelta(seconds=st.faults.offer_operation_seconds)

    fails = st.chance(st.faults.offer_operation_failure_rate)

    def finish() -> None:
        operation.done = True
        offer.busy_until = None
        if fails:  # the offer stays behind as an INACTIVE draft carrying the external.id (#11011, #9234)
            operation.errors = [_operation_error()]
            offer.status = "INACTIVE"
        elif offer.status == "ACTIVATING":
            activate(st, offer)

    st.schedule(st.faults.offer_operation_seconds, finish)
    return ok(offer_view(st, offer), 202, _operation_headers(offer.id, operation.id))


def get_offer(st: MarketState, request: EmulatorRequest, offer_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    return ok(offer_view(st, own_offer(st, request.seller_id, offer_id)))


def patch_offer(st: MarketState, request: EmulatorRequest, offer_id: str) -> EmulatorResponse:
    """Merge the patch onto the offer and re-validate all of it; 409 while an earlier edit still runs."""
    assert request.seller_id is not None
    offer = own_offer(st, request.seller_id, offer_id)
    now = st.now()
    if (offer.busy_until is not None and offer.busy_until >= now) or st.chance(st.faults.patch_conflict_rate):
        raise Reject.one(
            409,
            "OPERATION_IN_PROGRESS",
            f"Offer {offer_id} is still being processed after a previous change: retry later (#9620)",
        )
    patch = body_object(request)
    doc = offer_doc(offer)
    for key, value in patch.items():
        if key in MERGED and isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    if "publication" not in patch:
        doc.pop("publication", None)
    draft = validate(st, doc, request.seller_id)
    _stale_stock(st, draft)
    rejected = _status_problem(draft, offer.status)
    if rejected is not None:
        raise rejected
    if not st.chance(st.faults.async_offer_share):
        _apply(st, offer, draft)
        return ok(offer_view(st, offer), 200)
    operation = Operation(new_uuid(st.rng), offer.id, now)
    st.operations[operation.id] = operation
    offer.busy_until = now + timedelta(seconds=st.faults.offer_operation_seconds)
    preview = copy.deepcopy(offer)
    fails = st.chance(st.faults.offer_operation_failure_rate)

    def finish() -> None:
        operation.done = True
        offer.busy_until = None
        if fails:  # the edit is not applied; the offer stays as it was
            operation.errors = [_operation_error()]
            return
        _apply(st, offer, draft)

    st.schedule(st.faults.offer_operation_seconds, finish)
    _assign(preview, draft)  # the body shows the edit as it will be once the operation completes
    preview.price, preview.stock = draft.price, draft.stock
    return ok(offer_view(st, preview), 202, _operation_headers(offer.id, operation.id))


def get_operation(
    st: MarketState, request: EmulatorRequest, offer_id: str, operation_id: str
) -> EmulatorResponse:
    """202 while the operation runs, then 303 See Other to the offer."""
    assert request.seller_id is not None
    operation = st.operations.get(operation_id)
    if operation is None or operation.offer_id != offer_id:
        raise Reject.one(404, "NOT_FOUND", f"Operation {operation_id} not found")
    own_offer(st, request.seller_id, offer_id)
    if operation.errors:  # spec: 422 with the errors of the failed operation (#11011)
        return EmulatorResponse(422, {"errors": operation.errors})
    if operation.done:
        return EmulatorResponse(303, None, {"Location": f"/sale/product-offers/{offer_id}"})
    body = {
        "offer": {"id": offer_id},
        "operation": {"id": operation.id, "status": "IN_PROGRESS", "startedAt": iso(operation.started_at)},
    }
    return ok(body, 202, {"Retry-After": "1"})


SORTS = {
    "sellingMode.price.amount": lambda o: o.price,
    "stock.available": lambda o: o.stock,
}


def list_offers(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """The seller's own offers (archived ones excluded) with filters, offset/limit and 30-day stats."""
    assert request.seller_id is not None
    now = st.now()
    limit = int_arg(request, "limit", 20, 1, 1000)
    offset = int_arg(request, "offset", 0, 0, 9_999_999)
    ids = set(request.query.get("offer.id", []))
    statuses = set(request.query.get("publication.status", []))
    externals = request.query.get("external.id", [])
    if len(externals) > 100:
        raise Reject.one(422, "VALIDATION_ERROR", "At most 100 external.id values", path="external.id")
    name = fold(request.arg("name") or "")
    category_id = request.arg("category.id")
    rule_id = request.arg("sellingMode.priceAutomation.rule.id")
    found = [
        o
        for o in st.offers.values()
        if o.seller_id == request.seller_id
        and not o.archived(now)
        and (not ids or o.id in ids)
        and (not statuses or o.status in statuses)
        and (not externals or o.external_id in externals)
        and (not name or name in fold(o.name))
        and (category_id is None or o.category_id == category_id)
        and (rule_id is None or o.rules.get(BASE_MARKETPLACE, {}).get("rule", {}).get("id") == rule_id)
    ]
    sort = request.arg("sort")
    if sort:
        key = sort.lstrip("-")
        if key == "stock.sold":
            found.sort(key=lambda o: o.sold(now), reverse=sort.startswith("-"))
        elif key in SORTS:
            found.sort(key=SORTS[key], reverse=sort.startswith("-"))
    page = found[offset : offset + limit]
    return ok({"offers": [listing_view(st, o) for o in page], "count": len(page), "totalCount": len(found)})


def offer_events(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """`GET /sale/offer-events`: this seller's offer events of the last 24 hours, after `from`."""
    assert request.seller_id is not None
    horizon = st.now() - OFFER_EVENT_RETENTION
    visible = (e for e in st.offer_events if e.seller_id == request.seller_id and e.occurred_at >= horizon)
    events = events_page(request, visible)
    return ok(
        {
            "offerEvents": [
                {"id": e.id, "occurredAt": iso(e.occurred_at), "type": e.type, **copy.deepcopy(e.payload)}
                for e in events
            ]
        }
    )
