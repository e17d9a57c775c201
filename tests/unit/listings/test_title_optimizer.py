"""Title optimizer: valid titles always, scored words added with reasons, no stuffing, honest gain."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from allegro_sync.domain.keywords import OfferSample, score_keywords
from allegro_sync.domain.title import validate_title
from allegro_sync.domain.title_optimizer import optimize_title

SCORES = score_keywords(
    [
        OfferSample("1", "257", "Słuchawki bezprzewodowe Sony czarne", 120, 4, param_values=("Czarny",)),
        OfferSample("2", "257", "Słuchawki bezprzewodowe JBL", 100, 3, param_values=("Biały",)),
        OfferSample("3", "257", "Słuchawki bezprzewodowe Philips", 90, 2, param_values=("Czarny",)),
        OfferSample("4", "257", "Słuchawki przewodowe Sony", 20, 0, param_values=("Czarny",)),
        OfferSample("5", "257", "Słuchawki douszne Panasonic", 15, 0, param_values=("Biały",)),
        OfferSample("6", "257", "Słuchawki nauszne Koss przewodowe", 25, 1, param_values=("Biały",)),
    ],
    seller_keywords={"257": ["ANC"]},
)["257"]


def test_best_words_are_added_promotion_removed_and_each_change_explained() -> None:
    proposal = optimize_title(
        current="Słuchawki Sony WH-1000XM5 HIT",
        name="Słuchawki Sony WH-1000XM5",
        brand="Sony",
        model="WH-1000XM5",
        params={"Kolor": "Czarny", "Marka": "Sony"},
        scores=SCORES,
    )
    assert proposal.proposed == "Słuchawki Sony WH-1000XM5 bezprzewodowe Czarny ANC"
    assert proposal.added == ("bezprzewodowe", "Czarny", "ANC")
    assert proposal.removed == ("hit",)
    assert proposal.expected_gain > 0.3
    why = "\n".join(proposal.reasons)
    assert "'bezprzewodowe': offers with it: 103 visits / 3.0 sold" in why
    assert "'hit': promotional word" in why
    assert "seller's keyword list" in why


def test_words_that_did_worse_are_never_added_and_an_already_good_title_is_kept() -> None:
    current = "Słuchawki bezprzewodowe Sony WH-1000XM5 Czarny ANC"
    proposal = optimize_title(current=current, name=current, params={"Kolor": "Czarny"}, scores=SCORES)
    assert not proposal.changed
    assert proposal.expected_gain == 0
    assert proposal.reasons == ()
    lean = optimize_title(current="x", name="Słuchawki Koss Porta", params={"Kolor": "Biały"}, scores=SCORES)
    assert "przewodowe" not in lean.proposed.split()
    assert "Biały" not in lean.proposed.split()


def test_a_long_name_is_cut_at_a_word_and_keywords_only_where_they_fit() -> None:
    name = "Słuchawki nauszne z mikrofonem i redukcją szumów do telefonu komputera konsoli oraz telewizora"
    proposal = optimize_title(current=name, name=name, brand="Sony", scores=SCORES)
    assert validate_title(proposal.proposed) == []
    assert proposal.proposed.startswith("Sony Słuchawki nauszne z mikrofonem")


def test_a_name_too_short_for_allegro_falls_back_to_the_standard_builder() -> None:
    proposal = optimize_title(current="", name="X", scores=())
    assert validate_title(proposal.proposed) == []


POLISH = st.text(
    alphabet=st.sampled_from(list("aąbcćdeęfghijklłmnńoóprsśtuwyzźżAĄCĆEĘŁŃÓŚŹŻ0123456789 -&\"'/.,!—™😀")),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(
    name=POLISH,
    current=POLISH,
    brand=st.none() | POLISH,
    model=st.none() | POLISH,
    params=st.dictionaries(st.sampled_from(["Kolor", "Marka", "Rozmiar", "Materiał"]), POLISH, max_size=4),
)
def test_optimized_titles_are_always_valid_and_never_repeat_a_word(
    name: str, current: str, brand: str | None, model: str | None, params: dict[str, str]
) -> None:
    proposal = optimize_title(
        current=current, name=name, brand=brand, model=model, params=params, scores=SCORES
    )
    assert validate_title(proposal.proposed) == []  # includes: no repeated word, <= 75, >= 3 words
    assert len(proposal.added) <= 4
    assert all(w.casefold() not in {"hit", "okazja", "promocja"} for w in proposal.proposed.split())
