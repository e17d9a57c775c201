"""Buyer messages and post-purchase issues in the emulator, every exchange checked against the spec."""

from __future__ import annotations

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import EmulatorResponse
from tests.unit.emulator.conftest import OTHER_SELLER, Api, create_offer

BETA = "application/vnd.allegro.beta.v1+json"


def _order(api: Api, market: Marketplace) -> str:
    form = market.buy(create_offer(api)["id"], 1)
    market.pay(form)
    return form


def _seller_writes_in_issue(api: Api, issue_id: str, text: str) -> EmulatorResponse:
    """POST /sale/issues/{id}/message, which speaks only the beta media type."""
    return api.call(
        "POST",
        f"/sale/issues/{issue_id}/message",
        {"text": text, "type": "REGULAR"},
        content_type=BETA,
        accept=BETA,
    )


def test_a_buyer_message_is_unread_until_the_seller_marks_it(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    thread_id, message_id = market.buyer_writes(form, "Where is my parcel?")

    [listed] = api.get("/messaging/threads").body["threads"]
    [message] = api.get(f"/messaging/threads/{thread_id}/messages").body["messages"]
    reply = api.call("POST", f"/messaging/threads/{thread_id}/messages", {"text": "Sent today."})
    still = api.get(f"/messaging/threads/{thread_id}").body
    marked = api.call("PUT", f"/messaging/threads/{thread_id}/read", {"read": True}).body

    assert listed["id"] == thread_id
    assert listed["read"] is False
    assert message["id"] == message_id
    assert message["author"]["isInterlocutor"] is True
    assert message["relatesTo"] == {"order": {"id": form}}
    assert reply.status == 201
    assert reply.body["author"]["isInterlocutor"] is False
    assert still["read"] is False  # reading and replying leave the flag alone (#8736)
    assert marked["read"] is True


def test_a_buyer_message_is_dated_when_written_not_when_it_shows(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    before = api.get("/order/checkout-forms/" + form).body["updatedAt"]
    thread_id, _ = market.buyer_writes(form, "Hello")

    [message] = api.get(f"/messaging/threads/{thread_id}/messages").body["messages"]
    hidden = api.get(f"/messaging/threads/{thread_id}/messages", after=before).body["messages"]

    assert message["createdAt"] < before  # backdated (#13907)
    assert hidden == []


def test_another_sellers_thread_is_not_found(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    thread_id, _ = market.buyer_writes(form, "Hello")

    other = api.as_seller(OTHER_SELLER).get(f"/messaging/threads/{thread_id}")

    assert other.status == 404


def test_a_new_message_to_the_buyer_of_an_order(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    login = api.get(f"/order/checkout-forms/{form}").body["buyer"]["login"]

    sent = api.call(
        "POST", "/messaging/messages", {"recipient": {"login": login}, "text": "Hi", "order": {"id": form}}
    )
    wrong = api.call(
        "POST",
        "/messaging/messages",
        {"recipient": {"login": "someone"}, "text": "Hi", "order": {"id": form}},
    )

    assert sent.status == 201
    assert wrong.status == 422


def test_an_issue_is_listed_its_chat_read_and_answered(api: Api, market: Marketplace) -> None:
    form = _order(api, market)
    issue_id = market.open_issue(form, "The kettle leaks")
    market.buyer_writes_in_issue(issue_id, "Photo attached")

    listed = api.call("GET", "/sale/issues", query={"status": ["DISPUTE_ONGOING"]}, accept=BETA)
    chat = api.call("GET", f"/sale/issues/{issue_id}/chat", accept=BETA)
    answer = _seller_writes_in_issue(api, issue_id, "Sorry!")
    market.close_issue(issue_id)
    closed = _seller_writes_in_issue(api, issue_id, "More")

    [issue] = listed.body["issues"]
    assert issue["id"] == issue_id
    assert issue["chat"]["messagesCount"] == 2
    assert [m["author"]["role"] for m in chat.body["chat"]] == ["BUYER", "BUYER"]
    assert answer.status == 201
    assert answer.body["author"]["role"] == "SELLER"
    assert closed.status == 409
