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
        found: list[ResponsibleEntity] = []
        while True:
            page = self._get(
                "/sale/responsible-producers",
                ResponsibleProducers,
                {"offset": len(found), "limit": LIST_LIMIT},
            )
            found.extend(page.responsible_producers)
            if not page.responsible_producers or len(found) >= page.total_count:
                return found

    def create_responsible_producer(self, producer: NewResponsibleProducer) -> ResponsibleEntity:
        response = self.request("POST", "/sale/responsible-producers", json_body=producer.to_json())
        return ResponsibleEntity.model_validate(response.json())

    def responsible_persons(self) -> list[ResponsibleEntity]:
        found: list[ResponsibleEntity] = []
        while True:
            page = self._get(
                "/sale/responsible-persons", ResponsiblePersons, {"offset": len(found), "limit": LIST_LIMIT}
            )
            found.extend(page.responsible_persons)
            if not page.responsible_persons or len(found) >= page.total_count:
                return found

    def create_responsible_person(self, person: NewResponsiblePerson) -> ResponsibleEntity:
        response = self.request("POST", "/sale/responsible-persons", json_body=person.to_json())
        return ResponsibleEntity.model_validate(response.json())


__all__ = ["GpsrApi"]
