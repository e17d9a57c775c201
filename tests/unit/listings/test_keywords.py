"""Keyword statistics: lift per word and parameter value per category, smoothing, support, seller list."""

from __future__ import annotations

import math

import pytest

from allegro_sync.domain.keywords import (
    SELLER_KEYWORD_SCORE,
    KeywordScore,
    OfferSample,
    normalise_word,
    score_keywords,
    title_terms,
)


def sample(i: int, title: str, visits: int, sold: int, category: str = "257", *params: str) -> OfferSample:
    return OfferSample(str(i), category, title, visits, sold, param_values=params)


HEADPHONES = [
    sample(1, "Słuchawki bezprzewodowe Sony czarne", 120, 4, "257", "Czarny"),
    sample(2, "Słuchawki Bezprzewodowe JBL", 100, 3, "257", "Biały"),
    sample(3, "Słuchawki bezprzewodowe Philips", 90, 2, "257", "Czarny"),
    sample(4, "Słuchawki przewodowe Sony", 20, 0, "257", "Czarny"),
    sample(5, "Słuchawki douszne Panasonic", 15, 0, "257", "Biały"),
    sample(6, "Słuchawki nauszne Koss", 25, 1, "257", "Biały"),
]


def by_term(*, min_support: int = 3, prior_weight: float = 5.0) -> dict[str, KeywordScore]:
    scores = score_keywords(HEADPHONES, min_support=min_support, prior_weight=prior_weight)["257"]
    return {s.term if s.kind == "word" else "param:" + s.term: s for s in scores}


def test_polish_words_are_lower_cased_with_diacritics_kept() -> None:
    assert normalise_word("ŁADOWARKA,") == "ładowarka"
    assert normalise_word("kąt") != normalise_word("kat")
    assert title_terms("Kabel USB-C do ładowarki i telefonu") == {"kabel", "usb-c", "ładowarki", "telefonu"}


def test_a_word_on_the_best_sellers_scores_above_one_on_the_weak_ones() -> None:
    scores = by_term()
    best = scores["bezprzewodowe"]
    assert best.support == 3
    assert best.others == 3
    assert best.visits_with == pytest.approx(310 / 3)
    assert best.visit_lift > 1.5
    assert best.sales_lift > 1.5
    assert scores["param:czarny"].score > 0 > scores["param:biały"].score
    first = score_keywords(HEADPHONES)["257"][0]
    assert first.term == "bezprzewodowe"
    assert first.display == "bezprzewodowe"


def test_smoothing_pulls_a_small_group_towards_the_category_mean() -> None:
    raw_ratio = (310 / 3) / (60 / 3)
    weak = by_term(prior_weight=0.0)["bezprzewodowe"].visit_lift
    strong = by_term(prior_weight=50.0)["bezprzewodowe"].visit_lift
    assert weak == pytest.approx(raw_ratio)
    assert 1.0 < strong < weak


def test_minimum_support_and_words_every_offer_has_are_not_scored() -> None:
    scores = by_term()
    assert "słuchawki" not in scores  # on every offer: nothing to compare with
    assert "sony" not in scores  # 2 offers < min support 3
    assert "sony" in by_term(min_support=2)


def test_seller_keywords_are_listed_with_a_stated_prior_and_their_own_spelling() -> None:
    scores = score_keywords(HEADPHONES, seller_keywords={"257": ["ANC"], "999": ["Etui"]})
    anc = next(s for s in scores["257"] if s.term == "anc")
    assert anc.seller_listed
    assert anc.support == 0
    assert anc.shown == "ANC"
    assert anc.score == pytest.approx(SELLER_KEYWORD_SCORE)
    assert math.isclose(anc.expected_gain, 0.10)
    assert [s.shown for s in scores["999"]] == ["Etui"]


def test_categories_are_scored_apart() -> None:
    other = [sample(10 + i, f"Etui skórzane model {i}", 5, 0, "300") for i in range(4)]
    scores = score_keywords([*HEADPHONES, *other])
    assert {s.term for s in scores["300"]}.isdisjoint({"bezprzewodowe"})


def test_nothing_sold_and_nobody_visited_means_no_lift() -> None:
    quiet = [sample(i, f"Kubek ceramiczny {'biały' if i % 2 else 'zielony'} nr{i}", 0, 0) for i in range(8)]
    assert all(s.visit_lift == 1.0 and s.sales_lift == 1.0 for s in score_keywords(quiet)["257"])


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="min_support"):
        score_keywords(HEADPHONES, min_support=0)
