"""The local SQS event source: partial batch failures, retries, DLQ, FIFO groups — as Lambda does it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from allegro_sync.local import FifoOrderError, LocalRuntime
from tests.fixtures.local import MakeLocalRuntime
from tests.integration.local.topologies import MODULES, QUEUES

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime(make_local_runtime: MakeLocalRuntime) -> LocalRuntime:
    return make_local_runtime(QUEUES, handler_modules=MODULES)


def processed(runtime: LocalRuntime) -> dict[str, dict[str, Any]]:
    items = runtime.client("dynamodb").scan(TableName=runtime.wiring.tables["ledger"])["Items"]
    return {
        item["pk"]["S"]: {
            "times": int(item["times"]["N"]),
            "group": item["group_id"]["S"],
            "receive_count": int(item["receive_count"]["N"]),
        }
        for item in items
    }


def dlq_bodies(runtime: LocalRuntime, queue: str) -> list[dict[str, Any]]:
    sqs = runtime.client("sqs")
    response = sqs.receive_message(
        QueueUrl=runtime.wiring.queues[queue].dlq_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    return [json.loads(m["Body"]) for m in response.get("Messages", [])]


def test_one_poison_message_ends_in_the_dlq_and_the_other_nine_are_processed_exactly_once(
    runtime: LocalRuntime,
) -> None:
    for n in range(10):
        runtime.send("plain", {"id": f"m{n}", "fail": "always" if n == 4 else "never"})

    runtime.drain(timeout=60)

    done = processed(runtime)
    assert sorted(done) == sorted(f"m{n}" for n in range(10) if n != 4)
    assert all(item["times"] == 1 for item in done.values())
    assert [body["id"] for body in dlq_bodies(runtime, "plain")] == ["m4"]
    # Delivered maxReceiveCount (3) times, then moved by the redrive policy: 10 + 2 more receives.
    assert runtime.poller.stats.received["plain"] == 12
    assert runtime.poller.stats.deleted["plain"] == 9
    assert runtime.poller.pending() == {"plain": 0, "ordered": 0, "careless": 0}


def test_a_handler_crash_retries_the_whole_batch(runtime: LocalRuntime) -> None:
    runtime.send("plain", {"id": "a", "explode_first_receive": True})
    runtime.send("plain", {"id": "b"})

    runtime.drain(timeout=60)

    done = processed(runtime)
    assert {k: (v["times"], v["receive_count"]) for k, v in done.items()} == {"a": (1, 2), "b": (1, 2)}
    failed_calls = [i for i in runtime.invoker.invocations if i.error]
    assert len(failed_calls) == 1
    assert "crashed before processing" in (failed_calls[0].error or "")
    assert dlq_bodies(runtime, "plain") == []


def run_groups(runtime: LocalRuntime, poison: int) -> dict[str, dict[str, Any]]:
    """m0..m9 in five groups (m0 and m5 in SKU-0, m1 and m6 in SKU-1, ...), m<poison> always failing, sent
    and drained; what was processed."""
    for n in range(10):
        runtime.send(
            "ordered",
            {"id": f"m{n}", "fail": "always" if n == poison else "never"},
            group_id=f"SKU-{n % 5}",
            deduplication_id=f"d{n}",
        )
    runtime.drain(timeout=60)
    return processed(runtime)


def test_fifo_poison_at_the_end_of_its_group_goes_to_the_dlq_and_the_nine_others_run_once(
    runtime: LocalRuntime,
) -> None:
    done = run_groups(runtime, poison=7)
    assert sorted(done) == sorted(f"m{n}" for n in range(10) if n != 7)
    assert all(item["times"] == 1 and item["receive_count"] == 1 for item in done.values())
    assert done["m2"]["group"] == "SKU-2"
    assert [body["id"] for body in dlq_bodies(runtime, "ordered")] == ["m7"]
    assert runtime.poller.violations == []


def test_fifo_poison_drags_the_rest_of_its_group_to_the_dlq_never_processing_it_out_of_order(
    runtime: LocalRuntime,
) -> None:
    # As in SQS: m7 waits behind m2, is handed out (and back) with it on every attempt, so its
    # receive count climbs with m2's and both reach the DLQ together. Other groups are untouched.
    done = run_groups(runtime, poison=2)
    assert sorted(done) == sorted(f"m{n}" for n in range(10) if n not in (2, 7))
    assert all(item["times"] == 1 for item in done.values())
    assert sorted(body["id"] for body in dlq_bodies(runtime, "ordered")) == ["m2", "m7"]
    assert runtime.poller.violations == []


def test_a_fifo_handler_that_keeps_going_after_a_failure_is_caught(runtime: LocalRuntime) -> None:
    runtime.send("careless", {"id": "first", "fail": "always"}, group_id="SKU-1", deduplication_id="1")
    runtime.send("careless", {"id": "second"}, group_id="SKU-1", deduplication_id="2")

    with pytest.raises(FifoOrderError) as caught:
        runtime.drain(timeout=60)

    # Lambda itself would have deleted "second": the runtime settles it the same way but says so.
    assert processed(runtime)["second"]["times"] == 1
    (violation,) = caught.value.violations
    assert (violation.queue, violation.group) == ("careless", "SKU-1")


def test_records_look_like_the_lambda_sqs_event(runtime: LocalRuntime) -> None:
    message_id = runtime.send("ordered", {"id": "x"}, group_id="SKU-9", deduplication_id="dedup-x")
    batch = runtime.poller.poll_once(*runtime.poller.consumer("ordered"))

    assert batch is not None
    assert batch.message_ids == [message_id]
    assert batch.failed_ids == set()
    event = runtime.invoker.invocations[-1]
    assert event.function == "fifo_worker"
    assert event.error is None
    assert processed(runtime)["x"] == {"times": 1, "group": "SKU-9", "receive_count": 1}


def test_the_background_pollers_consume_without_help_and_drain_waits_for_them(runtime: LocalRuntime) -> None:
    runtime.poller.start(idle_interval=0.01)
    for n in range(3):
        runtime.send("plain", {"id": f"bg{n}"})
    runtime.send("ordered", {"id": "bg-fifo"}, group_id="SKU-1", deduplication_id="bg")

    runtime.drain(timeout=60)

    assert {k: v["times"] for k, v in processed(runtime).items()} == {
        "bg0": 1,
        "bg1": 1,
        "bg2": 1,
        "bg-fifo": 1,
    }
    assert runtime.poller.stats.deleted["plain"] == 3


def test_a_fifo_group_in_flight_is_never_handed_out_twice(runtime: LocalRuntime) -> None:
    sqs, url = runtime.client("sqs"), runtime.wiring.queues["ordered"].url
    runtime.send("ordered", {"id": "first"}, group_id="SKU-1", deduplication_id="1")
    runtime.send("ordered", {"id": "second"}, group_id="SKU-1", deduplication_id="2")
    runtime.send("ordered", {"id": "other"}, group_id="SKU-2", deduplication_id="3")
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]  # "first", in flight

    batch = runtime.poller.poll_once(*runtime.poller.consumer("ordered"))

    assert batch is not None
    assert set(processed(runtime)) == {"other"}  # "second" waits behind the in-flight "first"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0)
    runtime.drain(timeout=60)
    assert set(processed(runtime)) == {"first", "second", "other"}


def test_a_retry_delay_keeps_a_failed_message_invisible_for_that_long(
    make_local_runtime: MakeLocalRuntime,
) -> None:
    runtime = make_local_runtime(QUEUES, handler_modules=MODULES, retry_delay_seconds=60)
    runtime.send("plain", {"id": "bad", "fail": "always"})
    consumer = runtime.poller.consumer("plain")

    first = runtime.poller.poll_once(*consumer)
    again = runtime.poller.poll_once(*consumer)

    assert first is not None
    assert first.failed_ids == set(first.message_ids)
    assert again is None  # not visible yet: it comes back after 60 s, like a visibility timeout
    assert runtime.poller.pending()["plain"] == 1
    with pytest.raises(TimeoutError, match="plain"):
        runtime.drain(timeout=0.1)
