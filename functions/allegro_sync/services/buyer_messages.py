"""Buyer messages and disputes followed, each forwarded once to the shop and the seller (issue 15, item 4).

Allegro has no message events. Each run (`message_follower`, every minute) asks each account for:
- threads whose last message is newer than the window's start (threads come newest first, so paging stops
  at the first older one), then those threads' messages `after` the window's start. The window starts at
  the last run's start minus `OVERLAP`: Allegro dates a buyer's message when it was written, not when it
  shows (#13907), so a message may appear "in the past". Ids forwarded inside the window are kept, so the
  overlap repeats nothing;
- open disputes and claims (`/sale/issues?status=...`); an issue whose message count changed has its chat
  read, and the buyer's messages not forwarded yet go out.
Each buyer message goes (1) to the shop outbox (`message_id` = `message:<id>`: the notifier's delivery log
and the shop's Idempotency-Key drop a repeat), (2) to the seller's SNS topic, then (3) the cursor records it
(compare-and-swap). A crash between 1 and 3 repeats 1 (dropped) and 2 (the seller may get that e-mail
twice: SNS topics that e-mail cannot de-duplicate). Nothing here marks a thread read: the seller has not
seen it (the CLI marks it after showing it). A message's text is never logged or stored here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from allegro_sync.contracts.buyer_messages import (
    ISSUES_PAGE,
    THREADS_PAGE,
    Issue,
    IssueMessage,
    Message,
    MessagesCursor,
    Thread,
)
from allegro_sync.contracts.messages import BuyerMessage
from allegro_sync.services.orders.polling import each_account_report

OVERLAP = timedelta(minutes=15)  # how far back a run looks again (#13907: messages appear backdated)
MAX_THREAD_PAGES = 50  # 1,000 threads with news in one run is far beyond a seller's minute


class MessagesApi(Protocol):
    def threads(self, *, offset: int = 0) -> list[Thread]: ...

    def thread_messages(
        self, thread_id: str, *, after: str | None = None, offset: int = 0
    ) -> list[Message]: ...

    def open_issues(self, *, offset: int = 0) -> list[Issue]: ...

    def issue_chat(self, issue_id: str, *, offset: int = 0) -> list[IssueMessage]: ...


class MessagesCursorStore(Protocol):
    def load(self, account: str) -> MessagesCursor: ...

    def save(self, account: str, cursor: MessagesCursor, *, expected_version: int) -> bool: ...


class MessageOutbox(Protocol):
    def publish_buyer_message(self, message: BuyerMessage) -> None: ...


class SellerNotifier(Protocol):
    """The seller's SNS topic (e-mail when subscribed)."""

    def notify(self, message: BuyerMessage) -> None: ...


class CursorMoved(Exception):
    """Another run saved this account's cursor first: stop; the next run goes on from there."""


@dataclass
class AccountMessages:
    """One account's run, for the handler's log line: ids and counts only, never a text."""

    threads_read: int = 0
    issues_read: int = 0
    forwarded: list[str] = field(default_factory=list)  # message ids
    error: str | None = None


@dataclass
class MessageFollower:
    """One run over every connected account; the module docstring says how."""

    cursors: MessagesCursorStore
    outbox: MessageOutbox
    seller: SellerNotifier
    now: Callable[[], datetime]

    def follow(self, apis: Mapping[str, MessagesApi]) -> dict[str, AccountMessages]:
        return each_account_report(
            apis, AccountMessages, lambda account, api, outcome: _Run(self, account, api, outcome).go()
        )


class _Run:
    """One account's run: the cursor is saved after each forwarded message, and once at the end."""

    def __init__(self, owner: MessageFollower, account: str, api: MessagesApi, outcome: AccountMessages):
        self.owner, self.account, self.api, self.outcome = owner, account, api, outcome
        self.cursor = owner.cursors.load(account)

    def go(self) -> None:
        started = self.owner.now()
        # The first run also takes the last OVERLAP's messages: a backdated one written just before it counts.
        first = self.cursor.started_at or _iso(started - OVERLAP)
        previous = datetime.fromisoformat(self.cursor.since) if self.cursor.since else None
        low = max(first, _iso(previous - OVERLAP)) if previous else first
        self.cursor = replace(self.cursor, started_at=first)
        self._threads(low)
        self._issues(first)
        # Ids older than the next run's window can no longer come back: forget them.
        next_low = max(first, _iso(started - OVERLAP))
        seen = {k: v for k, v in self.cursor.seen.items() if v > next_low}
        self._save(replace(self.cursor, since=started.isoformat(), seen=seen))

    def _threads(self, low: str) -> None:
        for page in range(MAX_THREAD_PAGES):
            threads = self.api.threads(offset=page * THREADS_PAGE)
            fresh = [t for t in threads if t.last_message_date_time and _norm(t.last_message_date_time) > low]
            for thread in fresh:
                self.outcome.threads_read += 1
                self._thread(thread, low)
            if len(fresh) < len(threads) or len(threads) < THREADS_PAGE:
                return  # newest first: the rest is older than the window

    def _thread(self, thread: Thread, low: str) -> None:
        offset, found = 0, []
        while True:
            page = self.api.thread_messages(thread.id, after=low, offset=offset)
            found += page
            if len(page) < THREADS_PAGE:
                break
            offset += THREADS_PAGE
        for message in sorted(found, key=lambda m: _norm(m.created_at)):
            if not message.author.is_interlocutor or message.id in self.cursor.seen:
                continue  # the seller's own message, or forwarded already
            order = message.relates_to.order
            self._forward(
                message.id,
                {"source": "thread", "thread_id": thread.id, "checkout_form_id": order.id if order else None},
                (message.author.login, message.created_at, message.text),
                seen={**self.cursor.seen, message.id: _norm(message.created_at)},
            )

    def _issues(self, first: str) -> None:
        issues: list[Issue] = []
        for page in range(MAX_THREAD_PAGES):
            batch = self.api.open_issues(offset=page * ISSUES_PAGE)
            issues += batch
            if len(batch) < ISSUES_PAGE:
                break
        still_open = {i.id for i in issues}
        for issue in issues:
            count = issue.chat.messages_count if issue.chat else None
            known = self.cursor.issues.get(issue.id)
            if known is not None and count is not None and self.cursor.issue_counts.get(issue.id) == count:
                continue  # nothing new in its chat
            self.outcome.issues_read += 1
            self._issue(
                issue, known, count, history=known is None and _norm(issue.opened_date or "") <= first
            )
        # Closed issues take no message: forget them (the cursor stays small).
        self.cursor = replace(
            self.cursor,
            issues={k: v for k, v in self.cursor.issues.items() if k in still_open},
            issue_counts={k: v for k, v in self.cursor.issue_counts.items() if k in still_open},
        )

    def _issue(
        self, issue: Issue, known: tuple[str, ...] | None, count: int | None, *, history: bool
    ) -> None:
        chat: list[IssueMessage] = []
        while True:
            page = self.api.issue_chat(issue.id, offset=len(chat))
            chat += page
            if len(page) < ISSUES_PAGE:
                break
        done = list(known or ())
        for message in chat:
            if message.id in done:
                continue
            done.append(message.id)
            author = message.author
            if history or author is None or author.role != "BUYER":
                continue  # an issue opened before following began is history; the seller's own words
            form = issue.checkout_form.id if issue.checkout_form else None
            self._forward(
                message.id,
                {"source": "issue", "issue_id": issue.id, "issue_type": issue.type, "checkout_form_id": form},
                (author.login or "", message.created_at or "", message.text or ""),
                issues={**self.cursor.issues, issue.id: tuple(done)},
            )
        counts = {**self.cursor.issue_counts, **({issue.id: count} if count is not None else {})}
        self.cursor = replace(
            self.cursor, issues={**self.cursor.issues, issue.id: tuple(done)}, issue_counts=counts
        )

    def _forward(
        self,
        allegro_id: str,
        where: dict[str, str | None],
        said: tuple[str, str, str],
        *,
        seen: dict[str, str] | None = None,
        issues: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Shop outbox, then the seller, then the cursor: a crash before the save repeats the first two.
        `said`: (author login, createdAt, text); the outbox key is Allegro's message id."""
        login, created_at, text = said
        message = BuyerMessage.model_validate(
            {
                "message_id": f"message:{allegro_id}",
                "account": self.account,
                **where,
                "author_login": login,
                "created_at": created_at,
                "text": text,
            }
        )
        self.owner.outbox.publish_buyer_message(message)
        self.owner.seller.notify(message)
        self.outcome.forwarded.append(message.message_id)
        self._save(
            replace(
                self.cursor,
                seen=self.cursor.seen if seen is None else seen,
                issues=self.cursor.issues if issues is None else issues,
            )
        )

    def _save(self, cursor: MessagesCursor) -> None:
        if not self.owner.cursors.save(self.account, cursor, expected_version=self.cursor.version):
            raise CursorMoved(f"{self.account}: another run saved the messages cursor first")
        self.cursor = replace(cursor, version=self.cursor.version + 1)


def _norm(moment: str) -> str:
    """Allegro's times as comparable strings (UTC, milliseconds, `Z`), whatever precision they came with."""
    if not moment:
        return ""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return _iso(parsed)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
