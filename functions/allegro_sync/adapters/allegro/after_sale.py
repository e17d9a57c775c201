"""After the sale: customer returns (BETA media type), payment refunds and commission refund claims."""

from __future__ import annotations

from collections.abc import Sequence

from allegro_sync.adapters.allegro.core import AllegroCore, _dump, _segment
from allegro_sync.contracts.after_sale import (
    BETA_MEDIA_TYPE,
    CustomerReturn,
    CustomerReturns,
    InitializeRefund,
    RefundClaimCreated,
    RefundClaimRequest,
    RefundDetails,
    RefundsPage,
    ReturnRejectionRequest,
)
from allegro_sync.contracts.allegro import IdRefIn
from allegro_sync.contracts.allegro_errors import InvalidCommand

RETURNS_PAGE = 1000  # the spec's maximum `limit` of GET /order/customer-returns
RETURN_IDS_PER_CALL = 50  # `customerReturnId` takes several ids; kept well inside a URL's length


class AfterSaleApi(AllegroCore):
    """/order/customer-returns (+ rejection), /payments/refunds, /order/refund-claims."""

    def customer_returns(
        self,
        *,
        after: str | None = None,
        ids: Sequence[str] = (),
        created_from: str | None = None,
        limit: int = RETURNS_PAGE,
    ) -> list[CustomerReturn]:
        """Returns created after the return `after` (oldest first), or the returns `ids` as they are now;
        `created_from` (ISO time): only those created since then."""
        if len(ids) > RETURN_IDS_PER_CALL:
            raise InvalidCommand(f"at most {RETURN_IDS_PER_CALL} return ids per call, got {len(ids)}")
        params = {"from": after, "customerReturnId": list(ids), "createdAt.gte": created_from, "limit": limit}
        response = self.request("GET", "/order/customer-returns", params=params, media_type=BETA_MEDIA_TYPE)
        return CustomerReturns.model_validate(response.json()).customer_returns

    def reject_customer_return(self, return_id: str, rejection: ReturnRejectionRequest) -> CustomerReturn:
        response = self.request(
            "POST",
            f"/order/customer-returns/{_segment(return_id)}/rejection",
            json_body=_dump(rejection),
            media_type=BETA_MEDIA_TYPE,
        )
        return CustomerReturn.model_validate(response.json())

    def initiate_refund(self, refund: InitializeRefund) -> RefundDetails:
        """POST /payments/refunds. Safe to repeat: Allegro answers a repeated `commandId` with the refund the
        first call made, so a timeout or 5xx is retried like a read."""
        response = self.request("POST", "/payments/refunds", json_body=_dump(refund), idempotent=True)
        return RefundDetails.model_validate(response.json())

    def refunds(self, checkout_form_id: str) -> list[RefundDetails]:
        return self._get(
            "/payments/refunds", RefundsPage, {"order.id": checkout_form_id, "limit": 100}
        ).refunds

    def claim_commission_refund(self, line_item_id: str, quantity: int) -> str | None:
        """POST /order/refund-claims: the claim's id. A second claim for a line: ClaimExistsException."""
        body = RefundClaimRequest(line_item=IdRefIn(id=line_item_id), quantity=quantity)
        response = self.request("POST", "/order/refund-claims", json_body=_dump(body))
        return RefundClaimCreated.model_validate(response.json()).id
