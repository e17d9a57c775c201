"""Buyer messages and post-purchase issues (issue 15, item 4): Allegro's payloads and the follower's cursor.

Message Center (`/messaging/*`) travels as the public media type, post-purchase issues (`/sale/issues/*`) as
`application/vnd.allegro.beta.v1+json` only (spec). Field names are the spec's (camelCase on the wire).
A message's `text` is the buyer's personal data: it is forwarded and dropped, never logged or stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from allegro_sync.contracts.allegro import AllegroRequest, AllegroResponse
from allegro_sync.contracts.records.item import Item

ISSUES_MEDIA_TYPE = "application/vnd.allegro.beta.v1+json"
THREADS_PAGE = 20  # the spec's maximum `limit` of GET /messaging/threads and .../messages
ISSUES_PAGE = 100  # ... of GET /sale/issues and .../chat
OPEN_ISSUE_STATUSES = ("DISPUTE_ONGOING", "CLAIM_SUBMITTED")


# --- Message Center -----------------------------------------------------------------------------------------


class Interlocutor(AllegroResponse):
    login: str


class Thread(AllegroResponse):
    id: str
    read: bool
    last_message_date_time: str | None = None
    interlocutor: Interlocutor | None = None


class ThreadsList(AllegroResponse):
    threads: list[Thread]
    offset: int
    limit: int


class MessageAuthor(AllegroResponse):
    login: str
    is_interlocutor: bool


class RelatedId(AllegroResponse):
    id: str


class MessageRelatedObject(AllegroResponse):
    offer: RelatedId | None = None
    order: RelatedId | None = None


class Message(AllegroResponse):
    id: str
    created_at: str
    author: MessageAuthor
    text: str
    thread: RelatedId
    relates_to: MessageRelatedObject = Field(default_factory=MessageRelatedObject)


class MessagesList(AllegroResponse):
    messages: list[Message]
    offset: int
    limit: int


class NewMessageInThread(AllegroRequest):
    text: str = Field(min_length=1, max_length=2000)


class ThreadReadFlag(AllegroRequest):
    read: bool


# --- post-purchase issues (BETA) ---


class IssueUser(AllegroResponse):
    login: str | None = None


class IssueCheckoutForm(AllegroResponse):
    id: str | None = None


class IssueState(AllegroResponse):
    status: str | None = None
    chat_active: bool | None = None


class IssueLastMessage(AllegroResponse):
    status: str | None = None  # NEW, BUYER_REPLIED, SELLER_REPLIED, ALLEGRO_ADVISOR_REPLIED
    created_at: str | None = None


class IssueChatSummary(AllegroResponse):
    messages_count: int | None = None
    last_message: IssueLastMessage | None = None


class Issue(AllegroResponse):
    id: str
    type: str
    opened_date: str | None = None
    buyer: IssueUser | None = None
    checkout_form: IssueCheckoutForm | None = None
    current_state: IssueState | None = None
    chat: IssueChatSummary | None = None


class IssuesList(AllegroResponse):
    issues: list[Issue] = Field(default_factory=list)


class IssueMessageAuthor(AllegroResponse):
    login: str | None = None
    role: str | None = None


class IssueMessage(AllegroResponse):
    id: str
    text: str | None = None
    author: IssueMessageAuthor | None = None
    created_at: str | None = None


class IssueChat(AllegroResponse):
    chat: list[IssueMessage] = Field(default_factory=list)


class IssueMessageRequest(AllegroRequest):
    """`MessageRequest`: the spec requires `text` and `type` (and a nonexistent `attachment`: an erratum)."""

    text: str = Field(min_length=1, max_length=20000)
    type: Literal["REGULAR"] = "REGULAR"


# --- the follower's cursor (control table) ------------------------------------------------------------------


@dataclass(frozen=True)
class MessagesCursor:
    """Where following one account's messages stands. `since`: the last run's start (the next one reads from
    it minus an overlap, as Allegro backdates messages: #13907); `seen`: the ids forwarded inside the overlap
    (message id -> createdAt); `issues`: each open issue's chat ids already forwarded or history."""

    since: str | None = None
    started_at: str | None = None  # messages created before it are history, never forwarded
    seen: dict[str, str] = field(default_factory=dict)
    issues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    issue_counts: dict[str, int] = field(default_factory=dict)
    version: int = 0


class MessagesCursorItem(Item):
    """`control`: pk `messages#<account>`, sk `cursor`; ids and times only, never a message's text."""

    since: str | None = None
    started_at: str | None = None
    seen: dict[str, str] = Field(default_factory=dict)
    issues: dict[str, list[str]] = Field(default_factory=dict)
    issue_counts: dict[str, int] = Field(default_factory=dict)
    version: int = 0
    saved_at: str = ""

    @classmethod
    def of(cls, account: str, cursor: MessagesCursor, *, version: int, saved_at: str) -> MessagesCursorItem:
        return cls(
            pk=f"messages#{account}",
            sk="cursor",
            since=cursor.since,
            started_at=cursor.started_at,
            seen=cursor.seen,
            issues={k: list(v) for k, v in cursor.issues.items()},
            issue_counts=cursor.issue_counts,
            version=version,
            saved_at=saved_at,
        )

    def cursor(self) -> MessagesCursor:
        issues = {k: tuple(v) for k, v in self.issues.items()}
        return MessagesCursor(
            self.since, self.started_at, dict(self.seen), issues, dict(self.issue_counts), self.version
        )
