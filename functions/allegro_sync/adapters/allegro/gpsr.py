"""/sale/responsible-producers and /sale/responsible-persons: the seller's GPSR dictionary on Allegro.

A create (POST) is not repeated by the client after a possibly delivered attempt: the caller looks the
name up first (`services/publishing/gpsr.py`), so a lost answer is found on the next try, not doubled.
"""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore
from allegro_sync.contracts.gpsr import (
    NewResponsiblePerson,
    NewResponsibleProducer,
    ResponsibleEntity,
    ResponsiblePersons,
    ResponsibleProducers,
)

LIST_LIMIT = 1000  # spec: limit 1..1000


class GpsrApi(AllegroCore):
    def responsible_producers(self) -> list[ResponsibleEntity]:
        """Every responsible producer of the account (pages of 1000)."""
        return self._every("/sale/responsible-producers", ResponsibleProducers)

    def create_responsible_producer(self, producer: NewResponsibleProducer) -> ResponsibleEntity:
        response = self.request("POST", "/sale/responsible-producers", json_body=producer.to_json())
        return ResponsibleEntity.model_validate(response.json())

    def responsible_persons(self) -> list[ResponsibleEntity]:
        return self._every("/sale/responsible-persons", ResponsiblePersons)

    def create_responsible_person(self, person: NewResponsiblePerson) -> ResponsibleEntity:
        response = self.request("POST", "/sale/responsible-persons", json_body=person.to_json())
        return ResponsibleEntity.model_validate(response.json())

    def _every(
        self, path: str, model: type[ResponsibleProducers] | type[ResponsiblePersons]
    ) -> list[ResponsibleEntity]:
        found: list[ResponsibleEntity] = []
        while True:
            page = self._get(path, model, {"offset": len(found), "limit": LIST_LIMIT})
            entries = page.entries()
            found.extend(entries)
            if not entries or len(found) >= page.total_count:
                return found
