"""After the sale (issue 15, item 3): customer returns, payment refunds and commission refund claims.

Allegro's payloads with the spec's field names (`/order/customer-returns` is BETA and travels as
`application/vnd.allegro.beta.v1+json`; refunds and claims as the public type), and the values the returns
and refunds use cases exchange with their adapters. Money stays a decimal string, as Allegro sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from allegro_sync.contracts.allegro import AllegroRequest, AllegroResponse, IdRefIn, Price, PriceIn

BETA_MEDIA_TYPE = "application/vnd.allegro.beta.v1+json"

RejectionCode = Literal[
    "REFUND_REJECTED",
    "NEW_ITEM_SENT",
    "ITEM_FIXED",
    "MISSING_PART_SENT",
    "ITEM_MISMATCH",
    "BUSINESS_PURCHASE",
    "NO_RETURN_RIGHT",
]
RefundReason = Literal[
    "REFUND",
    "COMPLAINT",
    "PRODUCT_NOT_AVAILABLE",
    "PAID_VALUE_TOO_LOW",
    "OVERPAID",
    "CANCELLED_BY_BUYER",
    "NOT_COLLECTED",
]


# --- customer returns (BETA) -------------------------------------------------------------------------------


class CustomerReturnItem(AllegroResponse):
    offer_id: str
    quantity: int
    name: str | None = None
    price: Price | None = None


class CustomerReturnRejectionShown(AllegroResponse):
    code: str | None = None
    reason: str | None = None


class CustomerReturn(AllegroResponse):
    id: str
    order_id: str
    status: str
    created_at: str | None = None
    reference_number: str | None = None
    items: list[CustomerReturnItem] = Field(default_factory=list)
    rejection: CustomerReturnRejectionShown | None = None


class CustomerReturns(AllegroResponse):
    count: int
    customer_returns: list[CustomerReturn]


class ReturnRejection(AllegroRequest):
    code: RejectionCode
    reason: str | None = Field(default=None, min_length=1, max_length=250)


class ReturnRejectionRequest(AllegroRequest):
    rejection: ReturnRejection


# --- payment refunds --------------------------------------------------------------------------------------


class RefundLineIn(AllegroRequest):
    """One line given back: QUANTITY (whole items) or AMOUNT (part of the line's price)."""

    id: str
    type: Literal["QUANTITY", "AMOUNT"]
    quantity: int | None = Field(default=None, ge=1)
    value: PriceIn | None = None


class RefundValueIn(AllegroRequest):
    value: PriceIn


class InitializeRefund(AllegroRequest):
    payment: IdRefIn
    order: IdRefIn
    command_id: str
    reason: RefundReason
    line_items: list[RefundLineIn] | None = None
    delivery: RefundValueIn | None = None
    seller_comment: str | None = Field(default=None, max_length=250)


class RefundLineShown(AllegroResponse):
    id: str
    type: str
    quantity: float | None = None
    value: Price | None = None


class RefundDeliveryShown(AllegroResponse):
    value: Price


class RefundDetails(AllegroResponse):
    id: str
    status: str
    total_value: Price
    created_at: str | None = None
    line_items: list[RefundLineShown] = Field(default_factory=list)
    delivery: RefundDeliveryShown | None = None


class RefundsPage(AllegroResponse):
    refunds: list[RefundDetails] = Field(default_factory=list)


# --- commission refund claims ------------------------------------------------------------------------------


class RefundClaimRequest(AllegroRequest):
    line_item: IdRefIn
    quantity: int = Field(ge=1)


class RefundClaimCreated(AllegroResponse):
    id: str | None = None


# --- what the use cases exchange ----------------------------------------------------------------------------


class RefundRefused(ValueError):
    """A refund that asks for more than was paid, or names what the order does not have: nothing is sent."""


@dataclass(frozen=True)
class RefundLine:
    """What to give back of one order line: `quantity` items, or an `amount` (decimal string)."""

    line_item_id: str
    quantity: int | None = None
    amount: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    """A refund the shop or the seller asked for. No `lines`: the whole order, delivery included.

    `key` identifies the request where it came from (the shop's refund id, or the CLI's), so the same request
    retried is the same Allegro command, whatever crashes between."""

    account: str
    checkout_form_id: str
    key: str
    lines: tuple[RefundLine, ...] = ()
    reason: RefundReason = "REFUND"


@dataclass(frozen=True)
class ReturnsCursor:
    """Where following one account's returns stands (`version` guards every save: compare-and-swap)."""

    last_seen: str | None = None
    waiting: tuple[str, ...] = ()
    claims_since: str | None = None
    version: int = 0
    # When following began: returns created before it are history the shop's stock already counts.
    started_at: str | None = None


@dataclass(frozen=True)
class RefundEntry:
    """A refund request as recorded: `pending` (claimed; the command may or may not have reached Allegro)
    or `sent` (Allegro answered `refund_id`). `body`: the InitializeRefund JSON, sent verbatim on a retry."""

    command_id: str
    status: Literal["pending", "sent"]
    body: str
    total: str
    refund_id: str | None = None
