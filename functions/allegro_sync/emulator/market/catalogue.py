"""Allegro's public catalogue: the category tree, category parameters, products (with GTINs) and images.

Seeded from `fixtures/catalog.json`: a few Polish leaf categories with required and optional
dictionary, numeric and string parameters, products with EANs, and one EAN shared by two products
(#8081) so that "never guess a product" paths get exercised.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import Reject, iso, new_uuid, not_found, ok
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

DEFAULT_SEED = Path(__file__).resolve().parent.parent / "fixtures" / "catalog.json"
IMAGE_HOST = "https://a.allegroimg.com/original"
MAX_IMAGE_BYTES = 25 * 1024 * 1024
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")
CATEGORY_OPTIONS = {
    "advertisement": False,
    "offersWithProductPublicationEnabled": True,
    "productCreationEnabled": True,
    "sellerCanRequirePurchaseComments": False,
}


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    leaf: bool
    parent_id: str | None
    keywords: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]
    fee_rate: Decimal
    fee_fixed: Decimal

    def parameter(self, parameter_id: str) -> dict[str, Any] | None:
        return next((p for p in self.parameters if p["id"] == parameter_id), None)


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category_id: str
    ean: str
    images: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]


def fold(text: str) -> str:
    """Lower-case without Polish diacritics, so "ksiazka" finds "książka"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in fold(text)).split() if w]


def _similar(word: str, keyword: str) -> bool:
    """Crude stemming for Polish inflection: a shared prefix of 5 letters (or equal short words)."""
    if len(word) < 5 or len(keyword) < 5:
        return word == keyword
    return word[:5] == keyword[:5]


class Catalogue:
    """Read-only catalogue data with the lookups the offer rules need."""

    products_page_size = 10

    def __init__(self, seed: Path | None = None) -> None:
        data = json.loads((seed or DEFAULT_SEED).read_text(encoding="utf-8"))
        self.categories: dict[str, Category] = {}
        for raw in data["categories"]:
            fee = raw.get("fee", {})
            self.categories[raw["id"]] = Category(
                id=raw["id"],
                name=raw["name"],
                leaf=bool(raw["leaf"]),
                parent_id=raw.get("parent"),
                keywords=tuple(fold(k) for k in raw.get("keywords", [])),
                parameters=tuple(raw.get("parameters", [])),
                fee_rate=Decimal(fee.get("rate", "0.10")),
                fee_fixed=Decimal(fee.get("fixed", "0.00")),
            )
        self.products: dict[str, Product] = {
            raw["id"]: Product(
                id=raw["id"],
                name=raw["name"],
                category_id=raw["category"],
                ean=raw["ean"],
                images=tuple(raw.get("images", [])),
                parameters=tuple(raw.get("parameters", [])),
            )
            for raw in data["products"]
        }
        self.carriers: list[dict[str, str]] = list(data["carriers"])

    def path(self, category_id: str) -> list[Category]:
        """Root-first chain of categories down to `category_id`."""
        chain: list[Category] = []
        current: str | None = category_id
        while current is not None:
            category = self.categories[current]
            chain.append(category)
            current = category.parent_id
        return list(reversed(chain))

    def by_gtin(self, gtin: str) -> list[Product]:
        return [p for p in self.products.values() if p.ean == gtin.strip()]


# ----------------------------------------------------------------------------- views


def category_view(category: Category) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": category.id,
        "name": category.name,
        "leaf": category.leaf,
        "options": dict(CATEGORY_OPTIONS),
    }
    if category.parent_id is not None:  # the spec does not allow `parent: null`
        view["parent"] = {"id": category.parent_id}
    return view


def product_parameter_view(category: Category, raw: dict[str, Any]) -> dict[str, Any]:
    definition = category.parameter(raw["id"]) or {}
    view: dict[str, Any] = {"id": raw["id"], "name": definition.get("name", raw["id"])}
    if "valuesIds" in raw:
        labels = {d["id"]: d["value"] for d in definition.get("dictionary", [])}
        view["valuesIds"] = list(raw["valuesIds"])
        view["valuesLabels"] = [labels.get(v, v) for v in raw["valuesIds"]]
        view["values"] = list(view["valuesLabels"])
    else:
        view["values"] = list(raw.get("values", []))
    if definition.get("unit"):
        view["unit"] = definition["unit"]
    view["options"] = {"identifiesProduct": raw["id"] == "225693", "isGTIN": raw["id"] == "225693"}
    return view


def product_view(catalogue: Catalogue, product: Product) -> dict[str, Any]:
    category = catalogue.categories[product.category_id]
    return {
        "id": product.id,
        "name": product.name,
        "category": {
            "id": category.id,
            "path": [{"id": c.id, "name": c.name} for c in catalogue.path(category.id)],
        },
        "images": [{"url": url} for url in product.images],
        "parameters": [product_parameter_view(category, p) for p in product.parameters],
        "publication": {"status": "LISTED"},
    }


# ----------------------------------------------------------------------------- handlers


def list_categories(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    parent_id = request.arg("parent.id")
    if parent_id is not None and parent_id not in st.catalogue.categories:
        raise not_found("Category", parent_id)
    children = [c for c in st.catalogue.categories.values() if c.parent_id == parent_id]
    return ok({"categories": [category_view(c) for c in children]})


def get_category(st: MarketState, request: EmulatorRequest, category_id: str) -> EmulatorResponse:
    category = st.catalogue.categories.get(category_id)
    if category is None:
        raise not_found("Category", category_id)
    return ok(category_view(category))


def category_parameters(st: MarketState, request: EmulatorRequest, category_id: str) -> EmulatorResponse:
    category = st.catalogue.categories.get(category_id)
    if category is None:
        raise not_found("Category", category_id)
    return ok({"parameters": [dict(p) for p in category.parameters]})


def _suggestion_node(st: MarketState, category: Category) -> dict[str, Any]:
    node: dict[str, Any] = {"id": category.id, "name": category.name}
    if category.parent_id is not None:
        node["parent"] = _suggestion_node(st, st.catalogue.categories[category.parent_id])
    return node


def matching_categories(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """Word matching of the product name against each leaf's name and keywords."""
    name = (request.arg("name") or "").strip()
    if not name:
        raise Reject.one(422, "VALIDATION_ERROR", "name must not be empty", path="name")
    words = _words(name)
    scored: list[tuple[int, Category]] = []
    for category in st.catalogue.categories.values():
        if not category.leaf:
            continue
        vocabulary = set(category.keywords) | set(_words(category.name))
        score = sum(1 for w in words if any(_similar(w, k) for k in vocabulary))
        if score:
            scored.append((score, category))
    scored.sort(key=lambda item: (-item[0], item[1].id))
    return ok({"matchingCategories": [_suggestion_node(st, c) for _, c in scored[:3]]})


def search_products(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """`phrase` + `mode=GTIN` is an exact EAN match (may return several products, #8081); without a mode
    every word of the phrase must occur in the name. Pages of `products_page_size`, `page.id` cursor."""
    phrase = (request.arg("phrase") or "").strip()
    mode = request.arg("mode")
    category_id = request.arg("category.id")
    if not phrase and category_id is None:
        raise Reject.one(422, "VALIDATION_ERROR", "Give a phrase or a category.id", path="phrase")
    if mode == "GTIN":
        found = st.catalogue.by_gtin(phrase)
    elif mode is None:
        words = _words(phrase)
        found = [p for p in st.catalogue.products.values() if all(w in _words(p.name) for w in words)]
    else:
        raise Reject.one(422, "VALIDATION_ERROR", f"Unsupported search mode {mode}", path="mode")
    if category_id is not None:
        found = [p for p in found if category_id in {c.id for c in st.catalogue.path(p.category_id)}]
    start = 0
    page_id = request.arg("page.id")
    if page_id is not None:
        if not page_id.startswith("page-") or not page_id[5:].isdigit():
            raise Reject.one(422, "VALIDATION_ERROR", "Unknown page.id", path="page.id")
        start = int(page_id[5:])
    size = st.catalogue.products_page_size
    page = found[start : start + size]
    body: dict[str, Any] = {"products": [product_view(st.catalogue, p) for p in page]}
    if start + size < len(found):
        body["nextPage"] = {"id": f"page-{start + size}"}
    return ok(body)


def get_product(st: MarketState, request: EmulatorRequest, product_id: str) -> EmulatorResponse:
    product = st.catalogue.products.get(product_id)
    if product is None:
        raise not_found("Product", product_id)
    return ok(product_view(st.catalogue, product))


def upload_image(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """JSON `{"url"}` (Allegro downloads it) or raw image bytes; the returned location expires unless an
    offer uses it in time."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("image/"):
        data = request.raw_body
        if not data:
            raise Reject.one(422, "VALIDATION_ERROR", "The image is empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise Reject.one(413, "IMAGE_TOO_BIG", "The image is larger than 25 MB")
        if not data.startswith(IMAGE_MAGIC):
            raise Reject.one(422, "INVALID_IMAGE", "The data is not a JPEG, PNG, GIF or WEBP image")
        digest = hashlib.sha256(data).hexdigest()[:32]
    else:
        body = request.body if isinstance(request.body, dict) else {}
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Reject.one(
                422, "VALIDATION_ERROR", "url must be an http(s) address of an image", path="url"
            )
        digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    location = f"{IMAGE_HOST}/{digest[:2]}/{digest}-{new_uuid(st.rng)[:8]}"
    expires_at = st.now() + timedelta(seconds=st.faults.image_ttl_seconds)
    st.images[location] = expires_at
    return ok({"location": location, "expiresAt": iso(expires_at)}, 201, {"Location": location})
