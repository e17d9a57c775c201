"""A buyer writes about an order: the follower forwards it once, the seller reads and answers from the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.after_sale.conftest import AfterSaleWorld

pytestmark = pytest.mark.integration

TEXT = "Dzień dobry, kiedy wyślecie paczkę?"


def _seller_inbox(world: AfterSaleWorld) -> tuple[Any, str]:
    """An SQS queue subscribed to the seller's topic: what the seller's e-mail would receive."""
    sqs, sns = world.runtime.client("sqs"), world.runtime.client("sns")
    url = sqs.create_queue(QueueName="seller-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=world.runtime.wiring.topics["seller-messages"], Protocol="sqs", Endpoint=arn)
    return sqs, url


def _received(sqs: Any, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in got]


def test_a_buyer_message_reaches_the_shop_and_the_seller_once_and_stays_unread_until_shown(
    world: AfterSaleWorld,
) -> None:
    form_id, _ = world.sold("SKU-MSG", level=5, quantity=1)
    sqs, inbox = _seller_inbox(world)
    world.runtime.fire("message_follower")  # following starts
    world.outbox()
    thread_id, message_id = world.emulator.marketplace.buyer_writes(form_id, TEXT)

    world.runtime.fire("message_follower")
    world.runtime.fire("message_follower")  # nothing twice

    forwarded = [m for m in world.outbox() if m.get("kind") == "buyer.message"]
    assert [(m["message_id"], m["checkout_form_id"], m["text"]) for m in forwarded] == [
        (f"message:{message_id}", form_id, TEXT)
    ]
    [notified] = _received(sqs, inbox)
    assert TEXT in notified
    assert world.emulator.marketplace.thread(thread_id)["read"] is False  # the seller has not seen it

    env = world.stack.env("message_follower")
    listed = world.stack.cli("messages", "list", env=env)
    shown = world.stack.cli("messages", "show", thread_id, env=env)
    replied = world.stack.cli("messages", "reply", thread_id, "Wysyłamy dziś.", env=env)
    unknown = world.stack.cli("messages", "show", "no-such-thread", env=env)

    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if thread_id in line)
    assert "*" in row  # unread
    assert shown.exit_code == 0
    assert TEXT in shown.output
    assert replied.exit_code == 0
    after = world.emulator.marketplace.thread(thread_id)
    assert after["read"] is True
    assert [m["author"]["isInterlocutor"] for m in after["messages"]] == [True, False]
    assert unknown.exit_code != 0
    assert "no connected account has a message thread or dispute 'no-such-thread'" in unknown.output


def test_a_dispute_and_its_new_buyer_message_are_forwarded_and_answered_in_its_chat(
    world: AfterSaleWorld,
) -> None:
    form_id, _ = world.sold("SKU-ISSUE", level=5, quantity=1)
    world.runtime.fire("message_follower")
    world.outbox()
    issue_id = world.emulator.marketplace.open_issue(form_id, "The headphones are broken")

    world.runtime.fire("message_follower")
    world.emulator.marketplace.buyer_writes_in_issue(issue_id, "Photo attached")
    world.runtime.fire("message_follower")
    replied = world.stack.cli(
        "messages", "reply", issue_id, "Please send them back.", env=world.stack.env("message_follower")
    )

    forwarded = [m for m in world.outbox() if m.get("kind") == "buyer.message"]
    assert [(m["issue_id"], m["issue_type"], m["text"]) for m in forwarded] == [
        (issue_id, "DISPUTE", "The headphones are broken"),
        (issue_id, "DISPUTE", "Photo attached"),
    ]
    assert replied.exit_code == 0
    world.runtime.fire("message_follower")  # the seller's own answer is not forwarded
    assert [m for m in world.outbox() if m.get("kind") == "buyer.message"] == []
