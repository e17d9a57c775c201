"""Which title words and parameter values go with more visits and sales, per Allegro category (pure).

A transparent statistic, not a model: for a term (a normalised title word, or a parameter value) and one
category, compare the offers that have it with those that do not. Each group's mean is smoothed towards the
category mean with `prior_weight` pseudo-offers (so two lucky offers cannot make a word look magic), and the
lift is the ratio of the two smoothed means. The score is the mean of the log-lifts of 30-day visits and
30-day sales; `exp(score) - 1` reads as "offers with this term had that much more". Terms carried by fewer
than `min_support` offers (or by all of them: nothing to compare) are not scored. Correlation, not cause:
the A/B mode exists to check a change before trusting it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from allegro_sync.domain.title import clean_text, word_key

# Words that carry no meaning for a buyer's search (Polish function words and joiners).
STOPWORDS = frozenset(
    {
        *("i", "z", "w", "we", "do", "na", "dla", "od", "po", "oraz", "lub", "a", "o", "u", "ze", "za"),
        *("x", "-", "+", "/", "&", "the", "and", "of", "for", "with"),
    }
)
_HAS_LETTER_OR_DIGIT = re.compile(r"\w", re.UNICODE)

TermKind = Literal["word", "param"]


def normalise_word(token: str) -> str:
    """Lower-case (casefold), diacritics kept (`kąt` is not `kat`), edge punctuation stripped; no stemming."""
    return word_key(token)


def title_terms(title: str) -> set[str]:
    """The distinct meaningful words of a title, normalised."""
    words = {normalise_word(t) for t in clean_text(title).split(" ")}
    return {w for w in words if w and w not in STOPWORDS and _HAS_LETTER_OR_DIGIT.search(w)}


def param_term(value: str) -> str:
    """A parameter value as one term ("Czarny" and "czarny " are the same value)."""
    return " ".join(normalise_word(t) for t in clean_text(value).split(" ") if normalise_word(t))


@dataclass(frozen=True)
class OfferSample:
    """One of the seller's offers with its 30-day numbers (GET /sale/offers `stats`, `stock.sold`)."""

    offer_id: str
    category_id: str
    title: str
    visits: int
    sold: int
    watchers: int = 0
    param_values: tuple[str, ...] = ()

    def terms(self) -> set[tuple[TermKind, str]]:
        words: set[tuple[TermKind, str]] = {("word", w) for w in title_terms(self.title)}
        params: set[tuple[TermKind, str]] = {("param", t) for v in self.param_values if (t := param_term(v))}
        return words | params


@dataclass(frozen=True)
class KeywordScore:
    category_id: str
    kind: TermKind
    term: str
    support: int  # offers in the category that have it
    others: int  # offers that do not
    visits_with: float  # raw mean 30-day visits of offers with the term
    visits_without: float
    sold_with: float
    sold_without: float
    visit_lift: float  # smoothed ratio, 1.0 = no difference
    sales_lift: float
    score: float  # mean of ln(visit_lift), ln(sales_lift)
    seller_listed: bool = False  # on the seller's own keyword list for the category
    display: str = ""  # how to write it in a title: the seller's spelling, or the most common one seen

    @property
    def shown(self) -> str:
        return self.display or self.term

    @property
    def expected_gain(self) -> float:
        """`exp(score) - 1`: +0.25 reads "offers with it did about 25 % better"."""
        return math.exp(self.score) - 1


SELLER_KEYWORD_SCORE = math.log(1.10)
"""A seller-listed keyword without enough data counts as +10 %: the seller's knowledge, stated plainly."""


def _smoothed(total: float, count: int, prior_mean: float, weight: float) -> float:
    return (total + weight * prior_mean) / (count + weight)


def _lift(with_total: float, n_with: int, without_total: float, n_without: int, weight: float) -> float:
    overall = (with_total + without_total) / max(n_with + n_without, 1)
    prior = overall if overall > 0 else 1.0  # nothing happened at all: every lift is 1
    a = _smoothed(with_total, n_with, prior, weight)
    b = _smoothed(without_total, n_without, prior, weight)
    return a / b if b > 0 else 1.0


def score_keywords(
    samples: Iterable[OfferSample],
    *,
    min_support: int = 3,
    prior_weight: float = 5.0,
    seller_keywords: Mapping[str, Collection[str]] | None = None,
) -> dict[str, list[KeywordScore]]:
    """Scores per category id, best first. `seller_keywords`: category id -> the seller's own words."""
    if min_support < 1 or prior_weight < 0:
        raise ValueError("min_support must be >= 1 and prior_weight >= 0")
    by_category: dict[str, list[OfferSample]] = {}
    for sample in samples:
        by_category.setdefault(sample.category_id, []).append(sample)
    listed = {
        c: {normalise_word(w): clean_text(w) for w in words if normalise_word(w)}
        for c, words in (seller_keywords or {}).items()
    }
    out: dict[str, list[KeywordScore]] = {}
    for category in sorted(set(by_category) | set(listed)):
        offers = by_category.get(category, [])
        out[category] = _score_category(category, offers, min_support, prior_weight, listed.get(category, {}))
    return out


def _score_category(
    category: str, offers: Sequence[OfferSample], min_support: int, weight: float, listed: Mapping[str, str]
) -> list[KeywordScore]:
    terms = [o.terms() for o in offers]
    spellings: dict[str, Counter[str]] = {}
    for offer in offers:
        for token in clean_text(offer.title).split(" "):
            spellings.setdefault(normalise_word(token), Counter())[token] += 1
    total_visits = sum(o.visits for o in offers)
    total_sold = sum(o.sold for o in offers)
    seen: dict[tuple[TermKind, str], list[int]] = {}
    for index, found in enumerate(terms):
        for key in found:
            seen.setdefault(key, []).append(index)
    scores: list[KeywordScore] = []
    for (kind, term), indexes in seen.items():
        n_with, n_without = len(indexes), len(offers) - len(indexes)
        seller = kind == "word" and term in listed
        if (n_with < min_support or n_without == 0) and not seller:
            continue
        v_with = sum(offers[i].visits for i in indexes)
        s_with = sum(offers[i].sold for i in indexes)
        v_lift = _lift(v_with, n_with, total_visits - v_with, n_without, weight)
        s_lift = _lift(s_with, n_with, total_sold - s_with, n_without, weight)
        score = (math.log(v_lift) + math.log(s_lift)) / 2
        if seller and (n_with < min_support or n_without == 0):
            score = max(score, SELLER_KEYWORD_SCORE)
        scores.append(
            KeywordScore(
                category_id=category,
                kind=kind,
                term=term,
                support=n_with,
                others=n_without,
                visits_with=v_with / n_with,
                visits_without=(total_visits - v_with) / n_without if n_without else 0.0,
                sold_with=s_with / n_with,
                sold_without=(total_sold - s_with) / n_without if n_without else 0.0,
                visit_lift=v_lift,
                sales_lift=s_lift,
                score=score,
                seller_listed=seller,
                display=listed.get(term)
                or (spellings[term].most_common(1)[0][0] if kind == "word" and term in spellings else ""),
            )
        )
    present = {t for k, t in seen if k == "word"}
    for word in sorted(set(listed) - present):  # listed but on none of the seller's titles yet
        if word and word not in STOPWORDS:
            scores.append(
                KeywordScore(
                    category, "word", word, 0, len(offers), 0.0, 0.0, 0.0, 0.0, 1.0, 1.0,
                    SELLER_KEYWORD_SCORE, seller_listed=True, display=listed[word],
                )
            )  # fmt: skip
    scores.sort(key=lambda s: (-s.score, -s.support, s.term))
    return scores
