"""The best title Allegro accepts for a product, from its name, brand, model, parameters and keyword scores.

Greedy and explainable: brand, then the product name, then the model, then parameter values and title words
in order of their score in the category (only those that did better than the rest), each added only if the
title stays valid under `title.validate_title` (75 Allegro-counted characters, no repeated word). Promotional
words are dropped. The expected gain adds up the log-lifts of the scored words gained and lost, which treats
them as independent (an optimistic reading); the A/B mode is how a seller checks it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from allegro_sync.domain.keywords import STOPWORDS, KeywordScore, normalise_word, param_term, title_terms
from allegro_sync.domain.title import (
    MAX_WORD_LENGTH,
    PROMO_WORDS,
    allegro_length,
    build_title,
    clean_text,
    validate_title,
)

# Problems that more words can still cure; any other problem means the word that caused it is refused.
_CURABLE = frozenset({"too_short", "too_few_words"})
_EDGE_JOINERS = frozenset(
    {"-", "–", "&", "+", "/", "|", ",", ";", ":", "x", "i", "z", "w", "do", "na", "oraz"}
)
MAX_ADDED_TERMS = 4
"""More than a few keywords reads as stuffing to buyers and to Allegro's search."""


@dataclass(frozen=True)
class TitleProposal:
    current: str
    proposed: str
    expected_gain: float  # e.g. 0.18 = +18 % (visits and sales, see keywords.py)
    reasons: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.proposed != self.current


@dataclass
class _Title:
    tokens: list[str] = field(default_factory=list)

    def text(self, extra: Sequence[str] = ()) -> str:
        return " ".join([*self.tokens, *extra])

    def try_add(self, words: Sequence[str]) -> bool:
        """Add all `words` (a term may be several words) if the title stays valid, else none of them."""
        if not words:
            return False
        candidate = self.text(words)
        if any(p.code not in _CURABLE for p in validate_title(candidate)):
            return False
        self.tokens.extend(words)
        return True


def _words(text: str) -> list[str]:
    words = []
    for token in clean_text(text).split(" "):
        if not token or normalise_word(token) in PROMO_WORDS or allegro_length(token) > MAX_WORD_LENGTH:
            continue
        words.append(token)
    return words


def _trim(tokens: list[str]) -> list[str]:
    while tokens and (tokens[-1].casefold() in _EDGE_JOINERS or not any(c.isalnum() for c in tokens[-1])):
        tokens = tokens[:-1]
    while tokens and (tokens[0].casefold() in _EDGE_JOINERS or not any(c.isalnum() for c in tokens[0])):
        tokens = tokens[1:]
    return tokens


def title_score(title: str, scores: Mapping[str, KeywordScore], params: Sequence[str] = ()) -> float:
    """Sum of the scores of the title's scored words, plus scored parameter values the title shows."""
    words = title_terms(title)
    total = sum(scores[w].score for w in words if w in scores and scores[w].kind == "word")
    shown = " " + " ".join(normalise_word(t) for t in clean_text(title).split(" ")) + " "
    for value in params:
        key = "param:" + param_term(value)
        if key in scores and f" {param_term(value)} " in shown:
            total += scores[key].score
    return total


def score_index(scores: Sequence[KeywordScore]) -> dict[str, KeywordScore]:
    """Scores by lookup key: the word itself, or "param:<value>" for parameter values."""
    return {(s.term if s.kind == "word" else "param:" + s.term): s for s in scores}


def _describe(score: KeywordScore) -> str:
    if score.support == 0:
        return "on the seller's keyword list (no data yet)"
    return (
        f"offers with it: {score.visits_with:.0f} visits / {score.sold_with:.1f} sold in 30 days vs "
        f"{score.visits_without:.0f} / {score.sold_without:.1f} without ({score.expected_gain:+.0%}, "
        f"{score.support} offers)"
    )


def _candidates(
    params: Mapping[str, str], scores: Sequence[KeywordScore], index: Mapping[str, KeywordScore]
) -> list[tuple[float, str, KeywordScore]]:
    """Parameter values and words that did better than the rest of the category, best first."""
    candidates: list[tuple[float, str, KeywordScore]] = []
    for value in params.values():
        found = index.get("param:" + param_term(value))
        if found is not None and found.score > 0:
            candidates.append((found.score, value, found))
    for s in scores:
        if s.kind == "word" and s.score > 0 and s.term not in STOPWORDS:
            candidates.append((s.score, s.shown, s))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    return candidates


def _removal_reasons(removed: Sequence[str], index: Mapping[str, KeywordScore]) -> list[str]:
    reasons = []
    for word in removed:
        if word in PROMO_WORDS:
            reasons.append(f"- '{word}': promotional word (Allegro's title guidelines)")
        elif word in index and index[word].score < 0:
            reasons.append(f"- '{word}': {_describe(index[word])}")
    return reasons


def optimize_title(
    *,
    current: str,
    name: str,
    brand: str | None = None,
    model: str | None = None,
    params: Mapping[str, str] | None = None,
    scores: Sequence[KeywordScore] = (),
    max_added: int = MAX_ADDED_TERMS,
) -> TitleProposal:
    """Propose a title; `scores`: the category's keyword scores (`keywords.score_keywords`)."""
    params = params or {}
    index = score_index(scores)
    title = _Title()
    used: set[str] = set()

    def add_text(text: str) -> None:
        for word in _words(text):
            key = normalise_word(word)
            if key in used and key not in STOPWORDS and len(key) >= 3:
                continue
            if title.try_add([word]):
                used.add(key)

    if brand and normalise_word(brand) not in {normalise_word(w) for w in _words(name)}:
        add_text(brand)
    add_text(name)
    if model:
        add_text(model)
    candidates = _candidates(params, scores, index)
    added: list[str] = []
    reasons: list[str] = []
    for _, text, why in candidates:
        if len(added) >= max_added:
            break
        words = [w for w in _words(text) if normalise_word(w) not in used]
        if not words or len(words) != len(_words(text)):
            continue  # already in the title (or partly: adding the rest would read oddly)
        if title.try_add(words):
            used.update(normalise_word(w) for w in words)
            added.append(" ".join(words))
            label = "parameter value" if why.kind == "param" else "keyword"
            reasons.append(f"+ {label} '{' '.join(words)}': {_describe(why)}")
    proposed = " ".join(_trim(title.tokens))
    if validate_title(proposed):
        proposed = build_title(name, params, brand=brand)
        added, reasons = [], ["the name alone could not make a valid title: built by the standard rules"]
    removed = sorted(title_terms(current) - title_terms(proposed))
    reasons += _removal_reasons(removed, index)
    if problems := validate_title(current):
        reasons.insert(0, "current title breaks Allegro's rules: " + "; ".join(p.message for p in problems))
    values = list(params.values())
    gain = math.exp(title_score(proposed, index, values) - title_score(current, index, values)) - 1
    if not validate_title(current) and normalise_word(proposed) == normalise_word(current):
        proposed, gain, reasons, added, removed = current, 0.0, [], [], []
    return TitleProposal(current, proposed, gain, tuple(reasons), tuple(added), tuple(removed))
