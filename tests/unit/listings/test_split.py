"""The A/B split: deterministic per offer, close to the asked share, independent between categories."""

from __future__ import annotations

from allegro_sync.services.listings import in_treatment


def test_the_split_is_deterministic_and_close_to_the_share() -> None:
    ids = [str(7_700_000_000 + i) for i in range(2000)]
    first = [in_treatment(i, 0.3, salt="101") for i in ids]
    assert first == [in_treatment(i, 0.3, salt="101") for i in ids]
    assert 0.27 < sum(first) / len(ids) < 0.33


def test_a_larger_share_keeps_every_offer_already_treated() -> None:
    ids = [f"offer-{i}" for i in range(500)]
    small = {i for i in ids if in_treatment(i, 0.2, salt="257")}
    large = {i for i in ids if in_treatment(i, 0.6, salt="257")}
    assert small < large


def test_another_category_splits_its_offers_independently() -> None:
    ids = [f"offer-{i}" for i in range(500)]
    a = {i for i in ids if in_treatment(i, 0.5, salt="101")}
    b = {i for i in ids if in_treatment(i, 0.5, salt="201")}
    assert a != b
    assert 0.35 < len(a & b) / len(a) < 0.65
