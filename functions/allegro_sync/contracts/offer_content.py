"""What an offer says, in Allegro's JSON shape: its description (spec: StandardizedDescription,
DescriptionSection, DescriptionSectionItem) and its parameters (ParameterProductOfferRequest).

The domain builds these (`domain/description.py`, `domain/parameters.py`); the Allegro client sends them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class TextItem(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    type: Literal["TEXT"] = "TEXT"
    content: str


class ImageItem(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    type: Literal["IMAGE"] = "IMAGE"
    url: str


DescriptionItem = Annotated[TextItem | ImageItem, Field(discriminator="type")]


class DescriptionSection(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    items: list[DescriptionItem]


class Description(BaseModel):
    """`description` of POST/PATCH /sale/product-offers; `model_dump(mode="json")` is its request JSON."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    sections: list[DescriptionSection] = []

    @property
    def image_urls(self) -> list[str]:
        """Every IMAGE url, in order: they must also be in the offer's `images` array (#6651)."""
        return [item.url for s in self.sections for item in s.items if isinstance(item, ImageItem)]


class RangeValue(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, populate_by_name=True)
    from_: Annotated[str, Field(alias="from")]
    to: str


class OfferParameter(BaseModel):
    """ParameterProductOfferRequest; dump with `model_dump(by_alias=True, exclude_none=True)`."""

    model_config = ConfigDict(defer_build=True, frozen=True, populate_by_name=True, serialize_by_alias=True)
    id: str
    values: list[str] | None = None
    values_ids: Annotated[list[str] | None, Field(alias="valuesIds")] = None
    range_value: Annotated[RangeValue | None, Field(alias="rangeValue")] = None
