"""The as-deployed order latency model: the wait comes from the schedule, not from a gapless local loop."""

from __future__ import annotations

import itertools

import pytest

from bench.order_latency import GOAL_P99_SECONDS, Pipeline, old_p99, old_poll_starts, p99_wait, tick_p99


def test_the_old_loop_leaves_a_ten_second_gap_each_minute() -> None:
    starts = old_poll_starts()
    assert starts[-2:] == [50.0, 60.0]
    assert max(b - a for a, b in itertools.pairwise(starts)) == 10.0
    # 1 % of a minute's moments wait more than 9.4 s: all of them inside the gap
    assert p99_wait(starts, 60.0) == pytest.approx(9.4, abs=0.01)


def test_the_old_schedule_misses_the_goal_and_the_default_tick_meets_it() -> None:
    pipeline = Pipeline()
    assert old_p99(pipeline) > 12.0
    assert tick_p99(5.0, pipeline) <= GOAL_P99_SECONDS
    assert tick_p99(5.0, pipeline) == pytest.approx(0.99 * 5.5 + pipeline.after_poll_start(), abs=0.01)


def test_a_longer_tick_waits_longer() -> None:
    pipeline = Pipeline()
    assert tick_p99(10.0, pipeline) - tick_p99(5.0, pipeline) == pytest.approx(0.99 * 5, abs=0.01)
