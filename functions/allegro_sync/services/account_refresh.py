"""The scheduled refresh: every connected account kept fresh, even when idle (handlers/token_refresher.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from allegro_sync.contracts.accounts import AccountDisconnected, AccountStatus
from allegro_sync.services.accounts import AccountRegistry
from allegro_sync.services.tokens import AccountTokens


@dataclass
class RefreshReport:
    """What one scheduled refresher run did, per account name."""

    refreshed: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    disconnected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def refresh_due_accounts(
    registry: AccountRegistry,
    tokens_for: Callable[[str], AccountTokens],
    *,
    margin_seconds: float,
    now: float,
) -> RefreshReport:
    """Keep every connected account fresh even when idle, and finish refreshes whose refresher died.

    The registry's expiry decides who needs work, so an idle run costs one DynamoDB query and no secret
    read. One account's failure never stops the others; a disconnected account needs a human, not us.
    """
    report = RefreshReport()
    profiles, leased = registry.overview()
    for profile in sorted(profiles, key=lambda p: p.name):
        if profile.status is AccountStatus.DISCONNECTED:
            report.skipped.append(profile.name)
            continue
        lease_seen = profile.name in leased
        if not lease_seen and profile.token_expires_at - now > margin_seconds:
            report.fresh.append(profile.name)
            continue
        try:
            _, changed = tokens_for(profile.name).ensure_fresh(margin_seconds, lease_seen=lease_seen)
        except AccountDisconnected:
            report.disconnected.append(profile.name)
        except Exception as exc:  # reported per account; the next run retries
            report.failed[profile.name] = f"{type(exc).__name__}: {exc}"
        else:
            (report.refreshed if changed else report.fresh).append(profile.name)
    return report
