"""EU product safety (GPSR): Allegro's responsible producers and persons, and the seller's brand mapping.

Allegro keeps a private list of responsible producers (and persons) per seller account (#10212): an offer
names one by `id` (or by its `name`, which Allegro refuses when the account has none by that name, #10896).
Shapes: spec CreateResponsibleProducerRequest / ResponsibleProducerResponse and their person counterparts.
`ProducerMapping` is the seller's own record (`allegro-sync producers map`): which producer, and which
responsible person and safety text, go on the offers of one brand.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from allegro_sync.contracts.allegro import AllegroRequest, AllegroResponse

# The countries a responsible person may be in (spec ResponsiblePersonAddress.countryCode): the EU.
EU_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR GR ES IE LT LU LV MT NL DE PL PT RO SK SI SE HU IT".split()  # noqa: SIM905
)


class Address(AllegroRequest):
    """ResponsibleProducerAddress / ResponsiblePersonAddress."""

    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    street: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)


class Contact(AllegroRequest):
    """ResponsibleProducerContact: at least one of `email` or `form_url`."""

    email: str | None = Field(default=None, max_length=50)
    phone_number: str | None = Field(default=None, max_length=30)
    form_url: str | None = Field(default=None, max_length=80)


class ProducerData(AllegroRequest):
    trade_name: str = Field(min_length=1, max_length=200)
    address: Address
    contact: Contact


class PersonData(AllegroRequest):
    name: str = Field(min_length=1, max_length=200)
    address: Address
    contact: Contact


class NewResponsibleProducer(AllegroRequest):
    """CreateResponsibleProducerRequest: `name` is the seller's internal name (<= 50), unique per account."""

    name: str = Field(min_length=1, max_length=50)
    producer_data: ProducerData


class NewResponsiblePerson(AllegroRequest):
    """CreateResponsiblePersonRequest."""

    name: str = Field(min_length=1, max_length=50)
    personal_data: PersonData


class ResponsibleEntity(AllegroResponse):
    """ResponsibleProducerResponse / ResponsiblePersonResponse: what the offer needs is `id` and `name`."""

    id: str
    name: str = ""


class _Page(AllegroResponse):
    count: int = 0
    total_count: int = 0


class ResponsibleProducers(_Page):
    responsible_producers: list[ResponsibleEntity] = Field(default_factory=list)

    def entries(self) -> list[ResponsibleEntity]:
        return self.responsible_producers


class ResponsiblePersons(_Page):
    responsible_persons: list[ResponsibleEntity] = Field(default_factory=list)

    def entries(self) -> list[ResponsibleEntity]:
        return self.responsible_persons


class ProducerMapping(BaseModel):
    """The seller's brand -> GPSR data (`producers map`); `account` "*" applies to every account.

    `producer` is created on each account once (looked up by its name first); `person` is needed when the
    producer is outside the EU; `safety_text` goes on the brand's offers whose product has none of its own.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    brand: str = Field(min_length=1, max_length=200)
    account: str = "*"
    producer: NewResponsibleProducer
    person: NewResponsiblePerson | None = None
    safety_text: str | None = Field(default=None, max_length=5000)
    updated_at: str = ""


# --- issue 16 (gpsr2): safety information as an attachment (/sale/offer-attachments) --------------------


class AttachmentFile(AllegroResponse):
    name: str = ""
    url: str | None = None  # set once the file is uploaded (#12075)


class OfferAttachment(AllegroResponse):
    """Spec OfferAttachment: the POST answers it (with the upload URL in `Location`), the PUT too."""

    id: str
    type: str = ""
    file: AttachmentFile | None = None


class SafetyFile(BaseModel):
    """A safety-information file the shop gives (by URL), as read: what is uploaded to Allegro."""

    model_config = ConfigDict(frozen=True)

    name: str
    media_type: str
    data: bytes


class SafetyFileUnusable(Exception):
    """The shop's safety-information file cannot be used (gone, not PDF/JPEG/PNG, too large): the seller
    must fix the product; a retry would not help."""
