"""The buyer-messages follower (services/buyer_messages.py): forwards once, never marks read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from allegro_sync.contracts.buyer_messages import (
    Issue,
    IssueMessage,
    Message,
    MessagesCursor,
    Thread,
)
from allegro_sync.contracts.messages import BuyerMessage
from allegro_sync.services.buyer_messages import MessageFollower

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
FORM = "29738e61-7f6a-11e8-ac45-09db60ede9d6"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FakeAllegro:
    """Threads and issues as Allegro lists them (newest first); records every call, `read` included."""

    threads_by_id: dict[str, list[Message]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    chats: dict[str, list[IssueMessage]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def write(self, thread_id: str, message_id: str, at: datetime, *, buyer: bool = True) -> None:
        self.threads_by_id.setdefault(thread_id, []).append(
            Message.model_validate(
                {
                    "id": message_id,
                    "createdAt": _iso(at),
                    "author": {"login": "kupujacy" if buyer else "sklep", "isInterlocutor": buyer},
                    "text": "Gdzie jest paczka?",
                    "thread": {"id": thread_id},
                    "relatesTo": {"order": {"id": FORM}},
                }
            )
        )

    def threads(self, *, offset: int = 0) -> list[Thread]:
        self.calls.append("threads")
        found = [
            Thread(id=t, read=False, last_message_date_time=max(m.created_at for m in ms))
            for t, ms in self.threads_by_id.items()
        ]
        found.sort(key=lambda t: t.last_message_date_time or "", reverse=True)
        return found[offset : offset + 20]

    def thread_messages(self, thread_id: str, *, after: str | None = None, offset: int = 0) -> list[Message]:
        self.calls.append(f"messages {thread_id}")
        found = [m for m in reversed(self.threads_by_id[thread_id]) if after is None or m.created_at > after]
        return found[offset : offset + 20]

    def open_issues(self, *, offset: int = 0) -> list[Issue]:
        self.calls.append("issues")
        return self.issues[offset : offset + 100]

    def issue_chat(self, issue_id: str, *, offset: int = 0) -> list[IssueMessage]:
        self.calls.append(f"chat {issue_id}")
        return self.chats[issue_id][offset : offset + 100]

    def mark_thread_read(self, thread_id: str) -> None:
        self.calls.append(f"read {thread_id}")

    def open_issue(self, issue_id: str, opened: datetime, *texts: str) -> None:
        chat = [
            IssueMessage.model_validate(
                {"id": f"{issue_id}-{n}", "text": t, "author": {"login": "kupujacy", "role": "BUYER"}}
            )
            for n, t in enumerate(texts)
        ]
        self.chats[issue_id] = chat
        self.issues = [i for i in self.issues if i.id != issue_id] + [
            Issue.model_validate(
                {
                    "id": issue_id,
                    "type": "DISPUTE",
                    "openedDate": _iso(opened),
                    "checkoutForm": {"id": FORM},
                    "chat": {"messagesCount": len(chat)},
                }
            )
        ]


@dataclass
class MemoryCursors:
    saved: dict[str, MessagesCursor] = field(default_factory=dict)
    crash_on_save: int | None = None  # the n-th save raises (a crash after forwarding, before the save)
    saves: int = 0

    def load(self, account: str) -> MessagesCursor:
        return self.saved.get(account, MessagesCursor())

    def save(self, account: str, cursor: MessagesCursor, *, expected_version: int) -> bool:
        self.saves += 1
        if self.saves == self.crash_on_save:
            raise RuntimeError("the function died")
        if self.load(account).version != expected_version:
            return False
        self.saved[account] = MessagesCursor(**{**cursor.__dict__, "version": expected_version + 1})
        return True


@dataclass
class Recorder:
    sent: list[BuyerMessage] = field(default_factory=list)

    def publish_buyer_message(self, message: BuyerMessage) -> None:
        self.sent.append(message)

    def notify(self, message: BuyerMessage) -> None:
        self.sent.append(message)


@dataclass
class World:
    allegro: FakeAllegro = field(default_factory=FakeAllegro)
    cursors: MemoryCursors = field(default_factory=MemoryCursors)
    shop: Recorder = field(default_factory=Recorder)
    seller: Recorder = field(default_factory=Recorder)
    now: datetime = START

    def run(self) -> None:
        follower = MessageFollower(self.cursors, self.shop, self.seller, lambda: self.now)
        report = follower.follow({"shop1": self.allegro})
        assert report["shop1"].error is None

    def later(self, minutes: float = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def world() -> World:
    return World()


def test_a_new_buyer_message_goes_to_the_shop_and_the_seller_once(world: World) -> None:
    world.run()
    world.later()
    world.allegro.write("T1", "m1", world.now - timedelta(seconds=5))
    world.later()
    world.run()
    world.later()
    world.run()

    assert [m.message_id for m in world.shop.sent] == ["message:m1"]
    assert [m.message_id for m in world.seller.sent] == ["message:m1"]
    assert world.shop.sent[0].checkout_form_id == FORM
    assert world.shop.sent[0].thread_id == "T1"


def test_the_follower_never_marks_a_thread_read(world: World) -> None:
    world.allegro.write("T1", "m1", START - timedelta(minutes=1))
    world.run()

    assert world.shop.sent
    assert not [c for c in world.allegro.calls if c.startswith("read")]


def test_a_backdated_message_within_the_overlap_is_still_forwarded(world: World) -> None:
    """Allegro dates a message when it was written, not when it shows (#13907)."""
    world.run()
    world.later(2)
    world.run()
    world.allegro.write("T1", "late", world.now - timedelta(minutes=10))  # shows now, dated 10 min ago
    world.later()
    world.run()

    assert [m.message_id for m in world.shop.sent] == ["message:late"]


def test_the_sellers_own_reply_and_old_history_are_not_forwarded(world: World) -> None:
    world.allegro.write("OLD", "history", START - timedelta(days=2))
    world.allegro.write("T1", "reply", START - timedelta(minutes=1), buyer=False)
    world.run()

    assert world.shop.sent == []


def test_a_crash_between_forwarding_and_the_cursor_save_repeats_the_same_message_id(world: World) -> None:
    """The outbox key is the Allegro message id: the notifier's delivery log and the shop drop the repeat."""
    world.run()  # save 1
    world.allegro.write("T1", "m1", world.now)
    world.later()
    world.cursors.crash_on_save = 2  # the save right after forwarding m1
    crashed = MessageFollower(world.cursors, world.shop, world.seller, lambda: world.now).follow(
        {"shop1": world.allegro}
    )
    world.later()
    world.run()
    world.later()
    world.run()

    assert crashed["shop1"].error is not None
    assert [m.message_id for m in world.shop.sent] == ["message:m1", "message:m1"]  # once more, same key
    assert world.cursors.saved["shop1"].seen.keys() == {"m1"}


def test_a_dispute_opened_after_following_began_is_forwarded_with_each_new_buyer_message(
    world: World,
) -> None:
    world.run()
    world.later()
    world.allegro.open_issue("I1", world.now, "The kettle leaks")
    world.run()
    world.later()
    world.run()  # nothing new: its chat is not read again
    world.allegro.open_issue("I1", START, "The kettle leaks", "Photo attached")
    world.later()
    world.run()

    assert [m.message_id for m in world.shop.sent] == ["message:I1-0", "message:I1-1"]
    assert world.shop.sent[0].issue_type == "DISPUTE"
    assert world.allegro.calls.count("chat I1") == 2


def test_an_issue_open_before_following_began_is_history(world: World) -> None:
    world.allegro.open_issue("OLD", START - timedelta(days=3), "Old complaint")
    world.run()
    world.allegro.open_issue("OLD", START - timedelta(days=3), "Old complaint", "New words")
    world.later()
    world.run()

    assert [m.message_id for m in world.shop.sent] == ["message:OLD-1"]
