"""`buyers forget`: erase one buyer's personal data from everything the deployment still holds of it.

The one table item holding a buyer's name, address, e-mail and phone is the order's buyer data on the
`orders` table (docs/privacy.md): every one of the buyer's is deleted. The queues the topology marks
`personal_data` (the shop outbox) and their dead-letter queues are walked once: a message naming the buyer
(queued before the data moved to the table) or referring to one of the buyer's orders is deleted, the others
come back at once. A message still on its way to the shop is only touched when the operator says so
(`pending=True`): deleting it means the shop never receives that order, so each one is reported by its
checkout form id for the seller to handle in Allegro; left alone, it reaches the shop without the buyer's
data. Buyer data is never printed or logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.topology import TOPOLOGY, Topology, dlq_env, queue_env

# Every message of a queue stays hidden while the walk goes on (so none is seen twice), then is released.
WALK_VISIBILITY_SECONDS = 120
# Fields of an order message that identify its buyer (Allegro's checkout form: buyer, delivery address).
_IDENTIFYING = ("id", "login", "email", "phoneNumber")


STORED = "orders table"
LABELS = "labels bucket"


class LabelFiles(Protocol):
    """The order's shipping label PDFs (issue 15); answers how many were deleted."""

    def erase(self, checkout_form_id: str) -> int: ...


class StoredBuyers(Protocol):
    """The buyer data the order worker keeps for the shop (the `orders` table in AWS)."""

    def everyone(self) -> Iterable[BuyerDetails]: ...

    def erase(self, checkout_form_id: str) -> None: ...


@dataclass(frozen=True)
class Erased:
    queue: str  # where: "orders table", "shop-outbox" or "shop-outbox (DLQ)"
    checkout_form_id: str


@dataclass
class ForgetReport:
    examined: int = 0
    erased: list[Erased] = field(default_factory=list)
    skipped_pending: list[str] = field(default_factory=list)  # queues left alone without `pending`


class BuyerData:
    """The queues (and DLQs) that may hold buyers' personal data, by `env` (QUEUE_*_URL / QUEUE_*_DLQ_URL)."""

    def __init__(
        self,
        sqs: Any,
        env: Mapping[str, str],
        stored: StoredBuyers,
        topology: Topology = TOPOLOGY,
        labels: LabelFiles | None = None,
    ) -> None:
        self._sqs = sqs
        self._stored = stored
        self._labels = labels  # issue 15: a shipping label prints the buyer's address
        self._queues: list[tuple[str, str, bool]] = []  # (label, url, pending delivery)
        for queue in topology.queues:
            if not queue.personal_data:
                continue
            if url := env.get(dlq_env(queue.name)):
                self._queues.append((f"{queue.name} (DLQ)", url, False))
            if url := env.get(queue_env(queue.name)):
                self._queues.append((queue.name, url, True))

    def forget(self, buyer: str, *, pending: bool = False) -> ForgetReport:
        """Delete every queued message about `buyer` (an e-mail, login, Allegro buyer id or phone)."""
        wanted = buyer.strip().casefold()
        if not wanted:
            raise ValueError("name the buyer: an e-mail address, Allegro login, buyer id or phone number")
        report = ForgetReport()
        forms: set[str] = set()
        for details in self._stored.everyone():
            if _names(details.buyer, details.delivery, wanted):
                self._stored.erase(details.checkout_form_id)
                forms.add(details.checkout_form_id)
                report.erased.append(Erased(STORED, details.checkout_form_id))
                if self._labels is not None and self._labels.erase(details.checkout_form_id):
                    report.erased.append(Erased(LABELS, details.checkout_form_id))
        for label, url, is_pending in self._queues:
            if is_pending and not pending:
                report.skipped_pending.append(label)
                continue
            kept: list[str] = []
            for raw in self._walk(url):
                report.examined += 1
                form = _about(raw.get("Body", ""), wanted, forms)
                if form is None:
                    kept.append(raw["ReceiptHandle"])
                    continue
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
                report.erased.append(Erased(label, form))
            for handle in kept:  # back at once: a delivery to the shop must not wait for this walk
                self._sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return report

    def _walk(self, url: str) -> Iterator[dict[str, Any]]:
        """Every message once: each received one stays hidden for the whole walk, so none comes twice."""
        while True:
            batch: list[dict[str, Any]] = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=WALK_VISIBILITY_SECONDS,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                return
            yield from batch


def _names(buyer: Any, delivery: Any, wanted: str) -> bool:
    """Whether Allegro's `buyer` object (or the phone of its `delivery` address) is the buyer `wanted`: an
    e-mail, login, id or phone, casefolded."""
    address = delivery.get("address") if isinstance(delivery, Mapping) else None
    found = {
        str(part.get(k, "")).strip().casefold()
        for part in (buyer, address)
        if isinstance(part, Mapping)
        for k in _IDENTIFYING
    }
    return wanted in found - {""}


def _about(body: str, wanted: str, forms: set[str]) -> str | None:
    """The checkout form id when the message is an order of the buyer `wanted` (naming the buyer, or one of
    the buyer's `forms`), else None."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    form = str(message.get("checkout_form_id", "?"))
    # the outbox carries stock changes too (never personal); a buyer's message (issue 15, item 4) names its
    # author by login and is about one of the buyer's orders, or none
    order = message.get("kind") in ("order.changed", "buyer.message")
    author = str(message.get("author_login", "")).strip().casefold()
    named = _names(message.get("buyer"), message.get("delivery"), wanted) or author == wanted
    return form if named or (order and form in forms) else None
