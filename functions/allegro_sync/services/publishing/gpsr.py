"""The EU product-safety (GPSR) data of one product on one account: producer, person, safety information.

Where it comes from, first match wins:
- producer: the seller's mapping for the product's producer or brand attribute (`producers map`), created on
  the account once; else a producer the account already has under that name (Sales Center); else the
  seller-wide default of the offer settings;
- responsible person: the mapping's (needed when the producer is outside the EU); else the settings' default;
- safety information: the product's own file (a URL in a 'Safety information file' attribute, or a bare URL
  as its 'Safety information'), uploaded once per account as an attachment; else the product's own text
  attribute; else the mapping's text; else the settings' text.

A product naming a producer nobody set up, or lacking a producer while the settings require one, waits with
the command that fixes it (`Waiting`). Ids are cached per account (`GpsrIds`) and looked up by name before
any create, so a create whose answer was lost is found by the retry instead of made twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Literal, Protocol, cast

from allegro_sync.contracts.allegro_requests import (
    AttachmentRef,
    AttachmentsSafetyInformation,
    ProductSafety,
    ResponsiblePerson,
    ResponsibleProducer,
    SafetyInformation,
)
from allegro_sync.contracts.gpsr import (
    EU_COUNTRIES,
    NewResponsiblePerson,
    NewResponsibleProducer,
    OfferAttachment,
    ProducerMapping,
    ResponsibleEntity,
    SafetyFile,
    SafetyFileUnusable,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.services.publishing.outcomes import Waiting
from allegro_sync.services.publishing.settings import OfferSettings

# Shop attribute names (case-insensitive) the GPSR data is read from: the generic contract's and
# WooCommerce's usual ones, Polish and English.
PRODUCER_ATTRIBUTES = (
    "producent odpowiedzialny",
    "responsible producer",
    "producer",
    "producent",
    "manufacturer",
)
BRAND_ATTRIBUTES = ("marka", "brand")
SAFETY_ATTRIBUTES = ("informacje o bezpieczeństwie", "safety information", "safety")
SAFETY_FILE_ATTRIBUTES = (
    "plik informacji o bezpieczeństwie",
    "instrukcja bezpieczeństwa",
    "safety information file",
    "safety manual",
)

Kind = Literal["producer", "person", "attachment"]


class ProducerDirectory(Protocol):
    """The seller's brand -> producer mappings (`adapters/dynamodb/gpsr.py`)."""

    def producer_mappings(self, account: str) -> list[ProducerMapping]: ...


class GpsrIds(Protocol):
    """Allegro ids already known per account, kind and name."""

    def get(self, account: str, kind: Kind, name: str) -> str | None: ...

    def put(self, account: str, kind: Kind, name: str, ident: str) -> None: ...


class GpsrClient(Protocol):
    """The Allegro calls GPSR needs (`AllegroClient` implements them)."""

    def responsible_producers(self) -> list[ResponsibleEntity]: ...

    def create_responsible_producer(self, producer: NewResponsibleProducer) -> ResponsibleEntity: ...

    def responsible_persons(self) -> list[ResponsibleEntity]: ...

    def create_responsible_person(self, person: NewResponsiblePerson) -> ResponsibleEntity: ...

    def upload_safety_manual(self, file: SafetyFile) -> OfferAttachment: ...


class SafetyFiles(Protocol):
    """Reads a safety-information file the shop gives by URL (`adapters/safety_files.py`); raises
    `SafetyFileUnusable` for what only the seller can fix, anything else to be retried."""

    def fetch(self, url: str) -> SafetyFile: ...


def _attribute(attributes: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    found = {k.strip().casefold(): v.strip() for k, v in attributes.items() if v.strip()}
    return next((found[n] for n in names if n in found), None)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class GpsrResolver:
    def __init__(
        self,
        settings: OfferSettings,
        directory: ProducerDirectory | None,
        ids: GpsrIds | None,
        cached: Callable[[str, Callable[[], list[ProducerMapping]]], list[ProducerMapping]],
        *,
        known: dict[tuple[str, Kind, str], str] | None = None,
        files: SafetyFiles | None = None,
    ) -> None:
        """`known`: ids this process already saw (a warm Lambda skips the `GpsrIds` read).
        `files`: reads the shop's safety-information files (None: a file attribute makes the product wait)."""
        self._files = files
        self._known = known if known is not None else {}
        self._settings = settings
        self._directory = directory
        self._ids = ids
        self._cached = cached

    def safety(self, client: object, account: str, event: ProductUpsert) -> ProductSafety:
        """The product's GPSR data on `account`; raises Waiting when what Allegro needs is missing."""
        named = _attribute(event.attributes, PRODUCER_ATTRIBUTES)
        brand = _attribute(event.attributes, BRAND_ATTRIBUTES)
        mapping = self._mapping(account, [k for k in (named, brand) if k])
        text = _attribute(event.attributes, SAFETY_ATTRIBUTES)
        file_url = _attribute(event.attributes, SAFETY_FILE_ATTRIBUTES)
        if file_url is None and text is not None and _is_url(text):
            file_url, text = text, None
        default = self._settings.product_safety()
        producer, person = default.responsible_producer, default.responsible_person
        gpsr = cast(GpsrClient, client)
        if mapping is not None:
            producer = ResponsibleProducer(
                type="ID", id=self._find_or_create(gpsr, account, "producer", mapping)
            )
            if mapping.person is not None:
                person = ResponsiblePerson(id=self._find_or_create(gpsr, account, "person", mapping))
            elif mapping.producer.producer_data.address.country_code not in EU_COUNTRIES and person is None:
                raise Waiting(
                    [
                        f"the responsible producer for brand {mapping.brand!r} is outside the EU and "
                        f"no responsible person is set (set one: allegro-sync producers map "
                        f"{mapping.brand!r} ... --person-name NAME ...)"
                    ]
                )
            text = text or mapping.safety_text
        elif named is not None:
            found = self._existing(gpsr, account, "producer", named)
            if found is None:
                raise Waiting([_no_producer(named, "producer")])
            producer = ResponsibleProducer(type="ID", id=found)
        elif producer is None and self._settings.require_responsible_producer:
            what = f"brand {brand!r}" if brand else "this product (it has no brand attribute)"
            raise Waiting([_no_producer(brand or "BRAND", "brand", what=what)])
        if file_url is not None:
            attachment = self._attachment(gpsr, account, file_url)
            return ProductSafety(
                responsible_producer=producer,
                responsible_person=person,
                safety_information=AttachmentsSafetyInformation(attachments=[AttachmentRef(id=attachment)]),
            )
        safety_text = text or self._settings.safety_information
        if self._settings.require_responsible_producer and not safety_text:
            raise Waiting(
                [
                    "no safety information (add a 'Safety information' attribute in the shop, or a "
                    "brand default: allegro-sync producers map BRAND ... --safety-text TEXT)"
                ]
            )
        return ProductSafety(
            responsible_producer=producer,
            responsible_person=person,
            safety_information=SafetyInformation(description=safety_text) if safety_text else None,
        )

    def _attachment(self, client: GpsrClient, account: str, url: str) -> str:
        """The id of the file at `url` on `account`: cached by URL, else read from the shop and uploaded.
        A new file needs a new URL (the shop's upload gives one); the same URL is uploaded once."""
        name = "url#" + hashlib.sha256(url.encode()).hexdigest()
        cached = self._known.get((account, "attachment", name))
        if cached is None and self._ids is not None:
            cached = self._ids.get(account, "attachment", name)
        if cached is not None:
            self._known[(account, "attachment", name)] = cached
            return cached
        fix = "fix the product's 'Safety information file' attribute in the shop"
        if self._files is None or not _is_url(url):
            raise Waiting([f"the safety information file {url!r} is not an http(s) address ({fix})"])
        try:
            file = self._files.fetch(url)
        except SafetyFileUnusable as error:
            raise Waiting([f"the safety information file {url!r} cannot be used: {error} ({fix})"]) from error
        made = client.upload_safety_manual(file)
        if self._ids is not None:
            self._ids.put(account, "attachment", name, made.id)
        self._known[(account, "attachment", name)] = made.id
        return made.id

    def _mapping(self, account: str, keys: list[str]) -> ProducerMapping | None:
        if self._directory is None or not keys:
            return None
        directory = self._directory
        mappings = self._cached(f"producers#{account}", lambda: directory.producer_mappings(account))
        for key in keys:
            own = [m for m in mappings if _key(m.brand) == _key(key)]
            own.sort(key=lambda m: m.account != account)  # the account's own before the shared one
            if own:
                return own[0]
        return None

    def _find_or_create(self, client: GpsrClient, account: str, kind: Kind, mapping: ProducerMapping) -> str:
        """The id of the mapping's producer (or person) on `account`: cached, else by name, else made."""
        if kind == "producer":
            name = mapping.producer.name
        else:
            assert mapping.person is not None
            name = mapping.person.name
        found = self._existing(client, account, kind, name)
        if found is not None:
            return found
        if kind == "producer":
            made = client.create_responsible_producer(mapping.producer)
        else:
            assert mapping.person is not None
            made = client.create_responsible_person(mapping.person)
        if self._ids is not None:
            self._ids.put(account, kind, name, made.id)
        self._known[(account, kind, name)] = made.id
        return made.id

    def _existing(self, client: GpsrClient, account: str, kind: Kind, name: str) -> str | None:
        """Cached, or listed on the account by its name (then cached)."""
        cached = self._known.get((account, kind, name))
        if cached is None and self._ids is not None:
            cached = self._ids.get(account, kind, name)
        if cached is not None:
            self._known[(account, kind, name)] = cached
            return cached
        listed = client.responsible_producers() if kind == "producer" else client.responsible_persons()
        match = next((e.id for e in listed if _key(e.name) == _key(name)), None)
        if match is not None:
            self._known[(account, kind, name)] = match
            if self._ids is not None:
                self._ids.put(account, kind, name, match)
        return match


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _no_producer(name: str, kind: str, *, what: str = "") -> str:
    subject = what or f"{kind} {name!r}"
    return (
        f"no responsible producer for {subject} (set one: allegro-sync producers map {name!r} "
        f"--name NAME --trade-name 'LEGAL NAME' --country PL --street ... --postal-code ... --city ... "
        f"--email ...)"
    )
