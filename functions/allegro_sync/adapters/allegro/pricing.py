"""Price automation (Allegro follows the competition within the seller's bounds) and the fee preview."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from allegro_sync.adapters.allegro.commands import CommandsApi
from allegro_sync.adapters.allegro.core import _dump, _segment
from allegro_sync.contracts.allegro import (
    AutomaticPricingModification,
    Badge,
    Badges,
    FeePreview,
    IdRefIn,
    OfferAutomaticPricingCommand,
    OfferCommandResult,
    OfferRuleConfiguration,
    OfferRules,
    PriceAutomationRule,
    PriceAutomationRuleRequest,
    PriceAutomationRules,
    PriceRange,
    RuleRemoveEntry,
    RuleSetEntry,
)
from allegro_sync.contracts.allegro_errors import InvalidCommand


class PricingApi(CommandsApi):
    """/sale/price-automation/*, /sale/offer-price-automation-commands and /pricing/offer-fee-preview."""

    def price_automation_rules(self) -> list[PriceAutomationRule]:
        return self._get("/sale/price-automation/rules", PriceAutomationRules).rules

    def price_automation_rule(self, rule_id: str) -> PriceAutomationRule:
        return self._get(f"/sale/price-automation/rules/{_segment(rule_id)}", PriceAutomationRule)

    def create_price_automation_rule(self, rule: PriceAutomationRuleRequest) -> PriceAutomationRule:
        response = self.request("POST", "/sale/price-automation/rules", json_body=_dump(rule))
        return PriceAutomationRule.model_validate(response.json())

    def offer_price_automation_rules(self, offer_id: str) -> OfferRules:
        return self._get(f"/sale/price-automation/offers/{_segment(offer_id)}/rules", OfferRules)

    def assign_price_automation(
        self,
        offer_ids: Iterable[str],
        rule_id: str,
        price_range: PriceRange,
        *,
        marketplace_id: str = "allegro-pl",
    ) -> list[OfferCommandResult]:
        """Let Allegro follow the competition for these offers, never leaving the price range."""
        low, high = price_range.min_price, price_range.max_price
        if low.currency != high.currency or float(low.amount) > float(high.amount):
            raise InvalidCommand(f"price range {low.amount}..{high.amount} is not a valid range")
        entry = RuleSetEntry(
            marketplace=IdRefIn(id=marketplace_id),
            rule=IdRefIn(id=rule_id),
            configuration=OfferRuleConfiguration(price_range=price_range),
        )
        return self._price_automation_command(offer_ids, AutomaticPricingModification(set=[entry]))

    def remove_price_automation(
        self, offer_ids: Iterable[str], *, marketplace_id: str = "allegro-pl"
    ) -> list[OfferCommandResult]:
        modification = AutomaticPricingModification(
            remove=[RuleRemoveEntry(marketplace=IdRefIn(id=marketplace_id))]
        )
        return self._price_automation_command(offer_ids, modification)

    def _price_automation_command(
        self, offer_ids: Iterable[str], modification: AutomaticPricingModification
    ) -> list[OfferCommandResult]:
        return self._run_commands(
            "offer-price-automation-commands",
            offer_ids,
            OfferAutomaticPricingCommand,
            post=True,
            modification=modification,
        )

    def offer_fee_preview(self, body: Mapping[str, Any]) -> FeePreview:
        """POST /pricing/offer-fee-preview: read-only, so safe to repeat."""
        response = self.request("POST", "/pricing/offer-fee-preview", json_body=dict(body), idempotent=True)
        return FeePreview.model_validate(response.json())

    # --- issue 14, item 7 (allegro-misc) ---

    def campaign_badges(self, *, marketplace_id: str = "allegro-pl") -> list[Badge]:
        """Every badge on the seller's offers (GET /sale/badges, 1000 a page): where campaign prices show."""
        found: list[Badge] = []
        while True:
            params = {"marketplace.id": marketplace_id, "limit": 1000, "offset": len(found)}
            page = self._get("/sale/badges", Badges, params).badges
            found.extend(page)
            if len(page) < 1000:
                return found
