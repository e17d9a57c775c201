"""What each `allegro-sync status` line says, from fake sources: warnings, lags, and graceful n/a."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from allegro_sync.contracts.accounts import AccountProfile, AccountStatus
from allegro_sync.services import status as st
from allegro_sync.services.dlq import DlqSummary

NOW = 1_800_000_000.0


def profile(name: str, expires_in: float, status: AccountStatus = AccountStatus.CONNECTED) -> AccountProfile:
    return AccountProfile(
        name=name,
        status=status,
        environment="sandbox",
        seller_id="1",
        login=name,
        scopes=(),
        token_expires_at=NOW + expires_in,
        last_refresh_at=NOW - 60,
        connected_at=NOW - 3600,
    )


@dataclass
class FakeSource:
    profiles: list[AccountProfile] = field(default_factory=list)
    cursors: dict[str, st.OrderCursor] = field(default_factory=dict)
    depths: list[st.QueueDepth] = field(default_factory=list)
    dlqs: list[DlqSummary] = field(default_factory=list)
    blocked: float = 0.0
    changes: list[st.ReconcileChange] = field(default_factory=list)
    pauses: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    broken: str = ""

    def accounts(self) -> list[AccountProfile]:
        return self.profiles

    def order_cursor(self, account: str) -> st.OrderCursor | None:
        return self.cursors.get(account)

    def queue_depths(self) -> list[st.QueueDepth]:
        if self.broken == "queues":
            raise ConnectionError("sqs unreachable")
        return self.depths

    def dead_letters(self) -> list[DlqSummary]:
        return self.dlqs

    def blocked_until(self) -> float:
        return self.blocked

    def reconcile_changes(self) -> list[st.ReconcileChange]:
        return self.changes

    def repricing_pause(self, account: str) -> tuple[datetime, str] | None:
        return self.pauses.get(account)


def by_title(sections: list[st.Section]) -> dict[str, st.Section]:
    return {s.title: s for s in sections}


def test_healthy_deployment_has_no_warnings_and_shows_lag() -> None:
    source = FakeSource(
        profiles=[profile("shop-b", 6 * 3600), profile("shop-a", 3 * 3600)],
        cursors={
            "shop-a": st.OrderCursor(started_at=NOW - 7200, advanced_at=NOW - 125),
            "shop-b": st.OrderCursor(started_at=NOW - 30, advanced_at=None),
        },
        depths=[st.QueueDepth("orders", 2, 1)],
        dlqs=[DlqSummary("orders", "url", 0, 0, None)],
        blocked=NOW - 10,
        changes=[
            st.ReconcileChange("2027-01-15T08:00:00+00:00", "shop-a", "MUG", "reconciler: x"),
            st.ReconcileChange("2027-01-15T09:30:00+00:00", "shop-b", "PAN", "reconciler: y"),
            st.ReconcileChange("2027-01-14T09:30:00+00:00", "shop-b", "PAN", "reconciler: z"),
        ],
    )
    sections = by_title(st.build_status(source, NOW))
    assert all(s.warnings == 0 and s.unavailable is None for s in sections.values())
    assert [r[0] for r in sections["Accounts"].rows] == ["shop-a", "shop-b"]
    assert sections["Accounts"].rows[0][3].endswith("(in 3h00m)")
    assert sections["Order polling"].rows[0][2] == "2m05s"
    assert sections["Order polling"].rows[1][3] == "started, no order event yet"
    assert sections["Queues"].rows == [("orders", "2", "1")]
    assert sections["Last reconcile repair"].rows == [
        ("2027-01-15T09:30:00+00:00", "2", "shop-b/PAN: reconciler: y")
    ]
    assert sections["Allegro rate limit"].rows[0][0] == "ok"
    assert sections["Repricing circuit breaker"].rows[0][1] == "running"


def test_problems_are_counted_as_warnings_with_what_to_do() -> None:
    source = FakeSource(
        profiles=[profile("gone", -60, AccountStatus.DISCONNECTED), profile("soon", 120)],
        cursors={},
        depths=[st.QueueDepth("orders", 0, 0)],
        dlqs=[DlqSummary("orders", "url", 3, 0, 4000.0), DlqSummary("shop-events", "url", 0, 0, None)],
        blocked=NOW + 42,
        pauses={"soon": (datetime.fromtimestamp(NOW + 600, UTC), "3 failures in a row")},
    )
    sections = by_title(st.build_status(source, NOW))
    accounts = sections["Accounts"]
    assert accounts.warnings == 2
    assert accounts.rows[0][3] == "EXPIRED"
    assert accounts.rows[0][4].startswith("reconnect: allegro-sync accounts connect gone")
    assert sections["Order polling"].warnings == 2
    dlq = sections["Dead-letter queues"]
    assert dlq.warnings == 1
    assert dlq.rows[0] == ("orders", "3", "1h06m", "allegro-sync dlq show orders")
    assert sections["Allegro rate limit"].rows[0][:1] == ("BLOCKED",)
    assert "42s" in sections["Allegro rate limit"].rows[0][2]
    assert sections["Repricing circuit breaker"].rows[1][1:] == (
        "PAUSED",
        datetime.fromtimestamp(NOW + 600, UTC).isoformat(timespec="seconds"),
        "3 failures in a row",
    )
    assert sections["Last reconcile repair"].unavailable is not None


def test_a_broken_source_degrades_only_its_section() -> None:
    source = FakeSource(profiles=[], depths=[st.QueueDepth("orders", 0, 0)], broken="queues")
    sections = by_title(st.build_status(source, NOW))
    assert sections["Queues"].unavailable == "n/a: could not read it (sqs unreachable)"
    assert sections["Accounts"].unavailable is not None
    assert "accounts connect" in sections["Accounts"].unavailable
    assert sections["Order polling"].unavailable is not None
    assert sections["Allegro rate limit"].rows  # still rendered


def test_change_log_items_and_cursor_items_are_read_as_stored() -> None:
    items = [
        {"pk": "sku#MUG", "sk": "2027-01-15T09:30:00+00:00#shop-a#abc", "reason": "reconciler: stock 3 vs 5"},
        {"pk": "sku#MUG", "sk": "2027-01-15T10:00:00+00:00#shop-a#def", "reason": "shop changed the price"},
    ]
    assert st.reconcile_changes_from_items(items) == [
        st.ReconcileChange("2027-01-15T09:30:00+00:00", "shop-a", "MUG", "reconciler: stock 3 vs 5")
    ]
    cursor = st.cursor_from_item({"started_at": 100, "advanced_at": "2027-01-15T09:30:00+00:00"})
    assert cursor == st.OrderCursor(100.0, datetime(2027, 1, 15, 9, 30, tzinfo=UTC).timestamp())
    assert st.cursor_from_item(None) is None


def test_durations_are_short() -> None:
    assert [st.duration(s) for s in (5, 65, 3700, 90_000, -65)] == ["5s", "1m05s", "1h01m", "1d01h", "-1m05s"]


def test_an_account_whose_refresh_allegro_refuses_for_the_apps_fault_is_a_warning_with_the_fix() -> None:
    failing = replace(profile("shop-a", 600), refresh_problem="invalid_client: Allegro rejected the app")
    sections = by_title(st.build_status(FakeSource(profiles=[failing, profile("shop-b", 6 * 3600)]), NOW))

    accounts = sections["Accounts"]
    assert accounts.warnings == 1
    assert accounts.rows[0][1] == "CONNECTED (refresh failing)"
    assert accounts.rows[0][4] == (
        "fix the app credentials: allegro-sync accounts set-app CLIENT_ID "
        "(invalid_client: Allegro rejected the app)"
    )
    assert accounts.rows[1][1:2] == ("CONNECTED",)
