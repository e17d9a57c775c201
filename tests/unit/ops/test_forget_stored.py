"""`buyers forget` on the stored buyer data: found by any identifying value, the delivery phone included."""

from __future__ import annotations

import pytest

from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.services.privacy import LABELS, STORED, BuyerData, Erased
from tests.unit.orders.fakes import MemoryBuyers


def stored(form: str, login: str, phone: str) -> BuyerDetails:
    buyer = {"id": f"id-{login}", "login": login, "email": f"{login}@allegromail.pl"}
    return BuyerDetails(form, "shop1", buyer, {"address": {"phoneNumber": phone}}, expires_at=2_000_000_000)


@pytest.mark.parametrize("named_as", ["anna@ALLEGROMAIL.pl", " anna ", "id-anna", "+48 600 100 200"])
def test_every_stored_order_of_the_buyer_goes_and_no_other(named_as: str) -> None:
    buyers = MemoryBuyers()
    for details in (stored("f1", "anna", "+48 600 100 200"), stored("f2", "anna", "+48 600 100 200")):
        buyers.keep(details)
    buyers.keep(stored("f3", "piotr", "+48 700 100 200"))

    report = BuyerData(sqs=None, env={}, stored=buyers).forget(named_as)

    assert sorted(report.erased, key=lambda e: e.checkout_form_id) == [
        Erased(STORED, "f1"),
        Erased(STORED, "f2"),
    ]
    assert list(buyers.stored) == ["f3"]


class MemoryLabels:
    def __init__(self, *forms: str) -> None:
        self.forms = set(forms)

    def erase(self, checkout_form_id: str) -> int:
        found = checkout_form_id in self.forms
        self.forms.discard(checkout_form_id)
        return int(found)


def test_the_buyers_shipping_labels_go_too_and_no_others() -> None:
    buyers = MemoryBuyers()
    buyers.keep(stored("f1", "anna", "+48 600 100 200"))
    buyers.keep(stored("f3", "piotr", "+48 700 100 200"))
    labels = MemoryLabels("f1", "f3")

    report = BuyerData(sqs=None, env={}, stored=buyers, labels=labels).forget("anna")

    assert Erased(LABELS, "f1") in report.erased
    assert labels.forms == {"f3"}
