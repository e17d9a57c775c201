"""The stock propagator's failed records come back when THEIR cause ends (adapters/redelivery.py).

Measured in the full soak: a stock push that failed for any reason while one seller's product-offer
writes were held back came back only when the longest per-seller block this instance knew of ended (up to
a minute), and one that failed with no block waited the queue's timeout (6 minutes in AWS): an offer that
should have sold out kept selling meanwhile."""

from __future__ import annotations

from allegro_sync.adapters.redelivery import own_block_or_soon
from tests.unit.ops.test_redelivery import NOW, record


def test_each_record_comes_back_when_its_own_block_ends_not_the_longest() -> None:
    policy = own_block_or_soon(lambda: 0.0, {"m1": NOW + 9.2, "m2": NOW + 55.0}, NOW)

    assert policy([record(1), record(2)]) == {"h1": 11, "h2": 56}


def test_a_failure_that_is_no_block_comes_back_soon_twice_then_after_the_queues_timeout() -> None:
    policy = own_block_or_soon(lambda: 0.0, {}, NOW)

    assert policy([record(1, receive_count=1), record(2, receive_count=2), record(3, receive_count=3)]) == {
        "h1": 5,
        "h2": 5,
    }


def test_while_the_whole_app_is_blocked_every_failure_waits_for_that_block() -> None:
    policy = own_block_or_soon(lambda: 30.0, {"m2": NOW + 50.0}, NOW)

    assert policy([record(1), record(2)]) == {"h1": 31, "h2": 51}


def test_a_block_that_already_ended_is_no_reason_to_wait() -> None:
    assert own_block_or_soon(lambda: 0.0, {"m1": NOW - 3.0}, NOW)([record(1)]) == {"h1": 5}
