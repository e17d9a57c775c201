"""The seller's offer settings: EU product-safety data and the defaults of every new offer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.allegro_requests import (
    ProductSafety,
    ResponsiblePerson,
    ResponsibleProducer,
    SafetyInformation,
)

"""Env var carrying `OfferSettings` as JSON (CDK: `-c offerSettingsFile=offer-settings.json`)."""


class OfferSettings(BaseModel):
    """Seller-wide offer settings from configuration (env `OFFER_SETTINGS`, JSON; see the handler).

    EU product-safety (GPSR) data lives on `productSet[]` of an offer (spec: ProductSetElement*Request):
    `responsible_producer` is `{"type": "ID", "id": ...}` or `{"type": "NAME", "name": ...}` (defined in
    Allegro's Responsible Producers API), `responsible_person` is `{"id": ...}` or `{"name": ...}`,
    `safety_information` a plain text (<= 5000 characters). These three are the seller-wide defaults: a
    product's own producer, person and text (`services/publishing/gpsr.py`) win. With
    `require_responsible_producer`, a product with no producer or no safety text waits instead of being
    listed without them. `offer_defaults` is merged into every new offer body: delivery (`shippingRates`),
    `location`, `afterSalesServices`, `payments`.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    responsible_producer: ResponsibleProducer | None = None
    responsible_person: ResponsiblePerson | None = None
    safety_information: str | None = Field(default=None, max_length=5000)
    require_responsible_producer: bool = False
    offer_defaults: dict[str, Any] = {}

    def product_safety(self) -> ProductSafety:
        """The GPSR data every offer's product carries (an empty person or text is left out)."""
        person = self.responsible_person
        return ProductSafety(
            responsible_producer=self.responsible_producer,
            responsible_person=person if person is not None and (person.id or person.name) else None,
            safety_information=(
                SafetyInformation(description=self.safety_information) if self.safety_information else None
            ),
        )

    def product_set_extras(self) -> dict[str, Any]:
        """The GPSR fields of a `productSet[]` element as Allegro receives them."""
        return self.product_safety().to_json()
