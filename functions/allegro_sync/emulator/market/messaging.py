"""Buyer messages (Message Center, `/messaging/*`) and post-purchase issues (`/sale/issues/*`, BETA).

A thread is one buyer talking to one seller; its `read` flag is the seller's and changes only through
`PUT .../read`: listing threads or messages, or writing a reply, leaves it alone (#8736). A buyer's message
is written (`createdAt`) before the buyer confirms it and shows in the API only then (#13907): with
`Faults.message_backdated_seconds` > 0 it appears dated that long in the past, so a follower that reads
strictly "after the last time I looked" misses it. Issues (disputes and claims) answer only the
beta media type (spec); the buyer opens one and writes in its chat through the admin back door.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.common import (
    Reject,
    beta_ok,
    beta_rejected,
    body_object,
    int_arg,
    iso,
    new_uuid,
    not_found,
    obj,
    ok,
    time_arg,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

ISSUES_BETA_PATHS = ("/sale/issues",)
OPEN_ISSUE_STATUSES = ("DISPUTE_ONGOING", "CLAIM_SUBMITTED")
ISSUE_STATUSES = (
    *OPEN_ISSUE_STATUSES,
    "DISPUTE_CLOSED",
    "DISPUTE_UNRESOLVED",
    "CLAIM_ACCEPTED",
    "CLAIM_REJECTED",
)
MAX_TEXT = 2000  # NewMessage / NewMessageInThread
MAX_ISSUE_TEXT = 20000  # MessageRequest
ISSUE_MESSAGE_TYPES = (
    "REGULAR",
    "END_REQUEST",
    "RETURN_REQUIRED_SELLER_LABEL",
    "RETURN_REQUIRED_CUSTOM",
    "RETURN_NOT_REQUIRED",
)


@dataclass
class Thread:
    id: str
    seller_id: str
    buyer_login: str
    read: bool = True
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first, with "_visible_at"


@dataclass
class Inbox:
    """Every seller's threads and issues (guarded by the Marketplace's lock, like all of MarketState)."""

    threads: dict[str, Thread] = field(default_factory=dict)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> issue, with "_seller" and "_chat"


def _thread_id(st: MarketState) -> str:
    """Real thread ids are 43 URL-safe characters (#5192: yQYYEFO7DZ50vi6fgHyrMD703kAhikJ0j7HIkZAKW7i)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(st.rng.choice(alphabet) for _ in range(43))


def _visible(st: MarketState, message: dict[str, Any]) -> bool:
    return bool(message["_visible_at"] <= st.now())


def _shown(message: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in message.items() if not k.startswith("_")}


def _seller_login(st: MarketState, seller_id: str) -> str:
    return st.sellers[seller_id].login or seller_id


# ------------------------------------------------------------------------------------------ buyer side


def _add_message(
    st: MarketState, thread: Thread, text: str, *, by_buyer: bool, order_id: str | None
) -> dict[str, Any]:
    now = st.now()
    delay = st.faults.message_backdated_seconds if by_buyer else 0.0
    written = now - timedelta(seconds=delay)  # written before the buyer confirmed it (#13907)
    relates: dict[str, Any] = {"order": {"id": order_id}} if order_id else {}
    message: dict[str, Any] = {
        "id": new_uuid(st.rng),
        "status": "DELIVERED",
        "type": "MESSAGE_CENTER",
        "createdAt": iso(written),
        "thread": {"id": thread.id},
        "author": {
            "login": thread.buyer_login if by_buyer else _seller_login(st, thread.seller_id),
            "isInterlocutor": by_buyer,
        },
        "text": text,
        "subject": None,
        "relatesTo": relates,
        "hasAdditionalAttachments": False,
        "attachments": [],
        "_visible_at": now,
    }
    thread.messages.append(message)
    if by_buyer:
        thread.read = False
    return message


def buyer_writes(st: MarketState, form_id: str, text: str) -> tuple[str, str]:
    """The buyer of `form_id` writes to its seller about the order: (thread id, message id)."""
    form = st.checkout_forms.get(form_id)
    if form is None:
        raise KeyError(f"checkout form {form_id} not found")
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"a message has 1-{MAX_TEXT} characters")
    login = str(form.buyer["login"])
    thread = next(
        (t for t in st.inbox.threads.values() if t.seller_id == form.seller_id and t.buyer_login == login),
        None,
    )
    if thread is None:
        thread = Thread(_thread_id(st), form.seller_id, login)
        st.inbox.threads[thread.id] = thread
    message = _add_message(st, thread, text, by_buyer=True, order_id=form_id)
    return thread.id, str(message["id"])


def open_issue(st: MarketState, form_id: str, kind: str, text: str) -> str:
    """The buyer opens a dispute (DISPUTE) or a claim (CLAIM) about a paid order; its id."""
    form = st.checkout_forms.get(form_id)
    if form is None:
        raise KeyError(f"checkout form {form_id} not found")
    if kind not in ("DISPUTE", "CLAIM"):
        raise ValueError("type must be DISPUTE or CLAIM")
    if not text or len(text) > MAX_ISSUE_TEXT:
        raise ValueError(f"a message has 1-{MAX_ISSUE_TEXT} characters")
    now = st.now()
    ident = new_uuid(st.rng)
    first = _issue_message(st, text, str(form.buyer["login"]), "BUYER")
    claim = kind == "CLAIM"
    st.inbox.issues[ident] = {
        "id": ident,
        "type": kind,
        "referenceNumber": f"{len(st.inbox.issues) + 1}/{now.year}" if claim else None,
        "decisionDueDate": iso(now + timedelta(days=14)) if claim else None,
        "openedDate": iso(now),
        "subject": "OTHER",
        "buyer": {"id": str(form.buyer.get("id", "")), "login": str(form.buyer["login"])},
        "checkoutForm": {"id": form.id, "createdAt": iso(form.bought_at)},
        "currentState": {
            "status": "CLAIM_SUBMITTED" if claim else "DISPUTE_ONGOING",
            "statusDueDate": iso(now + timedelta(days=14)) if claim else None,
            "returnRequired": None,
            "chatActive": True,
        },
        "chat": {
            "lastMessage": {"status": "NEW", "createdAt": first["createdAt"]},
            "messagesCount": 1,
            "initialMessage": _shown(first),
        },
        "expectations": [],
        "description": None,
        "right": "COMPLAINT" if claim else "WARRANTY",  # as the spec's examples
        "attachments": [],
        "_seller": form.seller_id,
        "_chat": [first],
    }
    return ident


def _issue_message(st: MarketState, text: str, login: str, role: str) -> dict[str, Any]:
    return {
        "id": new_uuid(st.rng),
        "text": text,
        "attachments": [],
        "author": {"login": login, "role": role},
        "createdAt": iso(st.now()),
    }


def _add_issue_message(st: MarketState, issue: dict[str, Any], message: dict[str, Any], status: str) -> None:
    issue["_chat"].append(message)
    issue["chat"]["messagesCount"] = len(issue["_chat"])
    issue["chat"]["lastMessage"] = {"status": status, "createdAt": message["createdAt"]}


def buyer_writes_in_issue(st: MarketState, issue_id: str, text: str) -> str:
    issue = st.inbox.issues.get(issue_id)
    if issue is None:
        raise KeyError(f"issue {issue_id} not found")
    if not issue["currentState"]["chatActive"]:
        raise ValueError(f"issue {issue_id} is closed")
    message = _issue_message(st, text, issue["buyer"]["login"], "BUYER")
    _add_issue_message(st, issue, message, "BUYER_REPLIED")
    return str(message["id"])


def close_issue(st: MarketState, issue_id: str) -> None:
    issue = st.inbox.issues.get(issue_id)
    if issue is None:
        raise KeyError(f"issue {issue_id} not found")
    closed = "CLAIM_ACCEPTED" if issue["type"] == "CLAIM" else "DISPUTE_CLOSED"
    issue["currentState"].update({"status": closed, "chatActive": False})


# ----------------------------------------------------------------------------------------- seller side


def _thread_view(st: MarketState, thread: Thread) -> dict[str, Any]:
    visible = [m for m in thread.messages if _visible(st, m)]
    last = max((m["createdAt"] for m in visible), default=None)
    return {
        "id": thread.id,
        "read": thread.read,
        "lastMessageDateTime": last,
        "interlocutor": {
            "login": thread.buyer_login,
            "avatarUrl": "https://a.allegroimg.com/original/1d0561/eed277e24610b97bcc84322e37f4",
        },
    }


def _page(request: EmulatorRequest, default: int, most: int, last: int) -> tuple[int, int]:
    """`limit` (1..most, default) and `offset` (0..last), as the spec bounds them."""
    return int_arg(request, "limit", default, 1, most), int_arg(request, "offset", 0, 0, last)


def _my_thread(st: MarketState, request: EmulatorRequest, thread_id: str) -> Thread:
    thread = st.inbox.threads.get(thread_id)
    if thread is None or thread.seller_id != request.seller_id:
        raise not_found("Thread", thread_id)
    return thread


def list_threads(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    try:
        limit, offset = _page(request, 20, 20, 15_000_000)
    except Reject as rejected:
        return rejected.response()
    views = [_thread_view(st, t) for t in st.inbox.threads.values() if t.seller_id == request.seller_id]
    views = [v for v in views if v["lastMessageDateTime"] is not None]
    views.sort(key=lambda v: str(v["lastMessageDateTime"]), reverse=True)
    return ok({"threads": views[offset : offset + limit], "offset": offset, "limit": limit})


def get_thread(st: MarketState, request: EmulatorRequest, thread_id: str) -> EmulatorResponse:
    try:
        return ok(_thread_view(st, _my_thread(st, request, thread_id)))
    except Reject as rejected:
        return rejected.response()


def mark_read(st: MarketState, request: EmulatorRequest, thread_id: str) -> EmulatorResponse:
    """`PUT .../read` `{"read": bool}`: the only way the seller's flag changes (#8736)."""
    try:
        thread = _my_thread(st, request, thread_id)
        flag = body_object(request).get("read")
        if not isinstance(flag, bool):
            raise Reject.one(422, "VALIDATION_ERROR", "read must be true or false", path="read")
    except Reject as rejected:
        return rejected.response()
    thread.read = flag
    return ok(_thread_view(st, thread))


def list_messages(st: MarketState, request: EmulatorRequest, thread_id: str) -> EmulatorResponse:
    """Newest first; `after`/`before` compare `createdAt` (exclusive), as the spec says."""
    try:
        thread = _my_thread(st, request, thread_id)
        limit, offset = _page(request, 20, 20, 15_000)
        after, before = _bound(request, "after"), _bound(request, "before")
        if before is not None and request.arg("offset") is not None:
            raise Reject.one(422, "VALIDATION_ERROR", "before cannot be used with offset", path="before")
    except Reject as rejected:
        return rejected.response()
    found = [m for m in reversed(thread.messages) if _visible(st, m)]
    found = [
        m
        for m in found
        if (after is None or m["createdAt"] > iso(after)) and (before is None or m["createdAt"] < iso(before))
    ]
    page = [_shown(m) for m in found[offset : offset + limit]]
    return ok({"messages": page, "offset": offset, "limit": limit})


def _bound(request: EmulatorRequest, name: str) -> datetime | None:
    if request.arg(name) is None:
        return None
    moment = time_arg(request, name)
    if moment is None:
        raise Reject.one(422, "VALIDATION_ERROR", f"{name} must be an ISO 8601 time", path=name)
    return moment


def _text(body: dict[str, Any], maximum: int) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > maximum:
        raise Reject.one(422, "VALIDATION_ERROR", f"text must have 1-{maximum} characters", path="text")
    return text


def reply_in_thread(st: MarketState, request: EmulatorRequest, thread_id: str) -> EmulatorResponse:
    """The seller writes in a thread; the thread's read flag stays as it was (#8736)."""
    try:
        thread = _my_thread(st, request, thread_id)
        text = _text(body_object(request), MAX_TEXT)
    except Reject as rejected:
        return rejected.response()
    return ok(_shown(_add_message(st, thread, text, by_buyer=False, order_id=None)), 201)


def new_message(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """`POST /messaging/messages`: to a buyer about an order (the thread is found or started)."""
    try:
        body = body_object(request)
        text = _text(body, MAX_TEXT)
        login = obj(body.get("recipient")).get("login")
        order_id = obj(body.get("order")).get("id")
        form = st.checkout_forms.get(str(order_id))
        if form is None or form.seller_id != request.seller_id or form.buyer.get("login") != login:
            raise Reject.one(
                422, "VALIDATION_ERROR", "recipient is not the buyer of this order", path="order"
            )
    except Reject as rejected:
        return rejected.response()
    thread = next(
        (t for t in st.inbox.threads.values() if t.seller_id == form.seller_id and t.buyer_login == login),
        None,
    )
    if thread is None:
        thread = Thread(_thread_id(st), form.seller_id, str(login))
        st.inbox.threads[thread.id] = thread
    return ok(_shown(_add_message(st, thread, text, by_buyer=False, order_id=form.id)), 201)


# ----------------------------------------------------------------------------------- issues (BETA)


def _my_issue(st: MarketState, request: EmulatorRequest, issue_id: str) -> dict[str, Any]:
    issue = st.inbox.issues.get(issue_id)
    if issue is None or issue["_seller"] != request.seller_id:
        raise not_found("Issue", issue_id)
    return issue


def list_issues(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """Newest opened first; `status` (repeatable) and `checkoutForm.id` filter."""
    try:
        limit, offset = _page(request, 10, 100, 1_000_000)
        wanted = {v for raw in request.query.get("status", []) for v in raw.split(",")}
        if wanted - set(ISSUE_STATUSES):
            raise Reject.one(422, "VALIDATION_ERROR", "unknown status", path="status")
    except Reject as rejected:
        return beta_rejected(rejected)
    form_id = request.arg("checkoutForm.id")
    found = [
        i
        for i in st.inbox.issues.values()
        if i["_seller"] == request.seller_id
        and (not wanted or i["currentState"]["status"] in wanted)
        and (form_id is None or i["checkoutForm"]["id"] == form_id)
    ]
    found.sort(key=lambda i: str(i["openedDate"]), reverse=True)
    return beta_ok({"issues": [_shown(i) for i in found[offset : offset + limit]]})


def get_issue(st: MarketState, request: EmulatorRequest, issue_id: str) -> EmulatorResponse:
    try:
        return beta_ok(_shown(_my_issue(st, request, issue_id)))
    except Reject as rejected:
        return beta_rejected(rejected)


def issue_chat(st: MarketState, request: EmulatorRequest, issue_id: str) -> EmulatorResponse:
    """Oldest first (the spec does not say; the panel shows a chat top-down)."""
    try:
        issue = _my_issue(st, request, issue_id)
        limit, offset = _page(request, 10, 100, 1_000_000)
    except Reject as rejected:
        return beta_rejected(rejected)
    return beta_ok({"chat": [_shown(m) for m in issue["_chat"][offset : offset + limit]]})


def issue_message(st: MarketState, request: EmulatorRequest, issue_id: str) -> EmulatorResponse:
    """The seller writes in the issue's chat; a closed chat answers 409 (spec)."""
    try:
        issue = _my_issue(st, request, issue_id)
        body = body_object(request)
        text = _text(body, MAX_ISSUE_TEXT)
        if body.get("type") not in ISSUE_MESSAGE_TYPES:
            raise Reject.one(422, "VALIDATION_ERROR", "type is not a message type", path="type")
        if not issue["currentState"]["chatActive"]:
            raise Reject.one(409, "CONFLICT", f"Issue {issue_id} does not accept messages")
    except Reject as rejected:
        return beta_rejected(rejected)
    message = _issue_message(st, text, _seller_login(st, issue["_seller"]), "SELLER")
    _add_issue_message(st, issue, message, "SELLER_REPLIED")
    return beta_ok(copy.deepcopy(message), 201)
