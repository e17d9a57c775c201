"""In-memory stand-ins for the publishing ports: a catalogue, mappings, a change log and an Allegro."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from allegro_sync.adapters.allegro.offers import new_offer_body, offer_patch_body
from allegro_sync.contracts.allegro import (
    CategoryParameter,
    ExternalId,
    OfferCommandResult,
    OfferListing,
    OffersPage,
    PriceModification,
    Product,
    ProductOffer,
    ProductsPage,
    UploadedImage,
)
from allegro_sync.contracts.allegro_errors import AllegroError, AllegroUnavailable
from allegro_sync.contracts.allegro_requests import NewOffer, OfferChanges
from allegro_sync.contracts.catalog import (
    OfferLink,
    Outcome,
    ProductStatus,
    StoredMapping,
    StoredProduct,
)
from allegro_sync.domain.ledger import StockView
from allegro_sync.domain.pricing import ScopedRule


class FakeCatalog:
    def __init__(self) -> None:
        self.products: dict[str, StoredProduct] = {}
        self.saved: dict[tuple[str, str], OfferLink] = {}
        self.link_writes = 0
        self.link_reads = 0

    def accept(self, product: StoredProduct, *, new_content: bool = True) -> Outcome:
        return self.accept_noting_new(product, new_content=new_content)[0]

    def accept_noting_new(self, product: StoredProduct, *, new_content: bool = True) -> tuple[Outcome, bool]:
        del new_content  # one stored state here: nothing to leave out
        new = product.sku not in self.products
        return self._accept(product), new

    def _accept(self, product: StoredProduct) -> Outcome:
        current = self.products.get(product.sku)
        if current is not None and current.order_key > product.order_key:
            return Outcome.STALE
        self.products[product.sku] = product
        return Outcome.APPLIED

    def product(self, sku: str) -> StoredProduct | None:
        return self.products.get(sku)

    def link(self, sku: str, account: str) -> OfferLink | None:
        self.link_reads += 1
        return self.saved.get((sku, account))

    def existing_links(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        return {k for k in keys if k in self.saved}

    def links(self, sku: str) -> list[OfferLink]:
        return [link for (s, _), link in sorted(self.saved.items()) if s == sku]

    def save_link(self, link: OfferLink) -> None:
        self.link_writes += 1
        self.saved[(link.sku, link.account)] = link

    def replace_link(self, link: OfferLink, *, offer_id: str) -> bool:
        held = self.saved.get((link.sku, link.account))
        if held is None or held.offer_id != offer_id:
            return False
        self.save_link(link)
        return True

    def status(self, sku: str) -> ProductStatus:
        return ProductStatus(self.products.get(sku), self.links(sku))


@dataclass
class FakeMappings:
    mappings: list[StoredMapping] = field(default_factory=list)
    rules: list[ScopedRule] = field(default_factory=list)

    def category_mappings(self, account: str) -> list[StoredMapping]:
        return [m for m in self.mappings if m.account in (account, "*")]

    def pricing_rules(self) -> list[ScopedRule]:
        return list(self.rules)


def _fixture_catalogue() -> dict[str, Any]:
    text = resources.files("allegro_sync.emulator").joinpath("fixtures/catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class FakeAllegro:
    """Records every call; `fail` maps an operation name to an exception raised on its next call.

    The typed offer methods build their JSON as `AllegroClient` does and are recorded as the Allegro operation
    they make (`create_product_offer`, `patch_product_offer`), so tests see the bodies Allegro would get.
    Offer ids count up from `first_offer_id`: Allegro's ids are unique across sellers.
    """

    def __init__(self, first_offer_id: int = 7700000000) -> None:
        self.first_offer_id = first_offer_id
        catalogue = _fixture_catalogue()
        self.parameters = {c["id"]: c.get("parameters", []) for c in catalogue["categories"]}
        self.products = [
            Product(
                id=p["id"],
                name=p["name"],
                category={"id": p["category"]},
                parameters=p["parameters"],
            )
            for p in catalogue["products"]
        ]
        self.eans = {p["id"]: p["ean"] for p in catalogue["products"]}
        self.calls: list[tuple[str, Any]] = []
        self.offers: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, AllegroError] = {}
        self.existing: list[OfferListing] = []
        self.price_result: Literal["SUCCESS", "FAIL", "PENDING"] = "SUCCESS"
        self.crash_after_create = False  # Allegro creates the offer, but the answer never arrives

    def _call(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))
        error = self.fail.pop(name, None)
        if error is not None:
            raise error

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def search_products(self, phrase: str, *, mode: Literal["GTIN", "MPN"] | None = "GTIN") -> ProductsPage:
        self._call("search_products", phrase)
        return ProductsPage(products=[p for p in self.products if self.eans[p.id] == phrase])

    def get_category_parameters(self, category_id: str) -> list[CategoryParameter]:
        self._call("get_category_parameters", category_id)
        return [CategoryParameter.model_validate(p) for p in self.parameters[category_id]]

    def upload_image(
        self, *, url: str | None = None, data: bytes | None = None, content_type: str = "image/jpeg"
    ) -> UploadedImage:
        self._call("upload_image", url)
        return UploadedImage(location=f"https://a.allegroimg.com/original/{len(self.calls)}")

    def create_offer(self, offer: NewOffer, *, wait: bool = True) -> ProductOffer:
        return self.create_product_offer(new_offer_body(offer), wait=wait)

    def update_offer(self, offer_id: str, changes: OfferChanges, *, wait: bool = True) -> ProductOffer:
        return self.patch_product_offer(offer_id, offer_patch_body(changes), wait=wait)

    def create_product_offer(self, body: Mapping[str, Any], *, wait: bool = True) -> ProductOffer:
        self._call("create_product_offer", dict(body))
        offer_id = str(self.first_offer_id + len(self.offers))
        self.offers[offer_id] = dict(body)
        if self.crash_after_create:
            self.crash_after_create = False
            self.existing.append(OfferListing(id=offer_id, external=ExternalId(id=body["external"]["id"])))
            raise AllegroUnavailable("read timeout after the request was sent")
        return ProductOffer(id=offer_id)

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        self._call("patch_product_offer", (offer_id, dict(body)))
        self.offers.setdefault(offer_id, {}).update(body)
        return ProductOffer(id=offer_id)

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]:
        ids = list(offer_ids)
        self._call("change_price", (ids, modification))
        return [
            OfferCommandResult(offer_id=i, status=self.price_result, message="price too low", command_id="c")
            for i in ids
        ]

    def list_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), limit: int = 1000
    ) -> OffersPage:
        self._call("list_offers", list(external_ids))
        found = [o for o in self.existing if o.external is not None and o.external.id in external_ids]
        return OffersPage(offers=found, count=len(found), total_count=len(found))


@dataclass
class FakeAccounts:
    allegro: dict[str, FakeAllegro]

    def connected(self) -> list[str]:
        return sorted(self.allegro)

    def client(self, account: str) -> FakeAllegro:
        return self.allegro[account]


class RecordingStockChanges:
    """The `stock-changes` hook: records what the stock propagator would be asked to push."""

    def __init__(self) -> None:
        self.sent: list[tuple[StockView, str]] = []
        self.fail_next: Exception | None = None

    def stock_changed(self, view: StockView, cause: str) -> None:
        error, self.fail_next = self.fail_next, None
        if error is not None:
            raise error
        self.sent.append((view, cause))
