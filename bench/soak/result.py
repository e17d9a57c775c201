"""What a soak run saw, and the figures `bench/report.py` and the cost model read from it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SoakResult:
    """What the soak saw. `counters` must all be 0."""

    config: dict[str, Any]
    measured_at: str
    wall_seconds: float
    converge_seconds: float
    counters: dict[str, int]
    activity: dict[str, int]
    lambda_usage: dict[str, dict[str, Any]]
    aws_calls: dict[str, dict[str, int]]
    allegro_calls: int
    aws_calls_by_function: dict[str, dict[str, int]] = field(default_factory=dict)
    aws_items_by_function: dict[str, dict[str, int]] = field(default_factory=dict)
    consistent_reads_by_function: dict[str, dict[str, int]] = field(default_factory=dict)
    allegro_calls_by_function: dict[str, int] = field(default_factory=dict)
    order_latencies: list[float] = field(default_factory=list)
    # (seconds into the traffic when bought, seconds until the shop had it): where the slow ones sit
    order_timeline: list[tuple[float, float]] = field(default_factory=list)
    # The fault windows, [start, end] in seconds into the traffic: when the app could not call Allegro
    # (its block, or a function's guard after a 429), and when the shop answered 503.
    allegro_blocked: list[tuple[float, float]] = field(default_factory=list)
    shop_down: list[tuple[float, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the first few examples behind non-zero counters
    secrets: list[str] = field(default_factory=list)  # every secret value, for the log scan (never printed)
    # Every buyer's e-mail, surname, phone and street the emulator made up, for the same scan (never printed).
    personal: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(self.counters.values())

    def order_floors(self) -> list[tuple[float, float, float, float]]:
        """(bought at, latency, floor, after faults) per order that reached the shop: see `schedule_floor`
        and `recovery`."""
        windows = [*self.allegro_blocked, *self.shop_down]
        return [
            (
                at,
                took,
                schedule_floor(at, self.allegro_blocked, self.shop_down),
                recovery(at, at + took, windows),
            )
            for at, took in self.order_timeline
        ]

    def to_json(self, *, log_bytes: int) -> dict[str, Any]:
        """The figures `bench/report.py` and the cost model read (`bench/results/soak.json`)."""
        latencies = sorted(self.order_latencies)
        floors = self.order_floors()
        recovered = sorted(after for *_, after in floors)
        return {
            "name": "soak",
            "measured_at": self.measured_at,
            "wall_seconds": round(self.wall_seconds, 1),
            "converge_seconds": round(self.converge_seconds, 1),
            "config": self.config | self.activity,
            "counters": self.counters,
            "lambda": self.lambda_usage,
            "aws_calls": self.aws_calls,
            "aws_calls_by_function": self.aws_calls_by_function,
            "aws_items_by_function": self.aws_items_by_function,
            "consistent_reads_by_function": self.consistent_reads_by_function,
            "allegro_calls_by_function": self.allegro_calls_by_function,
            "allegro_calls": self.allegro_calls,
            "log_bytes": log_bytes,
            "latency": {
                "order_p50_s": round(statistics.median(latencies), 2) if latencies else None,
                "order_p99_s": round(percentile(latencies, 0.99), 2) if latencies else None,
                "order_max_s": round(latencies[-1], 2) if latencies else None,
                "slowest_orders": [
                    {
                        "bought_at_s": round(at, 1),
                        "latency_s": round(took, 1),
                        "floor_s": round(floor, 1),
                        "after_faults_s": round(after, 1),
                    }
                    for at, took, floor, after in sorted(floors, key=lambda t: -t[1])[:10]
                ],
                # What the fault windows alone force on an order (the most of any), and how long orders
                # took once the last window that held them had closed: the system's own part of
                # order -> shop (polling, crash retries, back-off, the backlog the windows left).
                "order_floor_max_s": round(max(f for _, _, f, _ in floors), 2) if floors else None,
                "order_after_faults_p50_s": round(statistics.median(recovered), 2) if recovered else None,
                "order_after_faults_p99_s": round(percentile(recovered, 0.99), 2) if recovered else None,
            },
            "fault_windows": {
                "allegro_blocked": [[round(a, 1), round(b, 1)] for a, b in self.allegro_blocked],
                "shop_down": [[round(a, 1), round(b, 1)] for a, b in self.shop_down],
            },
            "problems": self.problems[:20],
        }


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def schedule_floor(
    bought_at: float, allegro_blocked: list[tuple[float, float]], shop_down: list[tuple[float, float]]
) -> float:
    """The least time an order bought at `bought_at` can take to reach the shop under the run's fault
    windows, whatever the system does: Allegro cannot be asked for it before the app's block ends (calling
    during a block extends it), nor the shop given it while the shop is down. A lower bound: polling, the
    event journal's delay and the work itself come on top."""
    readable = _after(bought_at, allegro_blocked)
    return _after(readable, shop_down) - bought_at


def recovery(bought_at: float, delivered_at: float, windows: list[tuple[float, float]]) -> float:
    """Seconds from the moment nothing held the order any more (its purchase, or the end of the last fault
    window that overlapped its wait) to its delivery: what the system itself took."""
    cleared = max((end for start, end in windows if start < delivered_at and end > bought_at), default=0.0)
    return delivered_at - min(delivered_at, max(bought_at, cleared))


def _after(moment: float, windows: list[tuple[float, float]]) -> float:
    """The first moment at or after `moment` outside every window (windows may touch or chain)."""
    moved = True
    while moved:
        moved = False
        for start, end in windows:
            if start <= moment < end:
                moment, moved = end, True
    return moment
