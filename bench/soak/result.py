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
    problems: list[str] = field(default_factory=list)  # the first few examples behind non-zero counters
    secrets: list[str] = field(default_factory=list)  # every secret value, for the log scan (never printed)
    # Every buyer's e-mail, surname, phone and street the emulator made up, for the same scan (never printed).
    personal: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(self.counters.values())

    def to_json(self, *, log_bytes: int) -> dict[str, Any]:
        """The figures `bench/report.py` and the cost model read (`bench/results/soak.json`)."""
        latencies = sorted(self.order_latencies)
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
                    {"bought_at_s": round(at, 1), "latency_s": round(took, 1)}
                    for at, took in sorted(self.order_timeline, key=lambda t: -t[1])[:10]
                ],
            },
            "problems": self.problems[:20],
        }


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
