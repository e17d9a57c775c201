"""Per-seller 429s, the slow `/sale/products` bucket and the User-Agent, at the transport level."""

from __future__ import annotations

import httpx
import pytest

from allegro_sync.adapters.allegro.oauth import AllegroOAuth
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.adapters.secrets import AppCredentials
from allegro_sync.contracts.allegro_errors import AllegroUnavailable, AllegroUserRateLimited
from tests.unit.client.fakes import ENV, FakeAllegro, FakeClock, make_client

PER_USER = {
    "errors": [
        {
            "code": "TOO_MANY_REQUESTS",
            "message": "Too Many Requests.",
            "userMessage": "The maximum number of queries per user has been exceeded. Try again later.",
        }
    ]
}


def test_a_per_user_429_waits_for_retry_after_and_blocks_only_that_resource() -> None:
    clock = FakeClock()
    seen: list[str] = []

    def allegro(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "PATCH":
            return httpx.Response(429, json=PER_USER, headers={"Retry-After": "7"})
        return httpx.Response(200, json={"id": "1", "login": "x"})

    client = make_client(
        FakeAllegro(), clock=clock, http=httpx.Client(transport=httpx.MockTransport(allegro))
    )
    with pytest.raises(AllegroUserRateLimited) as limited:
        client.patch_product_offer("1", {"stock": {"available": 1}})
    assert limited.value.blocked_until == pytest.approx(clock() + 7)
    with pytest.raises(AllegroUserRateLimited):
        client.patch_product_offer("1", {"stock": {"available": 1}})
    assert seen == ["PATCH /sale/product-offers/1"]  # the second was never sent
    client.me()  # other resources of the same seller go on
    clock.sleep(7)
    with pytest.raises(AllegroUserRateLimited):
        client.patch_product_offer("1", {"stock": {"available": 1}})
    assert seen.count("PATCH /sale/product-offers/1") == 2  # after Retry-After it tried again


def test_a_slow_products_answer_is_awaited_and_a_timed_out_one_not_repeated() -> None:
    timeouts: list[object] = []

    def allegro(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("the bucket is slowing us down", request=request)

    client = make_client(FakeAllegro(), http=httpx.Client(transport=httpx.MockTransport(allegro)))
    with pytest.raises(AllegroUnavailable):
        client.search_products("4548736132610")
    assert timeouts == [25.0]  # longer than Allegro's slowest answer (20 s), and sent once
    timeouts.clear()
    with pytest.raises(AllegroUnavailable):
        client.get_product_offer("1")
    assert len(timeouts) > 1  # other GETs are still retried after a timeout


def test_every_call_names_the_registered_application() -> None:
    agents: list[str] = []

    def allegro(request: httpx.Request) -> httpx.Response:
        agents.append(request.headers["user-agent"])
        return httpx.Response(200, json={"id": "1", "login": "x"})

    creds = AppCredentials(
        "cid", "s", "k", app_name="Mój Sklep Sync", app_version="2.1.0", app_url="https://x.pl/a"
    )
    assert creds.user_agent() == "Moj-Sklep-Sync/2.1.0 (+https://x.pl/a)"  # a header is ASCII
    client = make_client(
        FakeAllegro(),
        http=httpx.Client(transport=httpx.MockTransport(allegro)),
        user_agent=creds.user_agent(),
    )
    client.me()
    AllegroOAuth(
        lambda: creds, hosts=ENV, http=httpx.Client(transport=httpx.MockTransport(allegro))
    ).identify("h.e30.s", "production")
    assert agents == ["Moj-Sklep-Sync/2.1.0 (+https://x.pl/a)"] * 2


def test_failed_records_come_back_when_the_sellers_block_ends() -> None:
    clock = FakeClock()
    guard = RateGuard(InMemoryBlockedUntilStore(), clock=clock)
    assert guard.retry_in() == 0
    guard.record_user_block("shop1", "PATCH", "/sale/product-offers/1", 12)
    # The consumer's redelivery brings failed records back then, not after the queue's visibility timeout.
    assert guard.retry_in() == pytest.approx(12)
    guard.check_user("shop2", "PATCH", "/sale/product-offers/1")  # another seller: no block
    guard.check_user("shop1", "PUT", "/sale/offer-quantity-change-commands/x")  # another resource
    with pytest.raises(AllegroUserRateLimited):
        guard.check_user("shop1", "POST", "/sale/product-offers")  # writes are one resource
    clock.sleep(12)
    assert guard.retry_in() == 0
