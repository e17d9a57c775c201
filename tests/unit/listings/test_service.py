"""The listings service with in-memory neighbours: an unreadable offer does not stop a review, and what
`apply` sends is the reviewed proposal (or nothing, with a clear error)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.contracts.allegro import OfferListing, ProductOffer
from allegro_sync.contracts.allegro_errors import AllegroUnavailable
from allegro_sync.contracts.catalog import StoredProduct
from allegro_sync.contracts.listings import Experiment, Proposal
from allegro_sync.services.listings import ListingOptimizer
from tests.fixtures.changes import FakeChangeLog
from tests.fixtures.products import product_upsert

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@dataclass
class Store:
    proposals: dict[tuple[str, str], Proposal] = field(default_factory=dict)

    def keywords(self, category_id: str) -> list[str]:
        return []

    def all_keywords(self) -> dict[str, list[str]]:
        return {}

    def set_keywords(self, category_id: str, words: Sequence[str]) -> None:
        raise AssertionError("not used")

    def save_proposals(self, account: str, proposals: Sequence[Proposal]) -> None:
        self.proposals |= {(account, p.offer_id): p for p in proposals}

    def proposal(self, account: str, offer_id: str) -> Proposal | None:
        return self.proposals.get((account, offer_id))

    def save_experiment(self, experiment: Experiment) -> None:
        raise AssertionError("not used")

    def experiment(self, experiment_id: str) -> Experiment | None:
        return None

    def experiments(self) -> list[Experiment]:
        return []


@dataclass
class Catalog:
    def product(self, sku: str) -> StoredProduct | None:
        upsert = product_upsert(
            sku, delivery_id=f"d-{sku}", occurred_at=NOW, version=1, ean=None, stock=None,
            name="Czajnik elektryczny Bosch TWK3A011", price=Decimal("129.99"),
            category_path=["Dom", "Czajniki"],
            description_html="<p>Czajnik 2400 W z filtrem kamienia.</p>",
            attributes={"Marka": "Bosch", "Moc": "2400 W"},
        )  # fmt: skip
        return StoredProduct(sku=sku, order_key="1", upsert=upsert)


@dataclass
class Allegro:
    names: dict[str, str]
    broken: set[str]
    patched: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = 1000
    ) -> Iterator[OfferListing]:
        for offer_id, name in self.names.items():
            yield OfferListing.model_validate(
                {
                    "id": offer_id,
                    "name": name,
                    "category": {"id": "201"},
                    "external": {"id": f"SKU-{offer_id}"},
                }
            )

    def get_product_offer(self, offer_id: str) -> ProductOffer:
        if offer_id in self.broken:
            raise AllegroUnavailable("Allegro did not answer")
        body = {"sections": [{"items": [{"type": "TEXT", "content": "<p>Dzwoń: 600 700 800</p>"}]}]}
        return ProductOffer.model_validate(
            {"id": offer_id, "name": self.names[offer_id], "description": body}
        )

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        self.patched.append((offer_id, dict(body)))
        return self.get_product_offer(offer_id)


def optimizer(store: Store, log: FakeChangeLog) -> ListingOptimizer:
    return ListingOptimizer(store, Catalog(), log, clock=lambda: NOW)


def test_an_unreadable_offer_keeps_its_title_proposal_and_the_review_goes_on() -> None:
    store, log = Store(), FakeChangeLog()
    allegro = Allegro(
        {"1": "Czajnik Bosch TANIO okazja", "2": "Czajnik elektryczny Bosch TWK3A011"}, broken={"1"}
    )
    proposals = {p.offer_id: p for p in optimizer(store, log).review("konto", allegro)}
    assert proposals["1"].proposed_title == "Czajnik elektryczny Bosch TWK3A011"
    assert proposals["1"].description is None
    assert proposals["1"].issues == ("warning: description not checked: Allegro did not answer",)
    assert proposals["2"].description is not None  # readable: the phone number is found and fixed
    assert any("600 700 800" in i for i in proposals["2"].issues)


def test_apply_sends_the_reviewed_proposal_once_and_records_it() -> None:
    store, log = Store(), FakeChangeLog()
    allegro = Allegro({"2": "Czajnik elektryczny Bosch TWK3A011"}, broken=set())
    service = optimizer(store, log)
    service.review("konto", allegro)
    change = service.apply("konto", allegro, "2", title=False)
    [(offer_id, body)] = allegro.patched
    assert offer_id == "2"
    assert list(body) == ["description"]
    assert "Moc:</b> 2400 W" in body["description"]["sections"][0]["items"][0]["content"]
    assert log.changes == [change]
    assert change.changes["description"]["old"] == "Dzwoń: 600 700 800"
    with pytest.raises(ValueError, match="nothing to change"):
        service.apply("konto", allegro, "2", title=True, description=False)
    assert len(allegro.patched) == 1
