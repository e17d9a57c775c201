"""Items of the `mappings` table: the seller's configuration (the worker reads it, the CLI writes it).

Layout (string keys `pk`, `sk`):
- category mapping:  pk="category#<account or *>", sk="path#<A > B > C>"   `CategoryMappingItem`
- pricing rule:      pk="pricing", sk="rule#<account or *>#<category id or *>"   `PricingRuleItem`
- repricing setting: pk="reprice#settings", sk="<account|*>#<category|*>#<sku|*>"   `RepricingSettingsItem`
- keywords:          pk="listing#keywords", sk=<category id>   `KeywordsItem`
- proposal:          pk="listing#proposal#<account>", sk=<offer id>   `ProposalItem`
- experiment:        pk="listing#experiment", sk=<experiment id>   `ExperimentItem`
- producer mapping:  pk="producer#<account or *>", sk="brand#<brand, casefolded>"   `ProducerMappingItem`
- marketplace rule:  pk="market", sk="rule#<account|*>#<category|*>#<sku|*>#<marketplace>"   `PricingRuleItem`
Structured values are JSON strings of their models (`domain.pricing.ScopedRule`,
`domain.repricing.RepricingSettings`, `contracts.listings.Proposal` / `Experiment`,
`contracts.gpsr.ProducerMapping`).
"""

from __future__ import annotations

from pydantic import Field

from allegro_sync.contracts.catalog import ANY_ACCOUNT
from allegro_sync.contracts.records.item import Item


class CategoryMappingItem(Item):
    """A category mapping for every account or one (`contracts.catalog.StoredMapping`)."""

    account: str = ANY_ACCOUNT
    mapping: str  # JSON of `contracts.catalog.CategoryMapping`; its `approved` is the truth
    status: str = ""  # APPROVED | PENDING, for reading in the console
    category_name: str = ""
    category_path: list[str] = Field(default_factory=list)
    note: str = ""
    updated_at: str = ""


class PricingRuleItem(Item):
    rule: str  # JSON of `domain.pricing.ScopedRule`


class RepricingSettingsItem(Item):
    settings: str  # JSON of `domain.repricing.RepricingSettings` (defaults left out)


class KeywordsItem(Item):
    words: str  # JSON list of the seller's keywords for the category


class ProposalItem(Item):
    body: str  # JSON of `contracts.listings.Proposal`: what `apply` pushes is exactly what was shown


class ExperimentItem(Item):
    body: str  # JSON of `contracts.listings.Experiment`


class ProducerMappingItem(Item):
    body: str  # JSON of `contracts.gpsr.ProducerMapping`
