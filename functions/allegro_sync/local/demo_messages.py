"""Issue 15, item 4 in the demo: a buyer writes about an order; the shop and the seller hear of it once;
the seller reads it and answers from the CLI (`messages show`, `messages reply`).

`message_follower` runs on its own one-minute schedule in AWS; here it is fired twice (nothing twice). The
thread stays unread in Allegro until the seller's `messages show` marks it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo

QUESTION = "Dzień dobry, czy mogę odebrać zamówienie osobiście?"
ANSWER = "Tak, zapraszamy jutro od 10:00."


def messages_chapter(demo: Demo) -> None:
    from allegro_sync.cli import messages_cmd
    from allegro_sync.local.demo import COMBINED, SELLERS, expect

    demo._chapter("9c. A buyer's message: to the shop and the seller once, answered from the CLI")
    market = demo.emulator.marketplace
    sqs, sns = demo.runtime.client("sqs"), demo.runtime.client("sns")
    inbox = sqs.create_queue(QueueName="demo-seller-inbox")["QueueUrl"]  # stands in for the seller's e-mail
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=demo.runtime.wiring.topics["seller-messages"], Protocol="sqs", Endpoint=arn)
    form = demo._sell(demo.offers[(COMBINED, next(iter(SELLERS)))], 1)
    thread_id, _ = market.buyer_writes(form, QUESTION)
    runs = []
    for _ in range(2):  # a second run forwards nothing again
        runs.append(demo.runtime.fire("message_follower"))
        demo.runtime.drain(timeout=60)
    shop = [m for m in demo.shop.buyer_messages if m.get("checkout_form_id") == form]
    mails = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    expect(len(shop) == 1, f"the shop got the buyer's message {len(shop)} times, not once")
    subjects = [json.loads(m["Body"]).get("Subject") for m in mails]
    expect(len(mails) == 1, f"the seller was notified {len(mails)} times, not once: {subjects}; runs {runs}")
    expect(QUESTION in json.loads(mails[0]["Body"])["Message"], "the seller's notification lacks the text")
    expect(market.thread(thread_id)["read"] is False, "the thread was marked read before the seller saw it")

    clients = demo.runtime.application("message_follower").connected_clients()  # the CLI's, locally
    messages_cmd.show_in(clients, thread_id)  # `messages show`: prints the thread, then marks it read
    messages_cmd.reply_in(clients, thread_id, ANSWER)  # `messages reply`
    after = market.thread(thread_id)
    expect(after["read"] is True, "messages show did not mark the thread read")
    expect(after["messages"][-1]["text"] == ANSWER, "the seller's answer did not reach the buyer")
    table = Table("what", "seen")
    table.add_row("buyer writes about order", f"{form[:8]}… thread {thread_id[:8]}… (unread)")
    table.add_row("message_follower (twice)", f"shop: 1 buyer.message, seller topic: {len(mails)} e-mail")
    table.add_row("seller: messages show", "printed, then marked read")
    table.add_row("seller: messages reply", f"the buyer sees: {ANSWER!r}")
    demo.console.print(table)
