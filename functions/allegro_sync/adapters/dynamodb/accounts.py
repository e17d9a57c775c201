"""Account registry, refresh lease and one-time OAuth items in the `control` table.

Layout (all string keys, per CONTRIBUTING):
- profile:  pk="accounts", sk="profile#<name>"
- lease:    pk="accounts", sk="lease#<name>"     — owner + lease_until (+ rotated_from), conditional update.
  Profiles and leases share one partition so one Query answers `accounts list` and tells the scheduled
  refresher which accounts have a refresh in flight (or a refresher that died mid-way);
- one-time: pk="oauth#<key>", sk="oauth"          — state/PKCE verifier and start-link nonces, TTL
  `expires_at`, consumed with a conditional delete so a replay finds nothing.
No item here ever holds a token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.contracts.accounts import AccountProfile, AccountStatus, LeaseGrant
from allegro_sync.contracts.records.control import AccountProfileItem, OneTimeItem, RefreshLeaseItem

PROFILES_PK = "accounts"
PROFILE = "profile#"
LEASE = "lease#"


def _conditional(write: Callable[..., dict[str, Any]], **request: Any) -> dict[str, Any] | None:
    """`write(**request)`'s answer, or None when its condition did not hold (a lost race, a gone item)."""
    try:
        return write(**request)
    except ClientError as exc:
        if items.condition_failed(exc):
            return None
        raise


class DynamoAccountRegistry:
    """`AccountRegistry`: what an operator sees about each account."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, name: str) -> AccountProfile | None:
        item = self._table.get_item(Key={"pk": PROFILES_PK, "sk": PROFILE + name}, ConsistentRead=True).get(
            "Item"
        )
        return _profile(item) if item else None

    def put(self, profile: AccountProfile) -> None:
        item = items.to_stored(
            AccountProfileItem,
            profile,
            pk=PROFILES_PK,
            sk=PROFILE + profile.name,
            status=profile.status.value,
        )
        self._table.put_item(Item=item.item())

    def all(self) -> list[AccountProfile]:
        return self.overview()[0]

    def overview(self) -> tuple[list[AccountProfile], set[str]]:
        """Every profile, and the names of accounts whose refresh lease is held (live or orphaned)."""
        found = list(
            items.all_items(
                self._table.query,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": PROFILES_PK},
                ConsistentRead=True,
            )
        )
        profiles = [_profile(i) for i in found if str(i["sk"]).startswith(PROFILE)]
        leases = [RefreshLeaseItem.from_item(i) for i in found if str(i["sk"]).startswith(LEASE)]
        return profiles, {lease.sk.removeprefix(LEASE) for lease in leases if lease.owner}

    def record_refresh(
        self, name: str, *, expires_at: float, refreshed_at: float, scopes: tuple[str, ...]
    ) -> None:
        """Only for an existing profile: a refresh must not resurrect an account deleted meanwhile."""
        _conditional(
            self._table.update_item,
            Key={"pk": PROFILES_PK, "sk": PROFILE + name},
            UpdateExpression="SET token_expires_at = :e, last_refresh_at = :r, scopes = :s "
            "REMOVE refresh_problem",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={
                ":e": items.number(expires_at),
                ":r": items.number(refreshed_at),
                ":s": list(scopes),
            },
        )

    def record_refresh_problem(self, name: str, problem: str) -> None:
        """The refresh failed for the application's fault; shown until a refresh succeeds."""
        _conditional(
            self._table.update_item,
            Key={"pk": PROFILES_PK, "sk": PROFILE + name},
            UpdateExpression="SET refresh_problem = :p",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":p": problem},
        )

    def mark_disconnected(self, name: str, *, reason: str, now: float) -> None:
        _conditional(
            self._table.update_item,
            Key={"pk": PROFILES_PK, "sk": PROFILE + name},
            UpdateExpression="SET #s = :d, disconnected_at = :t, disconnect_reason = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":d": AccountStatus.DISCONNECTED.value,
                ":t": items.number(now),
                ":r": reason,
            },
        )

    def remove(self, name: str) -> None:
        for sk in (PROFILE + name, LEASE + name):
            self._table.delete_item(Key={"pk": PROFILES_PK, "sk": sk})


def _profile(raw: dict[str, Any]) -> AccountProfile:
    item = AccountProfileItem.from_item(raw)
    return items.from_stored(
        AccountProfile,
        item,
        name=item.sk.removeprefix(PROFILE),
        status=AccountStatus(item.status),
        scopes=tuple(item.scopes),
    )


class DynamoRefreshLease:
    """`RefreshLease`: a conditional update wins only when nobody holds an unexpired lease.

    The item outlives its leases (it carries `rotated_from`, the fingerprint of the last refresh token
    used up), so its expiry is `lease_until`, not the table's TTL attribute.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def acquire(self, name: str, owner: str, now: float, ttl_seconds: float) -> LeaseGrant | None:
        answer = _conditional(
            self._table.update_item,
            Key={"pk": PROFILES_PK, "sk": LEASE + name},
            UpdateExpression="SET #o = :owner, acquired_at = :now, lease_until = :until",
            ConditionExpression=(
                "attribute_not_exists(pk) OR attribute_not_exists(lease_until) "
                "OR lease_until < :now OR #o = :owner OR #o = :nobody"
            ),
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={
                ":owner": owner,
                ":now": items.number(now),
                ":until": items.number(now + ttl_seconds),
                ":nobody": "",
            },
            ReturnValues="ALL_OLD",
        )
        if answer is None:
            return None
        before = answer.get("Attributes")
        return LeaseGrant(rotated_from=RefreshLeaseItem.from_item(before).rotated_from if before else "")

    def release(self, name: str, owner: str, *, rotated_from: str | None = None) -> None:
        """Free only our own lease: a slow holder must not free a lease somebody else took over."""
        update = "SET #o = :nobody, lease_until = :zero"
        values: dict[str, Any] = {":owner": owner, ":nobody": "", ":zero": 0}
        if rotated_from is not None:
            update += ", rotated_from = :rotated"
            values[":rotated"] = rotated_from
        _conditional(
            self._table.update_item,
            Key={"pk": PROFILES_PK, "sk": LEASE + name},
            UpdateExpression=update,
            ConditionExpression="#o = :owner",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues=values,
        )

    def holder(self, name: str) -> str | None:
        """Who holds the lease now (live or orphaned), for diagnostics and tests."""
        item = self._table.get_item(Key={"pk": PROFILES_PK, "sk": LEASE + name}, ConsistentRead=True).get(
            "Item"
        )
        return (RefreshLeaseItem.from_item(item).owner or None) if item else None


class DynamoOneTimeStore:
    """`OneTimeStore`: items that exist once, for a short while (TTL cleans up those never used)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, key: str, data: dict[str, str], expires_at: float) -> None:
        self._table.put_item(
            Item=OneTimeItem(pk=f"oauth#{key}", sk="oauth", data=data, expires_at=int(expires_at)).item(),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def consume(self, key: str, now: float) -> dict[str, str] | None:
        """Delete-and-return in one conditional call: two concurrent callbacks cannot both succeed."""
        answer = _conditional(
            self._table.delete_item,
            Key={"pk": f"oauth#{key}", "sk": "oauth"},
            ConditionExpression="attribute_exists(pk)",
            ReturnValues="ALL_OLD",
        )
        if answer is None:
            return None
        before = answer.get("Attributes")
        if not before:
            return None
        item = OneTimeItem.from_item(before)
        # DynamoDB TTL deletes lazily (up to days later), so expiry is checked here too.
        if item.expires_at < now:
            return None
        return dict(item.data)
