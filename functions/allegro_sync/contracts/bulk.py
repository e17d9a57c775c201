"""`/sale/offer-bulk-modification-commands` (beta): each offer's own stock or price, up to 25 per command.

Spec OfferBulkChangeCommand / OfferBulkModification / TaskWithSubjectReport. One element carries either
`stock` or `prices`, never both (a change of both is two elements with the same offer id).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from allegro_sync.contracts.allegro import (
    AllegroRequest,
    AllegroResponse,
    CommandTask,
    OfferCommandResult,
    PriceIn,
)

MAX_MODIFICATIONS = 25  # spec: modifications maxItems


class StockChange(AllegroRequest):
    """StockModificationFixed (value > 0) / StockModificationGain."""

    change_type: Literal["FIXED", "GAIN"] = "FIXED"
    value: int


class PriceChange(AllegroRequest):
    """MarketplacePriceModificationFixed: the offer's new buy-now price on one marketplace."""

    change_type: Literal["FIXED"] = "FIXED"
    value: PriceIn


class BulkModification(AllegroRequest):
    offer_id: str = Field(min_length=1, max_length=20)
    stock: StockChange | None = None
    prices: dict[str, PriceChange] | None = None  # marketplace id ("allegro-pl") -> change


class BulkCommand(AllegroRequest):
    command_id: str
    modifications: list[BulkModification] = Field(min_length=1, max_length=MAX_MODIFICATIONS)


class TaskSubject(AllegroResponse):
    offer_id: str | None = None
    field: str | None = None


class SubjectTask(CommandTask):
    """CommandTaskWithStockSubject / CommandTaskWithPriceSubject: a command task named by its subject."""

    subject: TaskSubject | None = None


class SubjectTaskReport(AllegroResponse):
    tasks: list[SubjectTask] = Field(default_factory=list)


class BulkResult(OfferCommandResult):
    """What the command did to one (offer, field); PENDING: no final status within the allowed wait."""

    field: Literal["stock", "prices"] = "stock"
