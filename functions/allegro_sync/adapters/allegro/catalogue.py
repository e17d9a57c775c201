"""Allegro's catalogue: categories and their parameters, category suggestions, products, image upload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from allegro_sync.adapters.allegro.core import AllegroCore, _segment
from allegro_sync.contracts.allegro import (
    Categories,
    Category,
    CategoryParameter,
    CategoryParameters,
    CategorySuggestion,
    MatchingCategories,
    Product,
    ProductsPage,
    UploadedImage,
)
from allegro_sync.contracts.allegro_errors import InvalidCommand


class CatalogueApi(AllegroCore):
    """/sale/categories, /sale/matching-categories, /sale/products and /sale/images (upload host)."""

    def get_categories(self, parent_id: str | None = None) -> list[Category]:
        return self._get("/sale/categories", Categories, {"parent.id": parent_id}).categories

    def get_category(self, category_id: str) -> Category:
        return self._get(f"/sale/categories/{_segment(category_id)}", Category)

    def get_category_parameters(self, category_id: str) -> list[CategoryParameter]:
        path = f"/sale/categories/{_segment(category_id)}/parameters"
        return self._get(path, CategoryParameters).parameters

    def matching_categories(self, name: str) -> list[CategorySuggestion]:
        if not name.strip():
            raise InvalidCommand("matching categories needs a product name")
        return self._get("/sale/matching-categories", MatchingCategories, {"name": name}).matching_categories

    def upload_image(
        self, *, url: str | None = None, data: bytes | None = None, content_type: str = "image/jpeg"
    ) -> UploadedImage:
        """POST /sale/images on the upload host, by URL (Allegro downloads it) or as raw bytes."""
        if (url is None) == (data is None):
            raise InvalidCommand("upload_image takes exactly one of url= or data=")
        if data is not None and content_type not in ("image/jpeg", "image/png", "image/webp"):
            raise InvalidCommand(f"Allegro accepts image/jpeg, image/png or image/webp, not {content_type}")
        response = self.request(
            "POST",
            "/sale/images",
            host="upload",
            json_body={"url": url} if url is not None else None,
            content=data,
            content_type=content_type if data is not None else None,
            idempotent=True,  # an extra uploaded copy is harmless; a lost upload is not
        )
        return UploadedImage.model_validate(response.json())

    def search_products(
        self,
        phrase: str,
        *,
        mode: Literal["GTIN", "MPN"] | None = "GTIN",
        category_id: str | None = None,
        page_id: str | None = None,
    ) -> ProductsPage:
        """GET /sale/products. One GTIN can match several products (#8081): the caller must not guess."""
        params = {"phrase": phrase, "mode": mode, "category.id": category_id, "page.id": page_id}
        return self._get("/sale/products", ProductsPage, params)

    def iter_products(
        self, phrase: str, *, mode: Literal["GTIN", "MPN"] | None = "GTIN", max_pages: int = 10
    ) -> Iterator[Product]:
        """All pages of a product search (page.id cursor), bounded so a broad phrase cannot run away."""
        page_id: str | None = None
        for _ in range(max_pages):
            page = self.search_products(phrase, mode=mode, page_id=page_id)
            yield from page.products
            page_id = page.next_page.id if page.next_page else None
            if not page_id or not page.products:
                return

    def get_product(self, product_id: str) -> Product:
        return self._get(f"/sale/products/{_segment(product_id)}", Product)
