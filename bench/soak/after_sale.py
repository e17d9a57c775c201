"""Issue 15 in the soak: labels, refunds and returns in the traffic, under the same faults, and the three
counters that say each happened exactly once.

The counters read the truth, never the system's own records of what it did: the shipments and refunds
Allegro (the emulator) holds, and what the stock ledger was credited for each return. The pure functions
below take those as plain data, so they are unit-tested on their own
(tests/unit/bench/test_soak_after_sale.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.ledger import SALE, sale_from_item, sku_pk
from allegro_sync.adapters.shop import signing
from allegro_sync.contracts.shipping import LabelRule
from allegro_sync.domain.returns import RETURN_PREFIX
from allegro_sync.local.demo_labels import SENDER

if TYPE_CHECKING:
    import random

    from allegro_sync.emulator import Emulator
    from allegro_sync.local.demo_shop import DemoShop
    from allegro_sync.local.runtime import LocalRuntime

REFUND_AMOUNT = Decimal("5.00")  # a part refund of a one-item line: a second payment would show
KINDS = ("label", "refund", "return")
ARRIVED = "DELIVERED"  # the returned parcel reached the seller: back in stock (RETURNS_RESTOCK_ON=ARRIVAL)


@dataclass
class Asked:
    """What the soak asked Allegro to refund of one order line (whole items and money)."""

    units: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class Returned:
    """One returned line the soak let reach the seller: the ledger must credit it exactly once."""

    return_id: str
    sku: str
    units: int


@dataclass
class AfterSaleBook:
    """What the soak's shop and buyers did after the sale (filled on the traffic threads, under a lock)."""

    used: set[str] = field(default_factory=set)  # forms with an after-sale action (never cancelled after)
    labelled: set[str] = field(default_factory=set)
    refunds: dict[str, dict[str, Asked]] = field(default_factory=dict)  # form -> line item id -> asked
    returns: list[Returned] = field(default_factory=list)  # arrived at the seller
    in_transit: list[tuple[str, Returned]] = field(default_factory=list)  # (form, line) not arrived yet


Candidates = Callable[[], list[tuple[str, str, str, int]]]  # (form, offer, SKU, units), under the lock


# ---- the counters (pure) --------------------------------------------------------------------------------


def labels_bought_twice(shipments: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every order with more than one shipment created for it (one package per order in the soak)."""
    per_order = Counter(str(s.get("referenceNumber")) for s in shipments)
    return [f"order {form}: {n} shipments bought" for form, n in sorted(per_order.items()) if n > 1]


def refunds_paid_twice(
    asked: Mapping[str, Mapping[str, Asked]], refunds: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Every order line (or delivery) whose refunds on Allegro exceed what the soak asked for it."""
    paid: dict[tuple[str, str], Asked] = {}
    for refund in refunds:
        form = str(refund["order"]["id"])
        for line in refund.get("lineItems", []):
            got = paid.setdefault((form, str(line["id"])), Asked())
            if line.get("type") == "QUANTITY":
                got.units += int(line["quantity"])
            else:
                got.amount += Decimal(str(line["value"]["amount"]))
        if "delivery" in refund:
            paid.setdefault((form, "delivery"), Asked()).amount += Decimal(
                str(refund["delivery"]["value"]["amount"])
            )
    found = []
    for (form, line), got in sorted(paid.items()):
        want = asked.get(form, {}).get(line, Asked())
        if got.units > want.units or got.amount > want.amount:
            found.append(
                f"order {form} line {line}: refunded {got.units} item(s) + {got.amount} "
                f"for {want.units} + {want.amount} asked"
            )
    return found


def returned_units_off(returned: Iterable[Returned], credited: Mapping[str, int]) -> list[str]:
    """Every returned line whose units the ledger credited other than exactly once (`credited`: return id
    -> units the ledger holds for it)."""
    expected: Counter[str] = Counter()
    skus: dict[str, str] = {}
    for line in returned:
        expected[line.return_id] += line.units
        skus[line.return_id] = line.sku
    return [
        f"return {rid} ({skus[rid]}): {credited.get(rid, 0)} unit(s) credited for {units} returned"
        for rid, units in sorted(expected.items())
        if credited.get(rid, 0) != units
    ]


# ---- the traffic ---------------------------------------------------------------------------------------


class AfterSaleTraffic:
    """The shop buys labels and refunds, buyers send items back; `count()` checks Allegro and the ledger."""

    def __init__(
        self,
        runtime: LocalRuntime,
        emulator: Emulator,
        shop: DemoShop,
        *,
        http_url: str,
        sender: httpx.Client,
        secret: str,
        resend_share: float,
        lock: threading.Lock,
        rng: random.Random,
        book: AfterSaleBook,
    ) -> None:
        self._runtime, self._emulator, self._shop = runtime, emulator, shop
        self._url, self._secret, self._resend = http_url, secret, resend_share
        self._sender = sender  # the shop's HTTP client, shared with the soak's other shop traffic
        self._lock, self._rng = lock, rng
        self.book = book
        self.activity: Counter[str] = Counter()
        self.problems: list[str] = []

    def start(self, accounts: Iterable[str]) -> None:
        """Each account's label rule: the shop's READY_FOR_SHIPMENT buys a label (the buyer's method)."""
        rules = self._runtime.application("fulfillment_worker").label_rules()
        for account in accounts:
            rules.put(LabelRule(account=account, sender=SENDER))

    def act(self, candidates: Candidates, back: Callable[[str, int], None]) -> None:
        """One after-sale step: a return in transit arrives, or one order the shop has gets a label, a
        refund or a return (in turn). `candidates()`: (form, offer, SKU, units) of paid orders the shop
        received; `back(sku, units)`: the soak's truth when a returned parcel reaches the shop (both called
        under the lock)."""
        with self._lock:
            if self.book.in_transit and self._rng.random() < 0.5:
                _, line = self.book.in_transit.pop(0)
                self._arrive(line, back)
                return
        self._ask(candidates, KINDS[len(self.book.used) % len(KINDS)])

    def each_kind_once(self, candidates: Candidates) -> None:
        """After the traffic (faults still on): what a short run's traffic never got to, once each (its
        orders may all have waited out Allegro's block)."""
        for kind in KINDS:
            if not self.activity[f"{kind}s_asked"]:
                self._ask(candidates, kind)

    def _ask(self, candidates: Candidates, kind: str) -> None:
        with self._lock:
            fresh = [c for c in candidates() if c[0] not in self.book.used]
            if not fresh:
                return
            form, offer, sku, units = self._rng.choice(fresh)
            self.book.used.add(form)
            line_id = self._line(form, offer)
            if kind == "return":
                return_id = self._emulator.marketplace.open_return(form, {line_id: 1})
                self.book.in_transit.append((form, Returned(return_id, sku, 1)))
                self.activity["returns_asked"] += 1
                return
            if kind == "label":
                self.book.labelled.add(form)
                payload: dict[str, Any] = {
                    "type": "order.status",
                    "checkout_form_id": form,
                    "status": "READY_FOR_SHIPMENT",
                }
            else:
                asked = Asked(1) if units > 1 else Asked(amount=REFUND_AMOUNT)
                self.book.refunds.setdefault(form, {})[line_id] = asked
                part = {"quantity": 1} if asked.units else {"amount": f"{REFUND_AMOUNT}"}
                payload = {
                    "type": "order.refunded",
                    "checkout_form_id": form,
                    "refund_id": f"soak-{uuid.uuid4().hex[:12]}",
                    "lines": [{"line_item_id": line_id, **part}],
                }
            resend = self._rng.random() < self._resend
            self.activity[f"{kind}s_asked"] += 1
            self.activity[f"{kind}s_resent"] += resend
        for _ in range(2 if resend else 1):  # the shop sends it again: the same request, a new delivery
            self._post(payload)

    def _arrive(self, line: Returned, back: Callable[[str, int], None]) -> None:
        """The returned parcel reaches the seller (the caller holds the lock)."""
        self._emulator.marketplace.advance_return(line.return_id, ARRIVED)
        self.book.returns.append(line)
        back(line.sku, line.units)
        self.activity["returns_arrived"] += 1

    def arrive_all(self, back: Callable[[str, int], None]) -> None:
        """After the traffic: every return still on its way reaches the shop."""
        with self._lock:
            for _, line in self.book.in_transit:
                self._arrive(line, back)
            self.book.in_transit.clear()

    def count(self) -> dict[str, int]:
        """The three counters, from Allegro's state and the ledger, after the system drained."""
        state = self._emulator.marketplace.state
        labels = labels_bought_twice(list(state.wza.shipments.values()))
        refunds = refunds_paid_twice(
            self.book.refunds,
            [r for form in self.book.refunds for r in self._emulator.marketplace.refunds_of(form)],
        )
        returns = returned_units_off(self.book.returns, self._credited())
        self.problems.extend([*labels, *refunds, *returns])
        shipped = {str(s.get("referenceNumber")) for s in state.wza.shipments.values()}
        paid = {form for form in self.book.refunds if self._emulator.marketplace.refunds_of(form)}
        # Not counters (issue 15 asks for "twice"), but a label or refund that never happened is a problem.
        self.problems.extend(f"label of order {f} never bought" for f in sorted(self.book.labelled - shipped))
        self.problems.extend(f"refund of order {f} never paid" for f in sorted(set(self.book.refunds) - paid))
        self.activity["labels_bought"] = len(state.wza.shipments)
        self.activity["refunds_paid"] = len(paid)
        return {
            "labels_bought_twice": len(labels),
            "refunds_paid_twice": len(refunds),
            "returned_units_twice_or_never": len(returns),
        }

    def _credited(self) -> dict[str, int]:
        """Units the ledger holds per return (every credit keyed `return:<id>:...` on the SKU's items)."""
        worker = self._runtime.application("catalog_worker")
        table, dynamodb = worker.settings.table("ledger"), self._runtime.client("dynamodb")
        credited: Counter[str] = Counter()
        for line in self.book.returns:
            prefix = f"{SALE}{RETURN_PREFIX}{line.return_id}:"
            pages = dynamodb.get_paginator("query").paginate(
                TableName=table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
                ExpressionAttributeValues=items.dump({":pk": sku_pk(line.sku), ":sk": prefix}),
                ConsistentRead=True,
            )
            for page in pages:
                for raw in page["Items"]:
                    credited[line.return_id] += abs(sale_from_item(items.load(raw)).quantity or 0)
        return dict(credited)

    def _line(self, form: str, offer: str) -> str:
        lines = self._emulator.marketplace.state.checkout_forms[form].line_items
        return str(next(li["id"] for li in lines if li["offer"]["id"] == offer))

    def _post(self, payload: dict[str, Any]) -> None:
        """A shop's signed order update, retried with the same delivery id while the answer is 5xx."""
        body, delivery = json.dumps(payload).encode(), uuid.uuid4().hex
        for attempt in range(6):
            headers = {
                "Content-Type": "application/json",
                **signing.signed_headers(self._secret, delivery, body, int(time.time())),
            }
            url = f"{self._url}/webhooks/shop/orders"
            answer = self._sender.post(url, content=body, headers=headers, timeout=60)
            if answer.status_code < 500:
                if answer.status_code != 202:
                    with self._lock:
                        self.problems.append(f"{payload['type']} answered {answer.status_code}")
                return
            time.sleep(0.5 * 2**attempt)
