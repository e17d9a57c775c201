"""The soak: the whole system under a stream of work with faults on, then a count of what went wrong.

Several seller accounts sell thousands of SKUs from one shop. For `seconds` the driver sends signed stock
webhooks (the shop's own sales and deliveries), buys, pays and cancels on Allegro (the emulator) and fires
the schedules (order poller, gap scan, reconciler, repricer, token refresher). Meanwhile Allegro answers
5xx, runs slow, blocks the app with 429s for a while, serves order events duplicated, late or not at all
and answers 409 to some PATCHes; handlers die mid-batch (`CrashPlan`); the shop's order endpoint is down
for a while. Then the faults stop, the system drains, the shop reports its final levels, and the soak
counts what a seller would notice: orders lost or applied twice, offers whose stock differs from the
ledger, SKUs whose ledger differs from the shop, units oversold that the system had time to prevent, and
messages left in dead-letter queues. All must be 0.

It also meters what AWS would bill (invocations and seconds per function, every AWS API call of the
functions and of the event-source pollers) for the cost estimate in `bench/REPORT.md`. The set-up (offers,
ledger, catalogue) is seeded directly, not through the publishing path: the soak is about keeping things
in sync, and publishing thousands of offers through moto would take most of the run.

Runs in-process: `python -m bench.soak` (`__main__.py`) for the full-size run, `tests/integration/soak/` for
the short one. It drives the shipped package (`allegro_sync.local`); nothing shipped imports it.
"""

from bench.soak.config import SoakConfig
from bench.soak.engine import Soak
from bench.soak.faults import RandomCrashes
from bench.soak.logscan import leaks
from bench.soak.result import SoakResult

__all__ = ["RandomCrashes", "Soak", "SoakConfig", "SoakResult", "leaks"]
