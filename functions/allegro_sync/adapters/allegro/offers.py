"""The seller's offers: create and edit product offers (and follow Allegro's 202 operations), list them,
read the offer event journal. `new_offer_body`/`offer_patch_body` are the one place that knows the JSON of
POST/PATCH /sale/product-offers (spec: SaleProductOfferRequestV1, SaleProductOfferPatchRequestV1)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from allegro_sync.adapters.allegro.core import PAGE_LIMIT, AllegroCore, _retry_after, _segment
from allegro_sync.contracts.allegro import (
    OfferEvents,
    OfferListing,
    OffersPage,
    PriceIn,
    ProductOffer,
    ProductOfferOperation,
)
from allegro_sync.contracts.allegro_errors import (
    AllegroOperationFailed,
    AllegroOperationPending,
    AllegroValidationError,
    InvalidCommand,
)
from allegro_sync.contracts.allegro_requests import (
    CatalogueProduct,
    NewOffer,
    NewProduct,
    OfferChanges,
    ProductSafety,
)
from allegro_sync.contracts.offer_content import OfferParameter

# Allegro filters GET /sale/offers by at most this many external ids per request.
MAX_EXTERNAL_IDS = 100


class OffersApi(AllegroCore):
    """/sale/product-offers, /sale/offers and /sale/offer-events."""

    def create_offer(self, offer: NewOffer, *, wait: bool = True) -> ProductOffer:
        """List a product: the typed form of `create_product_offer` (same retry rules)."""
        return self.create_product_offer(new_offer_body(offer), wait=wait)

    def update_offer(self, offer_id: str, changes: OfferChanges, *, wait: bool = True) -> ProductOffer:
        """Change only the given fields of an offer: the typed form of `patch_product_offer`."""
        return self.patch_product_offer(offer_id, offer_patch_body(changes), wait=wait)

    def create_product_offer(self, body: Mapping[str, Any], *, wait: bool = True) -> ProductOffer:
        """POST /sale/product-offers; when Allegro answers 202, follow the operation until it is done.

        Not retried on timeouts or 5xx (a repeat could list the product twice): the caller's reconciliation
        finds the offer by `external.id` instead.
        """
        response = self.request("POST", "/sale/product-offers", json_body=dict(body))
        return self._settle_offer(response, wait=wait)

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        """PATCH /sale/product-offers/{id}; 409 (previous edit still processing) is retried later."""
        response = self.request(
            "PATCH", f"/sale/product-offers/{_segment(offer_id)}", json_body=dict(body), retry_conflict=True
        )
        return self._settle_offer(response, wait=wait, offer_id=offer_id)

    def get_product_offer(self, offer_id: str) -> ProductOffer:
        return self._get(f"/sale/product-offers/{_segment(offer_id)}", ProductOffer)

    def product_offer_operation(self, offer_id: str, operation_id: str) -> ProductOfferOperation | None:
        """GET .../operations/{operationId}: the operation while running, None once done (303)."""
        path = f"/sale/product-offers/{_segment(offer_id)}/operations/{_segment(operation_id)}"
        response = self.request("GET", path)
        return ProductOfferOperation.model_validate(response.json()) if response.status_code == 202 else None

    def _settle_offer(
        self, response: httpx.Response, *, wait: bool, offer_id: str | None = None
    ) -> ProductOffer:
        body: Any = response.json() if response.content else {}
        if response.status_code != 202:
            return ProductOffer.model_validate(body)
        # A 202 body may be partial; the offer id is also the second segment of the operation's Location.
        location = response.headers.get("location")
        offer_id = (body.get("id") if isinstance(body, dict) else None) or offer_id or _offer_id_in(location)
        if not offer_id:
            raise AllegroOperationPending("Allegro answered 202 without an offer id or Location")
        if not wait:
            return ProductOffer.model_validate({**(body if isinstance(body, dict) else {}), "id": offer_id})
        if not location:
            raise AllegroOperationPending("Allegro answered 202 without Location", offer_id=offer_id)
        waited = 0.0
        poll = 0
        delay = _retry_after(response)
        while True:
            delay = min(delay if delay is not None else self._poll_delay(poll), self._max_wait)
            if waited + delay > self._max_wait:
                raise AllegroOperationPending(
                    f"offer {offer_id} still processing after {waited:.0f} s",
                    offer_id=offer_id,
                    location=location,
                )
            self._sleep(delay)
            waited += delay
            poll += 1
            try:
                status = self.request("GET", location)
            except AllegroValidationError as failed:  # the operation failed; a create left a draft
                raise AllegroOperationFailed(failed, offer_id=offer_id) from failed
            if status.status_code != 202:  # 303 (done; httpx does not follow it) or a plain 200
                return self.get_product_offer(offer_id)
            delay = _retry_after(status)

    # ---- own offers --------------------------------------------------------------------------------------

    def list_offers(
        self,
        *,
        external_ids: Sequence[str] = (),
        offer_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        name: str | None = None,
        offset: int = 0,
        limit: int = PAGE_LIMIT,
    ) -> OffersPage:
        """GET /sale/offers: the seller's own offers, with 30-day stats (`stats`, `stock.sold`)."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise InvalidCommand(f"limit must be 1..{PAGE_LIMIT}, got {limit}")
        if len(external_ids) > MAX_EXTERNAL_IDS:
            raise InvalidCommand(f"Allegro filters by at most {MAX_EXTERNAL_IDS} external ids per request")
        params: dict[str, Any] = {
            "external.id": list(external_ids),
            "offer.id": list(offer_ids),
            "publication.status": list(statuses),
            "name": name,
            "offset": offset,
            "limit": limit,
        }
        return self._get("/sale/offers", OffersPage, params)

    def iter_offers(
        self,
        *,
        external_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        page_size: int = PAGE_LIMIT,
    ) -> Iterator[OfferListing]:
        """Every matching offer, page by page (offset pagination); any number of external ids, sent 100
        per request because Allegro filters by at most 100 at once."""
        ids = list(dict.fromkeys(external_ids))
        groups = [ids[i : i + MAX_EXTERNAL_IDS] for i in range(0, len(ids), MAX_EXTERNAL_IDS)] or [[]]
        for group in groups:
            offset = 0
            while True:
                page = self.list_offers(external_ids=group, statuses=statuses, offset=offset, limit=page_size)
                yield from page.offers
                offset += len(page.offers)
                if len(page.offers) < page_size or offset >= page.total_count:
                    break

    def offer_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> OfferEvents:
        """GET /sale/offer-events (the last 24 hours only)."""
        params = {"from": from_id, "limit": limit, "type": list(types)}
        response = self.request(
            "GET", "/sale/offer-events", params=params, language="en-US"
        )  # spec: en-US only
        return OfferEvents.model_validate(response.json())


# ---- request bodies -------------------------------------------------------------------------------------


def new_offer_body(offer: NewOffer) -> dict[str, Any]:
    """The JSON of POST /sale/product-offers for `offer`."""
    images = list(offer.images)
    body: dict[str, Any] = {
        **offer.defaults,
        "name": offer.name,
        "category": {"id": offer.category_id},
        "productSet": _product_set(offer.product, offer.safety, images),
        "parameters": _parameters(offer.parameters),
        "sellingMode": {"format": "BUY_NOW", "price": offer.price.to_json()},
        "stock": {"available": offer.stock, "unit": "UNIT"},
        "images": images,
        "external": {"id": offer.external_id},
        "publication": {"status": "ACTIVE" if offer.active else "INACTIVE"},
    }
    if offer.description is not None and offer.description.sections:  # Allegro refuses 0 sections
        body["description"] = offer.description.model_dump(mode="json")
    if offer.markets:
        body["additionalMarketplaces"] = additional_marketplaces(offer.markets)
    return body


def offer_patch_body(changes: OfferChanges) -> dict[str, Any]:
    """The JSON of PATCH /sale/product-offers/{offerId}: the given fields only."""
    body: dict[str, Any] = {}
    if changes.name is not None:
        body["name"] = changes.name
    if changes.category_id is not None:
        body["category"] = {"id": changes.category_id}
    if changes.price is not None:
        body["sellingMode"] = {"price": changes.price.to_json()}
    if changes.parameters is not None:
        body["parameters"] = _parameters(changes.parameters)
    if changes.product is not None:
        body["productSet"] = _product_set(changes.product, changes.safety, [])
    if changes.images is not None:
        body["images"] = list(changes.images)
    if changes.description is not None and changes.description.sections:
        body["description"] = changes.description.model_dump(mode="json")
    if changes.stock is not None:
        body["stock"] = {"available": changes.stock}
    if changes.publication is not None:
        body["publication"] = {"status": changes.publication}
    if changes.markets:
        body["additionalMarketplaces"] = additional_marketplaces(changes.markets)
    return body


def additional_marketplaces(markets: Mapping[str, PriceIn]) -> dict[str, Any]:
    """Spec AdditionalMarketplacesRequest: marketplace id -> its price, in its own currency."""
    return {
        marketplace: {"sellingMode": {"price": price.to_json()}} for marketplace, price in markets.items()
    }


def _product_set(
    product: CatalogueProduct | NewProduct, safety: ProductSafety, images: list[str]
) -> list[dict[str, Any]]:
    if isinstance(product, CatalogueProduct):
        sold: dict[str, Any] = {"id": product.id}
        if product.parameters:
            sold["parameters"] = _parameters(product.parameters)
    else:
        sold = {
            "name": product.name,
            "category": {"id": product.category_id},
            "parameters": _parameters(product.parameters),
            "images": images,
        }
    return [{"product": sold, **safety.to_json()}]


def _parameters(parameters: Sequence[OfferParameter]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in parameters]


def _offer_id_in(location: str | None) -> str | None:
    """`.../sale/product-offers/{offerId}/operations/{operationId}` -> offerId."""
    parts = urlsplit(location or "").path.strip("/").split("/")
    if len(parts) == 5 and parts[:2] == ["sale", "product-offers"] and parts[3] == "operations":
        return parts[2]
    return None
