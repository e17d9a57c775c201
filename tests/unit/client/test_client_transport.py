"""What goes over the wire and how failures are handled: headers, errors, retries, tokens, rate limits."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from allegro_sync.adapters.allegro import client as client_module
from allegro_sync.adapters.allegro.client import MEDIA_TYPE
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.contracts.allegro_errors import (
    AllegroBadRequest,
    AllegroConflict,
    AllegroError,
    AllegroNotFound,
    AllegroRateLimited,
    AllegroServerError,
    AllegroUnauthorized,
    AllegroUnavailable,
    AllegroValidationError,
)
from tests.fixtures.clock import FakeClock
from tests.unit.client.fakes import FakeAllegro, FakeTokens, allegro_error, make_client, reply

ME = {"id": "42", "login": "shop"}


def test_every_call_carries_allegros_headers() -> None:
    allegro = FakeAllegro()
    allegro.script("GET", "/me", reply(200, ME))
    assert make_client(allegro).me().login == "shop"
    headers = allegro.requests[0].headers
    assert headers["authorization"] == "Bearer token-0"
    assert headers["accept"] == MEDIA_TYPE
    assert headers["accept-language"] == "pl-PL"
    assert "content-type" not in headers


def test_json_bodies_use_allegros_media_type() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/pricing/offer-fee-preview", reply(200, {"commissions": [], "quotes": []}))
    make_client(allegro, accept_language="en-US").offer_fee_preview({"offer": {"category": {"id": "1"}}})
    sent = allegro.requests[0]
    assert sent.headers["content-type"] == MEDIA_TYPE
    assert sent.headers["accept-language"] == "en-US"
    assert json.loads(sent.content) == {"offer": {"category": {"id": "1"}}}


def test_error_carries_every_field_and_reads_user_message_first() -> None:
    allegro = FakeAllegro()
    allegro.script(
        "GET",
        "/sale/product-offers/1",
        allegro_error(
            422, "PARAMETER_MISMATCH", "Zły parametr", path="parameters", metadata={"productId": "9"}
        ),
    )
    with pytest.raises(AllegroValidationError) as caught:
        make_client(allegro).get_product_offer("1")
    error = caught.value
    assert error.status == 422
    assert error.trace_id == "trace-123"
    assert error.codes == ["PARAMETER_MISMATCH"]
    assert error.errors[0].metadata == {"productId": "9"}
    assert str(error).startswith("PARAMETER_MISMATCH: Zły parametr (at parameters)")
    assert "trace-123" in str(error)
    assert "GET /sale/product-offers/1" in str(error)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, AllegroBadRequest), (404, AllegroNotFound), (409, AllegroConflict), (422, AllegroValidationError)],
)
def test_client_errors_are_never_retried(status: int, expected: type[Exception]) -> None:
    allegro = FakeAllegro()
    allegro.script("GET", "/me", allegro_error(status, "X"), reply(200, ME))
    with pytest.raises(expected):
        make_client(allegro).me()
    assert len(allegro.requests) == 1


def test_oauth_style_401_body_is_parsed() -> None:
    allegro = FakeAllegro()
    body = {"error": "invalid_token", "error_description": "Access token expired"}
    allegro.script("GET", "/me", reply(401, body), reply(401, body))
    with pytest.raises(AllegroUnauthorized) as caught:
        make_client(allegro).me()
    assert caught.value.codes == ["invalid_token"]
    assert "Access token expired" in str(caught.value)


def test_401_asks_the_token_source_once_and_retries_with_the_new_token() -> None:
    allegro = FakeAllegro()
    tokens = FakeTokens()
    allegro.script("GET", "/me", reply(401, {"error": "invalid_token"}), reply(200, ME))
    assert make_client(allegro, tokens=tokens).me().id == "42"
    assert tokens.rejected == ["token-0"]
    assert [r.headers["authorization"] for r in allegro.requests] == ["Bearer token-0", "Bearer token-1"]


def test_a_second_401_is_raised_not_looped() -> None:
    allegro = FakeAllegro()
    tokens = FakeTokens()
    allegro.route("GET", "/me", lambda _: reply(401, {"error": "invalid_token"}))
    with pytest.raises(AllegroUnauthorized):
        make_client(allegro, tokens=tokens).me()
    assert tokens.rejected == ["token-0"]
    assert len(allegro.requests) == 2


def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script("GET", "/me", reply(503), reply(500), reply(200, ME))
    assert make_client(allegro, clock=clock).me().id == "42"
    assert clock.sleeps == [0.5, 1.0]  # jitter pinned to its maximum


def test_backoff_has_full_jitter_and_a_cap() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.route("GET", "/me", lambda _: reply(502))
    client = make_client(allegro, clock=clock, max_attempts=7, backoff_cap=3.0, jitter=lambda: 0.25)
    with pytest.raises(AllegroServerError):
        client.me()
    assert len(allegro.requests) == 7
    assert clock.sleeps == [0.125, 0.25, 0.5, 0.75, 0.75, 0.75]


def test_persistent_5xx_gives_up_after_max_attempts() -> None:
    allegro = FakeAllegro()
    allegro.route("GET", "/me", lambda _: reply(500, {"errors": [{"code": "INTERNAL"}]}))
    with pytest.raises(AllegroServerError) as caught:
        make_client(allegro, max_attempts=3).me()
    assert len(allegro.requests) == 3
    assert caught.value.codes == ["INTERNAL"]


def test_timeouts_and_connection_errors_are_retried_for_reads() -> None:
    allegro = FakeAllegro()
    allegro.script("GET", "/me", httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), reply(200, ME))
    assert make_client(allegro).me().id == "42"
    assert len(allegro.requests) == 3


def test_unreachable_allegro_raises_a_clear_error() -> None:
    allegro = FakeAllegro()
    allegro.route("GET", "/me", lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)))
    with pytest.raises(AllegroUnavailable, match="ConnectError after 2 attempt"):
        make_client(allegro, max_attempts=2).me()


def test_offer_creation_is_not_repeated_after_a_timeout_it_may_have_reached_allegro() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", httpx.ReadTimeout("slow"), reply(201, {"id": "1"}))
    with pytest.raises(AllegroUnavailable):
        make_client(allegro).create_product_offer({"name": "x"})
    assert len(allegro.requests) == 1


def test_offer_creation_is_retried_when_the_connection_never_opened() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", httpx.ConnectError("refused"), reply(201, {"id": "1"}))
    assert make_client(allegro).create_product_offer({"name": "x"}).id == "1"
    assert len(allegro.requests) == 2


def test_offer_creation_is_not_repeated_after_a_5xx() -> None:
    allegro = FakeAllegro()
    allegro.script("POST", "/sale/product-offers", reply(500), reply(201, {"id": "1"}))
    with pytest.raises(AllegroServerError):
        make_client(allegro).create_product_offer({"name": "x"})
    assert len(allegro.requests) == 1


def test_patch_409_previous_edit_processing_is_retried_later() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script(
        "PATCH",
        "/sale/product-offers/7",
        allegro_error(409, "OfferEditInProgress"),
        allegro_error(409, "OfferEditInProgress"),
        reply(200, {"id": "7", "stock": {"available": 3}}),
    )
    offer = make_client(allegro, clock=clock).patch_product_offer("7", {"stock": {"available": 3}})
    assert offer.stock is not None
    assert offer.stock.available == 3
    assert clock.sleeps == [1.0, 2.0]


def test_patch_409_gives_up_after_bounded_retries() -> None:
    allegro = FakeAllegro()
    allegro.route("PATCH", "/sale/product-offers/7", lambda _: allegro_error(409, "OfferEditInProgress"))
    with pytest.raises(AllegroConflict):
        make_client(allegro, max_conflict_retries=2).patch_product_offer("7", {"name": "abc"})
    assert len(allegro.requests) == 3


def test_429_records_the_block_and_later_calls_do_not_reach_allegro() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    store = InMemoryBlockedUntilStore()
    guard = RateGuard(store, clock=clock)
    allegro.route("GET", "/me", lambda _: reply(200, ME))
    allegro.script("GET", "/me", reply(429, None, {"retry-after": "30"}))
    client = make_client(allegro, clock=clock, guard=guard)
    with pytest.raises(AllegroRateLimited) as caught:
        client.me()
    assert caught.value.blocked_until == clock.now + 30
    assert store.read_blocked_until() == clock.now + 30
    clock.now += 29
    with pytest.raises(AllegroRateLimited):
        client.me()
    assert len(allegro.requests) == 1  # the second call never left the process
    clock.now += 1
    assert client.me().id == "42"


def test_429_without_retry_after_blocks_for_a_minute() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script("GET", "/me", reply(429))
    client = make_client(allegro, clock=clock)
    with pytest.raises(AllegroRateLimited) as caught:
        client.me()
    assert caught.value.blocked_until == clock.now + 60


def test_a_block_recorded_by_another_instance_stops_this_one() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    store = InMemoryBlockedUntilStore()
    store.extend_blocked_until(clock.now + 45)
    client = make_client(allegro, clock=clock, guard=RateGuard(store, clock=clock))
    with pytest.raises(AllegroRateLimited):
        client.me()
    assert allegro.requests == []


def test_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    allegro = FakeAllegro()
    tokens = FakeTokens()
    tokens.current = "SECRET-TOKEN-VALUE"
    allegro.script("GET", "/me", reply(401, {"error": "invalid_token"}), reply(500), reply(200, ME))
    logger = logging.getLogger(client_module.logger.name)
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    try:
        make_client(allegro, tokens=tokens).me()
    finally:
        logger.removeHandler(caplog.handler)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "allegro_status" in logged  # the calls were logged...
    assert "SECRET-TOKEN" not in logged  # ...without the token
    assert "Bearer" not in logged


def test_location_on_a_foreign_host_never_receives_the_token() -> None:
    allegro = FakeAllegro()
    allegro.script(
        "POST",
        "/sale/product-offers",
        reply(202, {"id": "1"}, {"location": "https://evil.example/steal"}),
    )
    with pytest.raises(AllegroError, match="untrusted host"):
        make_client(allegro).create_product_offer({"name": "x"})
    assert all(r.url.host != "evil.example" for r in allegro.requests)


def test_ids_that_would_change_the_path_are_refused() -> None:
    allegro = FakeAllegro()
    with pytest.raises(AllegroError, match="not a valid Allegro id"):
        make_client(allegro).get_product_offer("../me")
    assert allegro.requests == []


def test_a_401_after_a_retried_5xx_is_raised_not_renewed_twice() -> None:
    allegro = FakeAllegro()
    tokens = FakeTokens()
    invalid = reply(401, {"error": "invalid_token"})
    allegro.script("GET", "/me", invalid, reply(500), invalid)
    with pytest.raises(AllegroUnauthorized):
        make_client(allegro, tokens=tokens).me()
    assert tokens.rejected == ["token-0"]  # one renewal per call, however often the call is repeated
    assert [r.headers["authorization"] for r in allegro.requests] == [
        "Bearer token-0",
        "Bearer token-1",
        "Bearer token-1",
    ]


def test_the_repeat_after_a_401_waits_for_the_rate_guard_like_any_request() -> None:
    allegro = FakeAllegro()
    clock = FakeClock()
    allegro.script("GET", "/me", reply(401, {"error": "invalid_token"}), reply(200, ME))
    # 5 a minute, a burst of 1: the first request goes now, the next one waits 12 s for its slot.
    guard = RateGuard(InMemoryBlockedUntilStore(), rpm_budget=5, clock=clock)
    assert make_client(allegro, clock=clock, guard=guard).me().id == "42"
    assert clock.sleeps == [pytest.approx(12.0)]
