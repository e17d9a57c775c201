"""GPSR storage: the seller's brand -> producer mappings (`mappings` table, written by the CLI) and the
Allegro ids of producers/persons already on each account (`control` table, written by the publishing
functions).

Layouts: `contracts/records/mappings.py` (producer mapping) and `contracts/records/control.py` (GPSR id).
"""

from __future__ import annotations

from typing import Any, Literal

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.catalog import ANY_ACCOUNT
from allegro_sync.contracts.gpsr import ProducerMapping
from allegro_sync.contracts.records.control import GpsrIdItem
from allegro_sync.contracts.records.mappings import ProducerMappingItem

PRODUCER_PK = "producer#"
BRAND_SK = "brand#"


def brand_key(brand: str) -> str:
    """Brands match whatever their case or surrounding spaces in the shop."""
    return " ".join(brand.split()).casefold()


class DynamoProducerMappings:
    def __init__(self, table: Any) -> None:
        self._table = table

    def producer_mappings(self, account: str) -> list[ProducerMapping]:
        """The account's own mappings, then the ones for every account."""
        accounts = [account] if account == ANY_ACCOUNT else [account, ANY_ACCOUNT]
        found: list[dict[str, Any]] = []
        for scope in accounts:
            found.extend(
                items.all_items(
                    self._table.query,
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": PRODUCER_PK + scope},
                )
            )
        return [ProducerMapping.model_validate_json(ProducerMappingItem.from_item(i).body) for i in found]

    def put_producer_mapping(self, mapping: ProducerMapping) -> None:
        self._table.put_item(
            Item=ProducerMappingItem(
                pk=PRODUCER_PK + mapping.account,
                sk=BRAND_SK + brand_key(mapping.brand),
                body=mapping.model_dump_json(),
            ).item()
        )

    def delete_producer_mapping(self, brand: str, account: str = ANY_ACCOUNT) -> bool:
        """Whether there was one to delete."""
        answer = self._table.delete_item(
            Key={"pk": PRODUCER_PK + account, "sk": BRAND_SK + brand_key(brand)}, ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))


class DynamoGpsrIds:
    """Allegro ids of the account's responsible producers/persons, so each is created once per account."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, account: str, kind: Literal["producer", "person", "attachment"], name: str) -> str | None:
        item = self._table.get_item(Key={"pk": f"gpsr#{account}", "sk": f"{kind}#{name}"}).get("Item")
        return GpsrIdItem.from_item(item).id if item else None

    def put(
        self, account: str, kind: Literal["producer", "person", "attachment"], name: str, ident: str
    ) -> None:
        self._table.put_item(Item=GpsrIdItem(pk=f"gpsr#{account}", sk=f"{kind}#{name}", id=ident).item())
