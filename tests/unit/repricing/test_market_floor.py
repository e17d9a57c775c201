"""The repricing floor of an offer sold on allegro.cz too (issue 16): it covers allegro.cz's own fees,
measured by a fee preview for that marketplace in CZK, at the offer's current CZK / PLN price ratio."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from allegro_sync.contracts import allegro as api
from allegro_sync.services.repricing import Repricer
from tests.fixtures.changes import FakeChangeLog
from tests.unit.repricing.test_service import DEMAND, T0, Facts, FakeAllegro, MemoryStore, listing


class TwoMarketplaces(FakeAllegro):
    """allegro.pl takes 10 % + 1 PLN; allegro.cz takes 20 % + 10 CZK."""

    def __init__(self, offers: list[dict[str, Any]]) -> None:
        super().__init__(offers)
        self.asked: list[tuple[str | None, str]] = []

    def offer_fee_preview(self, body: Mapping[str, Any]) -> api.FeePreview:
        price = body["offer"]["sellingMode"]["price"]
        self.asked.append((body.get("marketplaceId"), price["currency"]))
        if body.get("marketplaceId") != "allegro-cz":
            return super().offer_fee_preview(body)
        fee = (Decimal(price["amount"]) * Decimal("0.2") + 10).quantize(Decimal("0.01"))
        return api.FeePreview(commissions=[{"fee": {"amount": str(fee), "currency": "CZK"}}])


def _floor(offer: dict[str, Any]) -> tuple[Decimal | None, TwoMarketplaces]:
    allegro = TwoMarketplaces([offer])
    report = Repricer(MemoryStore(DEMAND), Facts(), FakeChangeLog(), clock=lambda: T0).run_account(
        "acc", allegro, apply=False
    )
    (decision,) = report.decisions
    return decision.floor, allegro


def test_an_offer_on_allegro_cz_gets_a_floor_that_covers_its_czk_fees() -> None:
    alone = listing("1", "A", 40, 0)
    on_cz = alone | {
        "additionalMarketplaces": {
            "allegro-cz": {
                "publication": {"state": "APPROVED"},
                "sellingMode": {"price": {"amount": "600.00", "currency": "CZK"}},
            },
            "allegro-sk": {"publication": {"state": "REFUSED"}},  # not sold there: its fees do not count
        }
    }

    floor_pl, plain = _floor(alone)
    floor_cz, both = _floor(on_cz)

    assert floor_pl is not None
    assert floor_cz is not None
    # cost 50: allegro.pl alone needs p >= 50 + 0.1p + 1; allegro.cz at 6 x p costs (1.2p + 10) / 6 in PLN
    assert floor_cz > floor_pl
    assert ("allegro-cz", "CZK") in both.asked
    assert all(marketplace is None for marketplace, _ in plain.asked)
    assert not any(marketplace == "allegro-sk" for marketplace, _ in both.asked)
