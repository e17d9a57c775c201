"""moto under concurrent requests: conditional writes, transactions and receives stay atomic.

Each race is made certain rather than hoped for: a moto internal between a check and its write is wrapped
so that the first request to get there holds the gap open until a rival request has been answered. Without
the project's patch the rival runs inside the gap, so the race happens every time; with it the rival waits
for the backend's lock, the gap just closes after `WINDOW_SECONDS`, and the two run one after the other.
Nothing asserts on time.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.validators import UpdateExpressionValidator
from moto.secretsmanager.models import SecretsManagerBackend
from moto.sqs.models import Message, Queue

pytestmark = pytest.mark.integration

REGION = "eu-central-1"
WINDOW_SECONDS = 1.0  # how long the first request waits in the gap for a rival (with the patch none can come)
RIVALS = 4


class Gap:
    """The span between a check and its write, held open by the first request that reaches it."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.rival_answered = threading.Event()
        self._taken = False
        self._guard = threading.Lock()

    def hold(self) -> None:
        with self._guard:
            if self._taken:
                return
            self._taken = True
        self.opened.set()
        self.rival_answered.wait(WINDOW_SECONDS)

    def wait_opened(self) -> None:
        assert self.opened.wait(10), "no request reached the gap"


def hold_in(
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    name: str,
    gap: Gap,
    when: Callable[..., bool],
    *,
    after: bool = False,
) -> None:
    """Make `owner.name` hold `gap` before it runs (or after, keeping what it read) if `when(self, *args)`."""
    original = getattr(owner, name)

    def held(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not after and when(self, *args):
            gap.hold()
        result = original(self, *args, **kwargs)
        if after and when(self, *args):
            gap.hold()
        return result

    monkeypatch.setattr(owner, name, held)


@pytest.fixture
def aws_client(moto_endpoint: str) -> Callable[[str], Any]:
    config = Config(retries={"max_attempts": 1}, max_pool_connections=RIVALS + 2)
    return lambda service: boto3.client(
        service, region_name=REGION, endpoint_url=moto_endpoint, config=config
    )


def unique(prefix: str) -> str:
    """A name no other test uses: the moto server and its accounts are shared by the whole process."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def background() -> Iterator[ThreadPoolExecutor]:
    """Where the request that reaches the gap first runs, while the test sends its rivals."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


@pytest.fixture
def dynamodb(aws_client: Callable[[str], Any]) -> Iterator[tuple[Any, str]]:
    dynamodb = aws_client("dynamodb")
    table = unique("race")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield dynamodb, table
    dynamodb.delete_table(TableName=table)


def test_of_racing_conditional_puts_of_one_new_item_exactly_one_wins(
    dynamodb: tuple[Any, str], background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, table = dynamodb
    gap = Gap()
    # Table.put_item reads the current item, checks the condition on it, then stores: hold after the read.
    hold_in(monkeypatch, Table, "get_item", gap, lambda t, *_: t.name == table, after=True)

    def put(writer: str) -> Callable[[], Any]:
        return lambda: client.put_item(
            TableName=table,
            Item={"pk": {"S": "order#1"}, "writer": {"S": writer}},
            ConditionExpression="attribute_not_exists(pk)",
        )

    first = background.submit(lambda: outcome(put("first")))
    gap.wait_opened()
    with ThreadPoolExecutor(RIVALS) as pool:
        rivals = list(pool.map(lambda n: outcome(put(f"rival{n}")), range(RIVALS)))
    gap.rival_answered.set()
    outcomes = {"first": first.result(timeout=30)} | {f"rival{n}": o for n, o in enumerate(rivals)}

    winners = [writer for writer, o in outcomes.items() if o == "ok"]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes.values() if o != "ok") == ["ConditionalCheckFailedException"] * RIVALS
    stored = client.get_item(TableName=table, Key={"pk": {"S": "order#1"}}, ConsistentRead=True)["Item"]
    assert stored["writer"]["S"] == winners[0]


def test_a_counter_bumped_under_a_version_condition_counts_every_successful_bump(
    dynamodb: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, table = dynamodb
    key = {"pk": {"S": "stock#sku-1"}}
    client.put_item(TableName=table, Item={**key, "count": {"N": "0"}, "version": {"N": "0"}})
    gap = Gap()
    # update_item checks the condition on the live item, then validates and applies the update: hold between.
    hold_in(monkeypatch, UpdateExpressionValidator, "validate", gap, lambda v, *_: v.table.name == table)
    bumps_each = 3

    def bump_until_done() -> int:
        """Read, then write count+1 if the version is still the one read; retry when it is not."""
        successes = 0
        while successes < bumps_each:
            item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
            count, version = int(item["count"]["N"]), int(item["version"]["N"])
            try:
                client.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET #c = :count, #v = :version",
                    ConditionExpression="#v = :seen",
                    ExpressionAttributeNames={"#c": "count", "#v": "version"},
                    ExpressionAttributeValues={
                        ":count": {"N": str(count + 1)},
                        ":version": {"N": str(version + 1)},
                        ":seen": {"N": str(version)},
                    },
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            successes += 1
            gap.rival_answered.set()
        return successes

    with ThreadPoolExecutor(RIVALS + 1) as pool:
        successes = sum(pool.map(lambda _: bump_until_done(), range(RIVALS + 1)))

    item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert successes == bumps_each * (RIVALS + 1)
    assert (int(item["count"]["N"]), int(item["version"]["N"])) == (successes, successes)


def test_a_cancelled_transaction_keeps_a_write_another_request_made_meanwhile(
    dynamodb: tuple[Any, str], background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, table = dynamodb
    client.put_item(TableName=table, Item={"pk": {"S": "lease"}, "owner": {"S": "someone"}})
    gap = Gap()
    # The transaction has backed the table up and reads each item it names before applying it: hold there.
    hold_in(monkeypatch, DynamoDBBackend, "get_item", gap, lambda _, name, *__: name == table)
    transaction = background.submit(
        lambda: outcome(
            lambda: client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "order#1"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "lease"}},
                            "ConditionExpression": "#o = :me",
                            "ExpressionAttributeNames": {"#o": "owner"},
                            "ExpressionAttributeValues": {":me": {"S": "me"}},
                        }
                    },
                ]
            )
        )
    )
    gap.wait_opened()
    client.put_item(TableName=table, Item={"pk": {"S": "order#2"}})
    gap.rival_answered.set()

    assert transaction.result(timeout=30) == "TransactionCanceledException"
    stored = {i["pk"]["S"] for i in client.scan(TableName=table, ConsistentRead=True)["Items"]}
    assert stored == {"lease", "order#2"}


@pytest.fixture
def sqs(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("sqs")


def make_queue(sqs: Any, *, fifo: bool = False) -> tuple[str, str]:
    name = unique("race") + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    return name, sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def receive(sqs: Any, url: str) -> list[str]:
    response = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60, WaitTimeSeconds=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


def test_concurrent_receives_never_hand_out_the_same_message_twice(
    sqs: Any, background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, url = make_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody=f"{name}:only")
    gap = Gap()
    # A receive checks that the message is visible, then marks it in flight: hold between.
    hold_in(monkeypatch, Message, "mark_received", gap, lambda m, *_: m.body.startswith(name))

    first = background.submit(lambda: receive(sqs, url))
    gap.wait_opened()
    with ThreadPoolExecutor(RIVALS) as pool:
        rivals = [body for got in pool.map(lambda _: receive(sqs, url), range(RIVALS)) for body in got]
    gap.rival_answered.set()

    assert first.result(timeout=30) + rivals == [f"{name}:only"]


def test_a_fifo_groups_next_message_waits_while_its_first_is_in_flight(
    sqs: Any, background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, url = make_queue(sqs, fifo=True)
    for n in (1, 2):
        sqs.send_message(
            QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="sku-1", MessageDeduplicationId=f"m{n}"
        )
    gap = Gap()
    # A FIFO receive notes the groups in flight when it starts, then walks the queue: hold after the note.
    groups = Queue.pending_message_groups

    def noted(queue: Queue) -> set[str]:
        in_flight = groups.fget(queue)
        if queue.name == name:
            gap.hold()
        return in_flight

    monkeypatch.setattr(Queue, "pending_message_groups", property(noted))

    first = background.submit(lambda: receive(sqs, url))
    gap.wait_opened()
    rival = receive(sqs, url)
    gap.rival_answered.set()

    assert sorted(first.result(timeout=30) + rival) == ["m1"]


def test_a_message_sent_while_another_is_deleted_is_kept(
    sqs: Any, background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, url = make_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="done")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]
    gap = Gap()
    # DeleteMessage walks the queue's list into a new one, then swaps it in: hold after the walk.
    deleting = Queue.delete_message

    class HeldAfterWalk(list[Message]):
        def __iter__(self) -> Iterator[Message]:
            yield from super().__iter__()
            gap.hold()

    def delete_message(queue: Queue, receipt_handle: str) -> None:
        if queue.name == name:
            queue._messages = HeldAfterWalk(queue._messages)  # the list moto rebuilds
        deleting(queue, receipt_handle)

    monkeypatch.setattr(Queue, "delete_message", delete_message)

    deleted = background.submit(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle))
    gap.wait_opened()
    sqs.send_message(QueueUrl=url, MessageBody="new")
    gap.rival_answered.set()
    deleted.result(timeout=30)

    assert receive(sqs, url) == ["new"]


def test_of_two_creators_of_one_secret_one_is_told_it_exists(
    aws_client: Callable[[str], Any], background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = aws_client("secretsmanager")
    name = unique("race")
    gap = Gap()
    # CreateSecret checks the name is free, then stores the secret: hold after the check.
    hold_in(
        monkeypatch,
        SecretsManagerBackend,
        "_check_with_existing_secrets_and_versions",
        gap,
        lambda _, secret, *__: secret == name,
        after=True,
    )

    def create(value: str) -> Callable[[], Any]:
        return lambda: secrets.create_secret(Name=name, SecretString=value)

    first = background.submit(lambda: outcome(create("first")))
    gap.wait_opened()
    rival = outcome(create("rival"))
    gap.rival_answered.set()
    outcomes = {"first": first.result(timeout=30), "rival": rival}

    assert sorted(outcomes.values()) == ["ResourceExistsException", "ok"]
    winner = next(value for value, o in outcomes.items() if o == "ok")
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == winner
    secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_a_long_poll_is_answered_by_a_message_another_client_sends_meanwhile(
    sqs: Any, background: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock must not be held while a receive waits, or no send could reach the queue it waits on."""
    name, url = make_queue(sqs)
    waiting = threading.Event()
    wait_for_messages = Queue.wait_for_messages

    def wait(queue: Queue, timeout: int) -> None:
        if queue.name == name:
            waiting.set()
        wait_for_messages(queue, timeout)

    monkeypatch.setattr(Queue, "wait_for_messages", wait)

    poll = background.submit(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", []))
    assert waiting.wait(10), "the receive never waited"
    sqs.send_message(QueueUrl=url, MessageBody="late")

    assert [m["Body"] for m in poll.result(timeout=30)] == ["late"]
