"""Allegro's limits per seller (#12700, #9832, #10440) against the emulator: a seller's 429 stops only that
seller's calls of that resource, until `Retry-After`; the app-wide block still stops everyone; the
`/sale/products` bucket slows answers down; a call without a conforming User-Agent is refused."""

from __future__ import annotations

import httpx
import pytest

from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.contracts.allegro_errors import AllegroRateLimited, AllegroUserRateLimited
from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator
from tests.integration.client.test_client_emulator import EmulatorTokens, emulator_client, offer_body

pytestmark = pytest.mark.integration


def guard_on(emulator: Emulator) -> RateGuard:
    return RateGuard(InMemoryBlockedUntilStore(), clock=lambda: emulator.clock.now().timestamp())


def test_one_sellers_write_limit_stops_only_that_seller_and_resource(emulator: Emulator) -> None:
    for login in ("sklep-a", "sklep-b"):
        emulator.create_seller(login)
    emulator.set_faults(offer_writes_per_minute=2)
    guard = guard_on(emulator)  # one instance's guard, shared by its clients as in AWS
    with (
        emulator_client(emulator, EmulatorTokens(emulator, "sklep-a"), guard) as seller_a,
        emulator_client(emulator, EmulatorTokens(emulator, "sklep-b"), guard) as seller_b,
    ):
        first = seller_a.create_product_offer(offer_body("A-1")).id
        seller_a.patch_product_offer(first, {"stock": {"available": 4}})
        with pytest.raises(AllegroUserRateLimited) as limited:
            seller_a.patch_product_offer(first, {"stock": {"available": 3}})
        assert limited.value.account == "sklep-a"
        assert limited.value.resource == "product-offers write"
        # Allegro said when a slot frees (Retry-After): the block lasts that long, not the app's 60 s.
        assert 0 < limited.value.blocked_until - emulator.clock.now().timestamp() <= 60

        served = emulator.app.request_count
        with pytest.raises(AllegroUserRateLimited):
            seller_a.patch_product_offer(first, {"stock": {"available": 3}})
        assert emulator.app.request_count == served  # not sent: no 429 that would use the limit up more
        assert seller_a.get_product_offer(first).id == first  # the seller's reads go on
        assert seller_b.create_product_offer(offer_body("B-1")).id  # another seller's writes go on
        assert guard.blocked_for() == 0  # no app-wide block

        emulator.advance(61)
        assert seller_a.patch_product_offer(first, {"stock": {"available": 3}}).id == first


def test_an_app_wide_429_still_stops_every_seller(emulator: Emulator) -> None:
    for login in ("sklep-c", "sklep-d"):
        emulator.create_seller(login)
    guard = guard_on(emulator)
    with (
        emulator_client(emulator, EmulatorTokens(emulator, "sklep-c"), guard) as seller_c,
        emulator_client(emulator, EmulatorTokens(emulator, "sklep-d"), guard) as seller_d,
    ):
        seller_c.me()
        emulator.set_faults(requests_per_minute=1)
        with pytest.raises(AllegroRateLimited) as blocked:
            seller_c.me()
        assert not isinstance(blocked.value, AllegroUserRateLimited)
        with pytest.raises(AllegroRateLimited):
            seller_d.me()
        assert guard.blocked_for() > 0


def test_fee_preview_is_limited_per_seller_per_second(emulator: Emulator) -> None:
    emulator.create_seller("sklep-e")
    emulator.set_faults(fee_previews_per_second=1)
    preview = {
        "offer": {
            "name": "Słuchawki Sony WH-1000XM5 czarne",
            "category": {"id": "101"},
            "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
        }
    }
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-e"), guard_on(emulator)) as seller:
        seller.offer_fee_preview(preview)
        with pytest.raises(AllegroUserRateLimited) as limited:
            seller.offer_fee_preview(preview)
        assert limited.value.resource == "POST /pricing/offer-fee-preview"


def test_the_products_bucket_slows_answers_instead_of_refusing(emulator: Emulator) -> None:
    emulator.create_seller("sklep-f")
    emulator.set_faults(products_burst=2, products_delay_scale=0.001)
    delays: list[float] = []
    emulator.app.sleep = delays.append
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-f"), guard_on(emulator)) as seller:
        for _ in range(4):
            assert seller.search_products(phrase="4548736132610", mode="GTIN").products
    assert len(delays) == 2  # the third and fourth answers were slowed down, none refused
    assert 3.6 * 0.001 <= min(delays) <= max(delays) <= 20 * 0.001  # 3.6-20 s, scaled down


def test_a_call_without_a_conforming_user_agent_is_refused(emulator: Emulator) -> None:
    emulator.create_seller("sklep-g")
    token = emulator.issue_tokens("sklep-g")["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.allegro.public.v1+json"}
    with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
        assert http.get("/me").status_code == 403  # httpx's own "python-httpx/x.y"
        assert http.get("/me", headers={"User-Agent": "Moja Aplikacja/1.0"}).status_code == 403
        assert http.get("/me", headers={"User-Agent": DEFAULT_USER_AGENT}).status_code == 200
        # OAuth calls are exempt (#13321).
        device = http.post(
            "/auth/oauth/device", data={"client_id": "allegro-sync-local"}, auth=("allegro-sync-local", "x")
        )
        assert device.status_code != 403
