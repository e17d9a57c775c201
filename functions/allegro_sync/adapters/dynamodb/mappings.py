"""Category mappings and pricing rules in the `mappings` table.

Layout (string keys):
- category mapping: pk="category#<account or *>", sk="path#<A > B > C>" — one Query per account gives
  its own mappings, a second the shared ones (`*`);
- pricing rule:     pk="pricing", sk="rule#<account or *>#<category id or *>" — `domain.pricing.ScopedRule`
  as JSON; all rules fit one partition (a seller has a handful), read in one Query.
The worker only reads this table; the CLI (`mappings set|approve|suggest`, `pricing set`) writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.catalog import ANY_ACCOUNT, CATEGORY_SEPARATOR, CategoryMapping, StoredMapping
from allegro_sync.contracts.records.mappings import CategoryMappingItem, PricingRuleItem
from allegro_sync.domain.pricing import ScopedRule

CATEGORY_PK = "category#"
PATH_SK = "path#"
PRICING_PK = "pricing"
RULE_SK = "rule#"


class MappingNotFound(LookupError):
    def __init__(self, path: Sequence[str], account: str) -> None:
        scope = "every account" if account == ANY_ACCOUNT else f"account {account!r}"
        super().__init__(f"no category mapping for {CATEGORY_SEPARATOR.join(path)!r} ({scope})")


class DynamoMappings:
    """`MappingsRepository` plus the writes the CLI needs."""

    def __init__(self, table: Any) -> None:
        self._table = table

    # -- category mappings ------------------------------------------------------------------------

    def category_mappings(self, account: str) -> list[StoredMapping]:
        accounts = [account] if account == ANY_ACCOUNT else [account, ANY_ACCOUNT]
        return [m for a in accounts for m in self._query(CATEGORY_PK + a)]

    def all_category_mappings(self) -> list[StoredMapping]:
        """Every mapping of every account (`mappings list`). A scan: the table is small."""
        found = (i for i in items.all_items(self._table.scan) if str(i["pk"]).startswith(CATEGORY_PK))
        return sorted((_mapping(i) for i in found), key=lambda m: (m.label, m.account))

    def put_mapping(self, stored: StoredMapping) -> None:
        """Create or replace the mapping of (shop path, account); the domain model has validated it."""
        self._table.put_item(Item=_mapping_item(stored))

    def get_mapping(self, shop_path: Sequence[str], account: str = ANY_ACCOUNT) -> StoredMapping | None:
        item = self._table.get_item(
            Key={"pk": CATEGORY_PK + account, "sk": PATH_SK + CATEGORY_SEPARATOR.join(shop_path)},
            ConsistentRead=True,
        ).get("Item")
        return _mapping(item) if item else None

    def set_approved(
        self, shop_path: Sequence[str], approved: bool, *, account: str = ANY_ACCOUNT, at: str = ""
    ) -> StoredMapping:
        """Approve (or send back to PENDING) an existing mapping; raises MappingNotFound."""
        current = self.get_mapping(shop_path, account)
        if current is None:
            raise MappingNotFound(shop_path, account)
        mapping = current.mapping.model_copy(update={"approved": approved})
        try:
            answer = self._table.update_item(
                Key={"pk": CATEGORY_PK + account, "sk": PATH_SK + CATEGORY_SEPARATOR.join(shop_path)},
                UpdateExpression="SET #s = :s, mapping = :m, updated_at = :at",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": "APPROVED" if approved else "PENDING",
                    ":m": mapping.model_dump_json(),
                    ":at": at,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if items.condition_failed(error):
                raise MappingNotFound(shop_path, account) from error
            raise
        return _mapping(answer["Attributes"])

    def delete_mapping(self, shop_path: Sequence[str], account: str = ANY_ACCOUNT) -> None:
        self._table.delete_item(
            Key={"pk": CATEGORY_PK + account, "sk": PATH_SK + CATEGORY_SEPARATOR.join(shop_path)}
        )

    def _query(self, pk: str) -> list[StoredMapping]:
        found = items.all_items(
            self._table.query, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": pk}
        )
        return [_mapping(i) for i in found]

    # -- pricing rules ----------------------------------------------------------------------------

    def pricing_rules(self) -> list[ScopedRule]:
        page = self._table.query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": PRICING_PK}
        )
        return [
            ScopedRule.model_validate_json(PricingRuleItem.from_item(i).rule) for i in page.get("Items", [])
        ]

    def put_pricing_rule(self, scoped: ScopedRule) -> None:
        self._table.put_item(
            Item=PricingRuleItem(
                pk=PRICING_PK,
                sk=_rule_sk(scoped.account_id, scoped.category_id),
                rule=scoped.model_dump_json(),
            ).item()
        )

    def delete_pricing_rule(self, account: str | None, category_id: str | None) -> None:
        self._table.delete_item(Key={"pk": PRICING_PK, "sk": _rule_sk(account, category_id)})


def _rule_sk(account: str | None, category_id: str | None) -> str:
    return f"{RULE_SK}{account or ANY_ACCOUNT}#{category_id or ANY_ACCOUNT}"


def _mapping_item(stored: StoredMapping) -> dict[str, Any]:
    return CategoryMappingItem(
        pk=CATEGORY_PK + stored.account,
        sk=PATH_SK + stored.label,
        account=stored.account,
        mapping=stored.mapping.model_dump_json(),
        status=stored.status,
        category_name=stored.category_name,
        category_path=list(stored.category_path),
        note=stored.note,
        updated_at=stored.updated_at,
    ).item()


def _mapping(raw: dict[str, Any]) -> StoredMapping:
    item = CategoryMappingItem.from_item(raw)
    return StoredMapping(
        mapping=CategoryMapping.model_validate_json(item.mapping),
        account=item.account,
        category_name=item.category_name,
        category_path=tuple(item.category_path),
        note=item.note,
        updated_at=item.updated_at,
    )
