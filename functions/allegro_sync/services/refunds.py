"""Payment refunds, exactly once (issue 15, item 3; docs/after-sale.md).

A refund request (the shop marked an order refunded, or `orders refund` on the CLI) becomes one Allegro
`POST /payments/refunds`, however often it is retried and wherever a run crashes:
1. a request already `sent` answers its refund again and calls nothing;
2. a `pending` one (claimed by an earlier run that may or may not have reached Allegro) sends its recorded
   command again, verbatim: the same `commandId`, which Allegro answers with the first refund;
3. a new one is planned against the order as Allegro shows it (`domain.refunds.plan_refund`: never more than
   was paid and not refunded yet; a refusal sends and records nothing), claimed with a conditional put, sent,
   and marked `sent`. Two runs racing on one request: one claim wins, the other sends the winner's command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from allegro_sync.contracts.after_sale import (
    InitializeRefund,
    RefundDetails,
    RefundEntry,
    RefundLine,
    RefundRequest,
)
from allegro_sync.contracts.allegro import CheckoutForm
from allegro_sync.contracts.messages import ShopOrderStatus
from allegro_sync.domain.refunds import plan_refund


class RefundsApi(Protocol):
    def checkout_form(self, checkout_form_id: str) -> CheckoutForm: ...

    def refunds(self, checkout_form_id: str) -> list[RefundDetails]: ...

    def initiate_refund(self, refund: InitializeRefund) -> RefundDetails: ...


class RefundJournal(Protocol):
    def get(self, checkout_form_id: str, key: str) -> RefundEntry | None: ...

    def claim(self, checkout_form_id: str, key: str, entry: RefundEntry) -> bool: ...

    def mark_sent(self, checkout_form_id: str, key: str, refund_id: str) -> None: ...


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    total: str
    currency: str
    already: bool  # an earlier call sent it: nothing was sent now


class RefundIssuer:
    def __init__(self, api: RefundsApi, journal: RefundJournal) -> None:
        self._api = api
        self._journal = journal

    def sent(self, checkout_form_id: str, key: str) -> bool:
        """Whether the request with this key already went out (a shop's refund seen again needs no read)."""
        entry = self._journal.get(checkout_form_id, key)
        return entry is not None and entry.status == "sent"

    def refund(self, request: RefundRequest) -> RefundResult:
        """Raises RefundRefused (nothing sent, nothing recorded) when the request asks for too much."""
        form_id, key = request.checkout_form_id, request.key
        entry = self._journal.get(form_id, key)
        if entry is not None and entry.status == "sent" and entry.refund_id is not None:
            return RefundResult(entry.refund_id, entry.total, _currency(entry), already=True)
        if entry is None:
            body, total = plan_refund(request, self._api.checkout_form(form_id), self._api.refunds(form_id))
            planned = RefundEntry(body.command_id, "pending", json.dumps(body.to_json()), f"{total:.2f}")
            entry = planned if self._journal.claim(form_id, key, planned) else self._journal.get(form_id, key)
            if entry is None:  # claimed and gone again: only an operator deleting items does that
                raise RuntimeError(f"refund {key} of order {form_id} vanished while it was claimed")
        refund = self._api.initiate_refund(InitializeRefund.model_validate_json(entry.body))
        self._journal.mark_sent(form_id, key, refund.id)
        return RefundResult(refund.id, refund.total_value.amount, refund.total_value.currency, already=False)


def shop_refund_request(account: str, update: ShopOrderStatus) -> RefundRequest:
    """The shop's refund (its own id is the key: the same refund resent is the same Allegro command)."""
    assert update.refund is not None
    lines = tuple(RefundLine(x.line_item_id, x.quantity, x.amount) for x in update.refund.lines)
    return RefundRequest(account, update.checkout_form_id, "shop-" + update.refund.refund_id, lines)


def _currency(entry: RefundEntry) -> str:
    body = InitializeRefund.model_validate_json(entry.body)
    for line in body.line_items or ():
        if line.value is not None:
            return line.value.currency
    return body.delivery.value.currency if body.delivery else "PLN"
