"""The seller's foreign-marketplace rules (issue 16, item 1) in the `mappings` table.

Layout: pk="market", sk="rule#<account or *>#<category id or *>#<sku or *>#<marketplace>", one
`PricingRuleItem` whose `rule` is the JSON of `domain.market_pricing.ScopedMarketRule`. The CLI
(`markets set|remove`) writes them; the publishing functions read them (one query for all).
"""

from __future__ import annotations

from typing import Any

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.records.mappings import PricingRuleItem
from allegro_sync.domain.market_pricing import ScopedMarketRule

MARKET_PK = "market"


class DynamoMarketRules:
    def __init__(self, table: Any) -> None:
        self._table = table

    def market_rules(self) -> list[ScopedMarketRule]:
        found = items.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": MARKET_PK},
        )
        return [ScopedMarketRule.model_validate_json(PricingRuleItem.from_item(i).rule) for i in found]

    def put_market_rule(self, scoped: ScopedMarketRule) -> None:
        self._table.put_item(
            Item=PricingRuleItem(pk=MARKET_PK, sk=_sk(scoped.key), rule=scoped.model_dump_json()).item()
        )

    def delete_market_rule(self, key: tuple[str, str, str, str]) -> bool:
        """Whether there was one to delete."""
        answer = self._table.delete_item(Key={"pk": MARKET_PK, "sk": _sk(key)}, ReturnValues="ALL_OLD")
        return bool(answer.get("Attributes"))


def _sk(key: tuple[str, str, str, str]) -> str:
    return "rule#" + "#".join(key)


class RepricingMarkets(DynamoMarketRules):
    """What the repricer needs of the marketplace rules (issue 16): the rules, and per Allegro leaf category
    its path from the seller's category mappings (a rule may name a parent category). Two Queries a round,
    and only when a rule exists."""

    def category_paths(self, account: str) -> dict[str, tuple[str, ...]]:
        from allegro_sync.adapters.dynamodb.mappings import DynamoMappings

        paths: dict[str, tuple[str, ...]] = {}
        for stored in DynamoMappings(self._table).category_mappings(account):
            leaf = stored.mapping.allegro_category_id
            paths.setdefault(leaf, stored.category_path or (leaf,))
        return paths
