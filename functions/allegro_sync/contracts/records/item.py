"""The base of every stored-record model: keys, lenient reading, and boto3-ready numbers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _seconds(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


EpochSeconds = Annotated[float, PlainSerializer(_seconds, return_type=Decimal)]
"""Epoch seconds kept to the millisecond; stored as a DynamoDB number (boto3 takes no float)."""


class Item(BaseModel):
    """A DynamoDB item: `pk`, `sk` and its attributes.

    Reading ignores attributes the model does not know and accepts numbers where text is stored (DynamoDB
    hands every number back as a `Decimal`).
    """

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, coerce_numbers_to_str=True)

    pk: str
    sk: str

    def item(self) -> dict[str, Any]:
        """The item for boto3: attributes that are None are left out (nested None values stay)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        return cls.model_validate(dict(item))
