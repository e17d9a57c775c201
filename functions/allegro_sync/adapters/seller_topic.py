"""Issue 15, item 4: a buyer's message to the seller through the stack's `seller-messages` SNS topic.

The topic is encrypted with the stack's key; with `-c messagesEmail=...` the stack subscribes that address.
The notification carries the buyer's words (the seller's own correspondence); nothing of it is logged.
"""

from __future__ import annotations

from typing import Any

from allegro_sync.contracts.messages import BuyerMessage

SUBJECT_LIMIT = 100  # SNS: e-mail subjects up to 100 printable ASCII characters


def subject(message: BuyerMessage) -> str:
    """ASCII only and no buyer data: what it is and which order."""
    what = "dispute/claim message" if message.source == "issue" else "buyer message"
    about = f" about order {message.checkout_form_id}" if message.checkout_form_id else ""
    return f"Allegro ({message.account}): new {what}{about}"[:SUBJECT_LIMIT]


def body(message: BuyerMessage) -> str:
    where = (
        f"Dispute/claim {message.issue_id} ({message.issue_type})"
        if message.source == "issue"
        else f"Thread {message.thread_id}"
    )
    answer = message.issue_id if message.source == "issue" else message.thread_id
    return (
        f"{where}, from {message.author_login} at {message.created_at}:\n\n{message.text}\n\n"
        f'Answer: allegro-sync messages reply {answer} "..." (or in Allegro\'s Message Center).'
    )


class SnsSellerNotifier:
    def __init__(self, topic_arn: str, client: Any) -> None:
        self._topic = topic_arn
        self._sns = client

    def notify(self, message: BuyerMessage) -> None:
        self._sns.publish(TopicArn=self._topic, Subject=subject(message), Message=body(message))
