"""The scheduled repricing sweep: every connected account's round, inside one run's time.

A round pages through its account's offers (`Repricer.run_account`); when the run's time is short it stops
and saves where it is (account, offset) like the reconciler, and the next run goes on from there, so a cycle
over 100,000 offers never meets the function's timeout (issue 21). A cycle ends when every account's last
page is done; the cursor is then cleared and the next run starts again from the first account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from allegro_sync.contracts.allegro_errors import AllegroError
from allegro_sync.contracts.sweeps import SweepPosition
from allegro_sync.services.repricing.ports import RepricingAllegro
from allegro_sync.services.repricing.repricer import PAGE_SIZE, Repricer, RoundReport
from allegro_sync.services.sweep_clock import SweepClock, SweepCursors, remaining


@dataclass
class SweepResult:
    reports: dict[str, RoundReport] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # account -> why its round failed
    continues_at: SweepPosition | None = None  # None: the cycle is complete


def reprice_accounts(
    repricer: Repricer,
    clients: Mapping[str, RepricingAllegro],
    *,
    apply: bool = True,
    time_left: Callable[[], float] | None = None,
    cursors: SweepCursors | None = None,
) -> SweepResult:
    """Every account in name order from the saved position; one account's Allegro failure is recorded and
    the others still run (the next cycle retries it)."""
    with repricer.one_run():
        return _sweep(repricer, clients, apply=apply, clock=SweepClock(time_left, PAGE_SIZE), cursors=cursors)


def _sweep(
    repricer: Repricer,
    clients: Mapping[str, RepricingAllegro],
    *,
    apply: bool,
    clock: SweepClock,
    cursors: SweepCursors | None,
) -> SweepResult:
    result = SweepResult()
    for name, offset in remaining(list(clients), cursors):
        try:
            report = repricer.run_account(
                name, clients[name], apply=apply, start=offset, clock=clock, keep_decisions=False
            )
        except AllegroError as error:
            result.errors[name] = str(error)
            continue
        result.reports[name] = report
        if report.continues_at is not None:
            result.continues_at = SweepPosition(name, report.continues_at)
            if cursors is not None:
                cursors.save(result.continues_at)
            return result
    if cursors is not None:
        cursors.clear()
    return result
