"""Listing optimization for one seller account: keyword table, review, apply, A/B experiments.

The domain decides (keywords, title_optimizer, listing_quality); this service only gathers facts (the
seller's offers with 30-day stats from GET /sale/offers, the shop product from the catalogue by the offer's
`external.id`), stores proposals and experiments, and pushes chosen changes with PATCH, recording each in
the change log like every other change made on Allegro.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from allegro_sync.contracts.allegro import OfferListing, ProductOffer
from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.catalog import Change, StoredProduct
from allegro_sync.contracts.listings import Experiment, Proposal
from allegro_sync.domain.keywords import KeywordScore, OfferSample, score_keywords
from allegro_sync.domain.listing_quality import (
    Issue,
    check_offer_description,
    description_text,
    fix_description,
)
from allegro_sync.domain.title_optimizer import optimize_title
from allegro_sync.services.catalog import ChangeLog

BRAND_KEYS = ("marka", "brand", "producent")
MODEL_KEYS = ("model",)
MAX_KEY_PARAMS = 8


class ListingsAllegro(Protocol):
    """The Allegro operations listing optimization uses; `AllegroClient` has them."""

    def iter_offers(
        self, *, external_ids: Sequence[str] = (), statuses: Sequence[str] = (), page_size: int = ...
    ) -> Iterator[OfferListing]: ...

    def get_product_offer(self, offer_id: str) -> ProductOffer: ...

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer: ...


class ProductLookup(Protocol):
    def product(self, sku: str) -> StoredProduct | None: ...


@dataclass(frozen=True)
class ExperimentReport:
    experiment: Experiment
    days: float
    treatment_gain: float  # mean visits gained per offer since the start
    control_gain: float
    treatment_offers: int
    control_offers: int

    @property
    def difference(self) -> float:
        return self.treatment_gain - self.control_gain


class ListingStore(Protocol):
    def keywords(self, category_id: str) -> list[str]: ...

    def all_keywords(self) -> dict[str, list[str]]: ...

    def set_keywords(self, category_id: str, words: Sequence[str]) -> None: ...

    def save_proposals(self, account: str, proposals: Sequence[Proposal]) -> None: ...

    def proposal(self, account: str, offer_id: str) -> Proposal | None: ...

    def save_experiment(self, experiment: Experiment) -> None: ...

    def experiment(self, experiment_id: str) -> Experiment | None: ...

    def experiments(self) -> list[Experiment]: ...


@dataclass(frozen=True)
class OfferFacts:
    sample: OfferSample
    sku: str
    product: StoredProduct | None


def in_treatment(offer_id: str, share: float, salt: str = "") -> bool:
    """Deterministic split: the offer id's SHA-256 as a number in [0, 1) below `share`."""
    digest = hashlib.sha256(f"{salt}{offer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _pick(attributes: Mapping[str, str], keys: Iterable[str]) -> str | None:
    folded = {k.strip().casefold(): v for k, v in attributes.items()}
    return next((folded[k] for k in keys if folded.get(k)), None)


@dataclass
class ListingOptimizer:
    store: ListingStore
    catalog: ProductLookup
    changes: ChangeLog
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def facts(self, client: ListingsAllegro) -> list[OfferFacts]:
        """The account's active offers with 30-day stats and the shop product behind each."""
        out = []
        for offer in client.iter_offers(statuses=["ACTIVE"]):
            sku = offer.external.id if offer.external and offer.external.id else ""
            product = self.catalog.product(sku) if sku else None
            attributes = product.upsert.attributes if product and product.upsert else {}
            sample = OfferSample(
                offer_id=offer.id,
                category_id=offer.category.id if offer.category else "",
                title=offer.name or "",
                visits=(offer.stats.visits_count or 0) if offer.stats else 0,
                watchers=(offer.stats.watchers_count or 0) if offer.stats else 0,
                sold=(offer.stock.sold or 0) if offer.stock else 0,
                param_values=tuple(attributes.values()),
            )
            out.append(OfferFacts(sample, sku, product))
        return out

    def keyword_scores(self, facts: Sequence[OfferFacts], **options: Any) -> dict[str, list[KeywordScore]]:
        return score_keywords((f.sample for f in facts), seller_keywords=self.store.all_keywords(), **options)

    def review(
        self, account: str, client: ListingsAllegro, *, category: str | None = None, descriptions: bool = True
    ) -> list[Proposal]:
        """Proposals for every offer with a shop product, biggest expected gain first; stored for `apply`."""
        facts = self.facts(client)
        scores = self.keyword_scores(facts)
        proposals = []
        for fact in facts:
            if category not in (None, fact.sample.category_id):
                continue
            proposal = self._propose(
                account, client, fact, scores.get(fact.sample.category_id, []), descriptions
            )
            if proposal is not None:
                proposals.append(proposal)
        proposals.sort(key=lambda p: (-p.expected_gain, -len(p.issues), p.offer_id))
        self.store.save_proposals(account, proposals)
        return proposals

    def _propose(
        self,
        account: str,
        client: ListingsAllegro,
        fact: OfferFacts,
        scores: Sequence[KeywordScore],
        descriptions: bool,
    ) -> Proposal | None:
        upsert = fact.product.upsert if fact.product else None
        if upsert is None:
            return None
        attributes = upsert.attributes
        key_params = dict(list(attributes.items())[:MAX_KEY_PARAMS])
        title = optimize_title(
            current=fact.sample.title,
            name=upsert.name,
            brand=_pick(attributes, BRAND_KEYS),
            model=_pick(attributes, MODEL_KEYS),
            params=attributes,
            scores=scores,
        )
        issues: list[Issue] = []
        fixed: dict[str, Any] | None = None
        offer: dict[str, Any] | None = None
        if descriptions:
            try:
                offer = client.get_product_offer(fact.sample.offer_id).model_dump(mode="json", by_alias=True)
            except AllegroError as error:  # one unreadable offer must not stop the review of the others
                issues = [Issue("empty", "warning", f"description not checked: {error}")]
        if offer is not None:
            images = [str(u) for u in offer.get("images") or []]
            issues = check_offer_description(
                offer.get("description"), offer_images=images, key_params=key_params
            )
            if issues:
                result = fix_description(
                    upsert.description_html,
                    headline=title.proposed,
                    key_params=key_params,
                    offer_images=images,
                )
                fixed = result.description.model_dump(mode="json") if result.description.sections else None
        if not title.changed and fixed is None:
            return None
        return Proposal(
            account=account,
            offer_id=fact.sample.offer_id,
            sku=fact.sku,
            category_id=fact.sample.category_id,
            current_title=fact.sample.title,
            proposed_title=title.proposed,
            expected_gain=title.expected_gain,
            reasons=title.reasons,
            issues=tuple(f"{i.severity}: {i.message}" for i in issues),
            description=fixed,
        )

    def apply(
        self,
        account: str,
        client: ListingsAllegro,
        offer_id: str,
        *,
        title: bool = True,
        description: bool = True,
    ) -> Change:
        """Push a stored proposal (PATCH name and/or description) and record it; refuses a stale proposal."""
        proposal = self.store.proposal(account, offer_id)
        if proposal is None:
            raise LookupError(f"no proposal for offer {offer_id} on {account}: run `listings review` first")
        return self._push(client, proposal, title=title, description=description, action="listing")

    def _push(
        self,
        client: ListingsAllegro,
        proposal: Proposal,
        *,
        title: bool,
        description: bool,
        action: str,
        reason: str = "",
    ) -> Change:
        now = client.get_product_offer(proposal.offer_id).model_dump(mode="json", by_alias=True)
        if now.get("name") != proposal.current_title:
            raise ValueError(
                f"offer {proposal.offer_id} is now titled {now.get('name')!r}, "
                f"not {proposal.current_title!r} as reviewed: run `listings review` again"
            )
        body: dict[str, Any] = {}
        changes: dict[str, dict[str, Any]] = {}
        if title and proposal.title_changed:
            body["name"] = proposal.proposed_title
            changes["name"] = {"old": proposal.current_title, "new": proposal.proposed_title}
        if description and proposal.description is not None:
            body["description"] = proposal.description
            old = now.get("description")
            changes["description"] = {
                "old": _text(old),
                "new": _text(proposal.description),
            }
        if not body:
            raise ValueError(f"nothing to change on offer {proposal.offer_id}")
        client.patch_product_offer(proposal.offer_id, body)
        why = reason or "listing optimization: " + (
            "; ".join(proposal.reasons) or "; ".join(proposal.issues) or "reviewed proposal"
        )
        change = Change(
            sku=proposal.sku or f"offer:{proposal.offer_id}",
            account=proposal.account,
            offer_id=proposal.offer_id,
            action=action,
            changes=changes,
            reason=why,
            rule=f"expected gain {proposal.expected_gain:+.0%}",
            at=self.clock().isoformat(),
        )
        self.changes.record(change)
        return change

    def start_experiment(
        self, account: str, client: ListingsAllegro, *, category: str, share: float
    ) -> tuple[Experiment, list[Change]]:
        """Change the titles of a deterministic `share` of the category's offers; the rest is the control."""
        if not 0 < share < 1:
            raise ValueError("share must be between 0 and 1 (exclusive): both groups need offers")
        started = self.clock()
        experiment_id = f"{category}-{started.strftime('%Y%m%dT%H%M%S')}"
        proposals = {
            p.offer_id: p for p in self.review(account, client, category=category, descriptions=False)
        }
        facts = [f for f in self.facts(client) if f.sample.category_id == category]
        treatment: dict[str, dict[str, Any]] = {}
        control: dict[str, int] = {}
        applied = []
        for fact in facts:
            offer_id = fact.sample.offer_id
            proposal = proposals.get(offer_id)
            if not in_treatment(offer_id, share, salt=category):
                control[offer_id] = fact.sample.visits
            elif proposal is not None and proposal.title_changed:
                applied.append(
                    self._push(
                        client,
                        proposal,
                        title=True,
                        description=False,
                        action="listing-experiment",
                        reason=f"A/B experiment {experiment_id}: " + "; ".join(proposal.reasons),
                    )
                )
                treatment[offer_id] = {
                    "old": proposal.current_title,
                    "new": proposal.proposed_title,
                    "visits": fact.sample.visits,
                }
        if not treatment or not control:
            raise ValueError(
                f"category {category}: {len(treatment)} offer(s) to change and {len(control)} to compare; "
                "an experiment needs both"
            )
        experiment = Experiment(
            experiment_id, account, category, share, started.isoformat(), treatment, control
        )
        self.store.save_experiment(experiment)
        return experiment, applied

    def report(self, client: ListingsAllegro, experiment_id: str) -> ExperimentReport:
        """Mean visits gained per offer since the start, changed titles vs. unchanged ones."""
        experiment = self.store.experiment(experiment_id)
        if experiment is None:
            raise LookupError(f"no experiment {experiment_id!r}")
        ids = [*experiment.treatment, *experiment.control]
        visits = {
            o.id: (o.stats.visits_count or 0) if o.stats else 0 for o in client.iter_offers() if o.id in ids
        }
        t = [visits.get(i, 0) - int(v["visits"]) for i, v in experiment.treatment.items() if i in visits]
        c = [visits.get(i, 0) - v for i, v in experiment.control.items() if i in visits]
        days = (self.clock() - datetime.fromisoformat(experiment.started_at)).total_seconds() / 86400
        return ExperimentReport(
            experiment,
            days,
            sum(t) / len(t) if t else 0.0,
            sum(c) / len(c) if c else 0.0,
            len(t),
            len(c),
        )


def _text(description: Any) -> str:
    from allegro_sync.contracts.offer_content import Description

    if not isinstance(description, Mapping):
        return ""
    try:
        return description_text(Description.model_validate(description))[:500]
    except ValueError:
        return ""
