"""The soak's order floor: what its fault windows alone force on an order, whatever the system does."""

from __future__ import annotations

from bench.soak.result import SoakResult, recovery, schedule_floor

BLOCK = [(72.0, 134.0)]  # the app may not call Allegro (a 60 s block after the 429 window's first refusal)
OUTAGE = [(120.0, 156.0)]  # the shop answers 503


def test_an_order_caught_by_the_block_and_then_the_outage_waits_for_both() -> None:
    # Readable at 134 s, when the shop is down until 156 s: 84 s before any system could deliver it.
    assert schedule_floor(72.0, BLOCK, OUTAGE) == 84.0
    assert schedule_floor(100.0, BLOCK, OUTAGE) == 56.0


def test_an_order_outside_the_windows_has_no_floor_and_one_in_the_outage_only_waits_for_the_shop() -> None:
    assert schedule_floor(10.0, BLOCK, OUTAGE) == 0.0
    assert schedule_floor(140.0, [], OUTAGE) == 16.0
    assert schedule_floor(156.0, BLOCK, OUTAGE) == 0.0  # the shop is back at its window's end


def test_chained_blocks_count_as_one_wait() -> None:
    assert schedule_floor(10.0, [(5.0, 20.0), (20.0, 30.0)], []) == 20.0


def test_recovery_counts_from_the_end_of_the_last_window_that_held_the_order() -> None:
    windows = [*BLOCK, *OUTAGE]
    # Bought just before the block, delivered at 176 s: held by the block and the outage, free from 156 s.
    assert recovery(65.0, 176.0, windows) == 20.0
    # Untouched by any window: all of its time is the system's.
    assert recovery(10.0, 13.5, windows) == 3.5
    # Bought during the block and delivered 6 s after it ended: those 6 s are the system's.
    assert recovery(100.0, 140.0, BLOCK) == 6.0
    # A window that began after the delivery did not hold the order.
    assert recovery(110.0, 115.0, OUTAGE) == 5.0


def test_the_soak_json_says_what_the_windows_forced_and_what_the_system_took_after_them() -> None:
    result = SoakResult(
        config={},
        measured_at="2026-12-07T00:00:00+00:00",
        wall_seconds=1.0,
        converge_seconds=1.0,
        counters={},
        activity={},
        lambda_usage={},
        aws_calls={},
        allegro_calls=0,
        order_latencies=[104.0, 3.0],
        order_timeline=[(72.0, 104.0), (10.0, 3.0)],
        allegro_blocked=BLOCK,
        shop_down=OUTAGE,
    )

    latency = result.to_json(log_bytes=0)["latency"]

    assert latency["order_p99_s"] == 104.0
    assert latency["order_floor_max_s"] == 84.0
    # Delivered at 176 s, 20 s after the outage that held it ended (a crash's retry, say).
    assert latency["order_after_faults_p99_s"] == 20.0
    assert latency["slowest_orders"][0] == {
        "bought_at_s": 72.0,
        "latency_s": 104.0,
        "floor_s": 84.0,
        "after_faults_s": 20.0,
    }
