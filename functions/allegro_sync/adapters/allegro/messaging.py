"""Buyer messages (Message Center) and post-purchase issues (BETA media type): issue 15, item 4.

Nothing here marks a thread read on its own: `mark_thread_read` is called only by the CLI after it showed
the thread to the seller (Allegro changes the flag only through `PUT .../read`, #8736). A reply is a POST
and is never repeated after a timeout (it may have been sent: the seller looks before writing again).
"""

from __future__ import annotations

from allegro_sync.adapters.allegro.core import AllegroCore, _dump, _segment
from allegro_sync.contracts.buyer_messages import (
    ISSUES_MEDIA_TYPE,
    ISSUES_PAGE,
    OPEN_ISSUE_STATUSES,
    THREADS_PAGE,
    Issue,
    IssueChat,
    IssueMessage,
    IssueMessageRequest,
    IssuesList,
    Message,
    MessagesList,
    NewMessageInThread,
    Thread,
    ThreadReadFlag,
    ThreadsList,
)


class MessagingApi(AllegroCore):
    """/messaging/threads (+ messages, read), /sale/issues (+ chat, message)."""

    def threads(self, *, offset: int = 0) -> list[Thread]:
        """One page of threads, newest last message first."""
        params = {"limit": THREADS_PAGE, "offset": offset}
        return self._get("/messaging/threads", ThreadsList, params).threads

    def thread(self, thread_id: str) -> Thread:
        return self._get(f"/messaging/threads/{_segment(thread_id)}", Thread)

    def thread_messages(self, thread_id: str, *, after: str | None = None, offset: int = 0) -> list[Message]:
        """One page of a thread's messages, newest first; `after` (ISO time, exclusive) by `createdAt`."""
        params = {"limit": THREADS_PAGE, "offset": offset, "after": after}
        return self._get(f"/messaging/threads/{_segment(thread_id)}/messages", MessagesList, params).messages

    def reply_in_thread(self, thread_id: str, text: str) -> Message:
        body = _dump(NewMessageInThread(text=text))
        response = self.request("POST", f"/messaging/threads/{_segment(thread_id)}/messages", json_body=body)
        return Message.model_validate(response.json())

    def mark_thread_read(self, thread_id: str) -> Thread:
        """The seller has seen the thread: only the CLI calls this, after showing it."""
        body = _dump(ThreadReadFlag(read=True))
        response = self.request("PUT", f"/messaging/threads/{_segment(thread_id)}/read", json_body=body)
        return Thread.model_validate(response.json())

    def open_issues(self, *, offset: int = 0) -> list[Issue]:
        """One page of the open disputes and claims (the others take no message), newest opened first."""
        params = {"limit": ISSUES_PAGE, "offset": offset, "status": list(OPEN_ISSUE_STATUSES)}
        response = self.request("GET", "/sale/issues", params=params, media_type=ISSUES_MEDIA_TYPE)
        return IssuesList.model_validate(response.json()).issues

    def issue(self, issue_id: str) -> Issue:
        response = self.request("GET", f"/sale/issues/{_segment(issue_id)}", media_type=ISSUES_MEDIA_TYPE)
        return Issue.model_validate(response.json())

    def issue_chat(self, issue_id: str, *, offset: int = 0) -> list[IssueMessage]:
        params = {"limit": ISSUES_PAGE, "offset": offset}
        path = f"/sale/issues/{_segment(issue_id)}/chat"
        response = self.request("GET", path, params=params, media_type=ISSUES_MEDIA_TYPE)
        return IssueChat.model_validate(response.json()).chat

    def reply_in_issue(self, issue_id: str, text: str) -> IssueMessage:
        body = _dump(IssueMessageRequest(text=text))
        path = f"/sale/issues/{_segment(issue_id)}/message"
        response = self.request("POST", path, json_body=body, media_type=ISSUES_MEDIA_TYPE)
        return IssueMessage.model_validate(response.json())
