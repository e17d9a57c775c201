"""When a consumer's failed records come back (adapters/redelivery.py): which records, after how long."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.redelivery import Redelivery, back_off, back_off_seconds, back_off_step, until
from allegro_sync.local.events import sqs_record
from allegro_sync.topology import queue_env
from tests.fixtures.apps import bound_app

NOW = 1_700_000_000.0


def record(n: int, receive_count: int = 1, failing_for: float = 0.0) -> dict[str, Any]:
    first_received_ms = round((NOW - failing_for) * 1000)
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"h{n}",
        "body": "{}",
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "ApproximateFirstReceiveTimestamp": str(first_received_ms),
        },
    }


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failures(*ids: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


class FakeSqs:
    def __init__(self, error: Exception | None = None, failed: list[dict[str, str]] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self._error = error
        self._failed = failed or []

    def change_message_visibility_batch(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self._error:
            raise self._error
        return {"Successful": [{"Id": e["Id"]} for e in request["Entries"]], "Failed": self._failed}


def visibility(calls: list[dict[str, Any]]) -> dict[str, int]:
    return {e["ReceiptHandle"]: e["VisibilityTimeout"] for c in calls for e in c["Entries"]}


# -- the shop notifier's back-off ------------------------------------------------------------------


def test_the_probe_step_is_the_largest_power_of_two_within_a_quarter_of_the_time_failing() -> None:
    assert [back_off_step(s) for s in (0, 15.9, 16, 40, 100, 400, 1_023, 1_024, 86_400)] == [
        2, 2, 4, 8, 16, 64, 128, 256, 256,
    ]  # fmt: skip
    assert back_off_step(-3) == 2  # a clock behind SQS's: as on the first receive


def test_a_failed_record_comes_back_on_the_next_tick_of_the_probe_clock() -> None:
    assert back_off_seconds(0, 1_000.5) == 2  # tick 1,002
    assert back_off_seconds(0, 1_001.9) == 1  # the same tick
    assert back_off_seconds(40, 1_001.9) == 7  # step 8: tick 1,008
    assert back_off_seconds(90, 1_024.0) == 16  # step 16, already on a tick: the next one


def test_orders_waiting_for_one_shop_come_back_in_the_same_second_whatever_their_age() -> None:
    """Young ones on every 2 s tick, older ones on the coarser ticks every finer clock also has."""
    at = NOW + 0.7
    young = back_off(lambda: at)([record(n, failing_for=n + 0.7) for n in range(1, 8)])
    assert set(young.values()) == {2}  # all visible again at NOW + 2.7
    policy = back_off(lambda: NOW + 6.2)
    old = policy([record(1, failing_for=8.2), record(2, failing_for=20.2), record(3, failing_for=40.2)])
    assert old == {"h1": 2, "h2": 2, "h3": 2}  # NOW + 8: a tick of steps 2, 4 and 8


def test_a_shop_back_after_an_outage_gets_its_orders_within_a_quarter_of_the_outage() -> None:
    """The receives a record gets while the shop is down: the one after the shop's return is at most
    25 % (or 2 s) later, where doubling from 5 s lands up to 100 % later; at most ~50 calls in an hour
    for a lone order (the quarter-of-age schedule: 31), shared by every order that waits with it."""
    for start in (0.0, 0.3, 1.0, 5.5):
        receives = [NOW + start]
        while receives[-1] < NOW + start + 3_600:
            at = receives[-1] + 0.2  # a failed delivery takes a moment
            receives.append(at + back_off_seconds(at - NOW - start, at))
        for outage in (1.0, 9.0, 23.0, 40.0, 90.0, 600.0, 1_500.0):
            after = next(t for t in receives if t >= NOW + start + outage)
            assert after - (NOW + start + outage) <= max(2.0, outage * 0.25) + 1
        assert len(receives) <= 52


def test_back_off_follows_each_records_own_first_receive() -> None:
    policy = back_off(lambda: NOW)
    records = [record(1), record(2, 4, failing_for=40), {"receiptHandle": "h3"}]
    assert policy(records) == {"h1": 2, "h2": 8, "h3": 2}


# -- Allegro's block -------------------------------------------------------------------------------


def test_during_a_block_the_failed_records_come_back_a_second_after_it() -> None:
    policy = until(lambda: 42.3)
    assert policy([record(1), record(2)]) == {"h1": 44, "h2": 44}


def test_without_a_block_the_failed_records_keep_the_queues_timeout() -> None:
    assert until(lambda: 0.0)([record(1)]) == {}


def test_a_block_longer_than_sqs_allows_is_capped_at_twelve_hours() -> None:
    assert until(lambda: 10.0**6)([record(1)]) == {"h1": 43_200}


def test_the_block_is_not_read_when_nothing_failed() -> None:
    reads: list[int] = []

    def blocked_for() -> float:
        reads.append(1)
        return 60.0

    sqs = FakeSqs()
    Redelivery(sqs, lambda: "url").apply(event(record(1)), failures(), until(blocked_for))
    Redelivery(sqs, lambda: "url").apply(event(record(1)), {}, until(blocked_for))

    assert reads == []
    assert sqs.calls == []


# -- setting the visibility ------------------------------------------------------------------------


def test_only_the_failed_records_are_rescheduled_ten_per_request() -> None:
    records = [record(n, receive_count=2, failing_for=40) for n in range(25)]
    failed = [f"m{n}" for n in range(25) if n != 3]
    sqs = FakeSqs()

    done = Redelivery(sqs, lambda: "https://queue").apply(
        event(*records), failures(*failed), back_off(lambda: NOW)
    )

    assert [len(c["Entries"]) for c in sqs.calls] == [10, 10, 4]
    assert {c["QueueUrl"] for c in sqs.calls} == {"https://queue"}
    assert visibility(sqs.calls) == done == {f"h{n}": 8 for n in range(25) if n != 3}
    assert all(len({e["Id"] for e in c["Entries"]}) == len(c["Entries"]) for c in sqs.calls)


@pytest.mark.parametrize(
    ("sqs", "url"),
    [
        (FakeSqs(ClientError({"Error": {"Code": "AccessDenied"}}, "ChangeMessageVisibilityBatch")), "u"),
        (FakeSqs(), None),  # the function's settings do not name its queue
    ],
)
def test_a_failure_to_reschedule_never_fails_the_invocation(
    sqs: FakeSqs, url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    def queue_url() -> str:
        if url is None:
            raise KeyError("QUEUE_X_URL is not set")
        return url

    done = Redelivery(sqs, queue_url).apply(event(record(1)), failures("m1"), back_off(lambda: NOW))

    assert done == {}
    assert "return after the queue's timeout" in caplog.text


def test_records_sqs_refuses_are_logged_and_the_rest_are_set(caplog: pytest.LogCaptureFixture) -> None:
    sqs = FakeSqs(failed=[{"Id": "1", "Code": "ReceiptHandleIsInvalid", "SenderFault": "true"}])

    done = Redelivery(sqs, lambda: "u").apply(
        event(record(1), record(2)), failures("m1", "m2"), back_off(lambda: NOW)
    )

    assert done == {"h1": 2, "h2": 2}
    assert "SQS kept the queue's visibility" in caplog.text
    assert [getattr(r, "codes", None) for r in caplog.records] == [["ReceiptHandleIsInvalid"]]


def test_when_every_record_fails_all_are_rescheduled_and_the_invocation_still_fails() -> None:
    sqs = FakeSqs()

    def batch() -> dict[str, Any]:
        raise BatchProcessingError("All records failed processing.", [])

    with pytest.raises(BatchProcessingError):
        Redelivery(sqs, lambda: "u").settle(
            event(record(1), record(2, 3, failing_for=80)), back_off(lambda: NOW), batch
        )

    assert visibility(sqs.calls) == {"h1": 2, "h2": 16}


def test_a_partial_failure_is_answered_and_its_failures_rescheduled() -> None:
    sqs = FakeSqs()

    answer = Redelivery(sqs, lambda: "u").settle(
        event(record(1), record(2)), back_off(lambda: NOW), lambda: failures("m2")
    )

    assert answer == failures("m2")
    assert visibility(sqs.calls) == {"h2": 2}


# -- through the composition root, against moto ----------------------------------------------------


def rescheduled_through(session: boto3.Session) -> list[dict[str, Any]]:
    """The ChangeMessageVisibilityBatch requests clients of `session` send (moto answers them)."""
    requests: list[dict[str, Any]] = []
    session.events.register(
        "before-parameter-build.sqs.ChangeMessageVisibilityBatch",
        lambda params, **_: requests.append(dict(params)),
    )
    return requests


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("blocked_for", [59.5, None])
def test_an_allegro_consumer_holds_its_failures_back_only_while_allegro_blocks(
    blocked_for: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    messages: list[dict[str, Any]] = []
    while len(messages) < 12:
        messages.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))
    records = [
        sqs_record(m, queue_arn="arn:aws:sqs:eu-central-1:1:orders", region="eu-central-1") for m in messages
    ]
    store = InMemoryBlockedUntilStore()
    if blocked_for:
        store.extend_blocked_until(NOW + blocked_for)
    session = boto3.Session()
    requests = rescheduled_through(session)

    guard = RateGuard(store, clock=lambda: NOW)
    with bound_app({queue_env("orders"): url}, aws=session, rate_guard=guard) as app:
        answer = failures(*(r["messageId"] for r in records[1:]))
        app.redeliver_after_allegro_block("orders", {"Records": records}, lambda: answer)

    expected = {r["receiptHandle"]: 61 for r in records[1:]} if blocked_for else {}
    assert visibility(requests) == expected
    assert {r["QueueUrl"] for r in requests} <= {url}
    assert "return after the queue's timeout" not in caplog.text  # moto accepted every change
