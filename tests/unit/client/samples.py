"""Typed offer content with every GPSR and description field filled, for the tests of what the client
sends."""

from __future__ import annotations

from allegro_sync.contracts.allegro import ChangeByPercentage, PriceAutomationRuleRequest, RuleConfiguration
from allegro_sync.contracts.allegro_requests import (
    ProductSafety,
    ResponsiblePerson,
    ResponsibleProducer,
    SafetyInformation,
)
from allegro_sync.contracts.offer_content import (
    Description,
    DescriptionSection,
    ImageItem,
    OfferParameter,
    TextItem,
)

IMAGE = "https://a.allegroimg.com/original/1"
CONDITION = OfferParameter(id="11323", values_ids=["11323_1"])
BRAND = OfferParameter(id="248811", values=["Sony"])
SAFETY = ProductSafety(
    responsible_producer=ResponsibleProducer(type="NAME", name="Sony Europe"),
    responsible_person=ResponsiblePerson(id="33960380-98fe-4b3d-b69e-b261526f2730"),
    safety_information=SafetyInformation(description="Trzymać z dala od wody."),
)
DESCRIPTION = Description(
    sections=[DescriptionSection(items=[TextItem(content="<p>Cisza.</p>"), ImageItem(url=IMAGE)])]
)
# A rule that follows the market's lowest price minus 1 %.
MARKET_MINUS_ONE = PriceAutomationRuleRequest(
    name="Rynek minus 1 procent",
    type="FOLLOW_BY_MARKET_MIN_PRICE",
    configuration=RuleConfiguration(change_by_percentage=ChangeByPercentage(operation="SUBTRACT", value="1")),
)
