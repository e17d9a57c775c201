"""Every client operation against the local emulator, with spec validation on (the fixture fails the
test on any request or response outside Allegro's spec). Polling sleeps advance the emulated clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.contracts.allegro import AddShipment, PriceIn, PriceModification, PriceRange
from allegro_sync.contracts.allegro_errors import AllegroNotFound, AllegroRateLimited, AllegroValidationError
from allegro_sync.emulator import Emulator
from tests.unit.client.samples import MARKET_MINUS_ONE

pytestmark = pytest.mark.integration

SONY_EAN = "4548736132610"
PHILIPS_EAN = "8710103760139"  # two catalogue products share it (#8081)


class EmulatorTokens:
    """A TokenSource backed by the emulator's OAuth server: a rejected token is replaced by a new login."""

    def __init__(self, emulator: Emulator, login: str, first: str | None = None) -> None:
        self.emulator = emulator
        self.login = login
        self.token = first or str(emulator.issue_tokens(login)["access_token"])
        self.rejected: list[str] = []

    def access_token(self) -> str:
        return self.token

    def token_rejected(self, rejected_token: str) -> str:
        self.rejected.append(rejected_token)
        self.token = str(self.emulator.issue_tokens(self.login)["access_token"])
        return self.token


def emulator_client(
    emulator: Emulator, tokens: EmulatorTokens, guard: RateGuard | None = None
) -> AllegroClient:
    url = emulator.base_url
    return AllegroClient(
        AllegroEnvironment(url, url, url),
        tokens,
        account=tokens.login,
        rate_guard=guard,
        sleep=emulator.advance,
        max_wait_seconds=120,
    )


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AllegroClient]:
    emulator.create_seller("sklep-klient")
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-klient")) as client:
        yield client


def offer_body(external_id: str, *, stock: int = 5, images: list[str] | None = None) -> dict[str, object]:
    return {
        "name": "Słuchawki Sony WH-1000XM5 czarne",
        "productSet": [{"product": {"id": SONY_EAN, "idType": "GTIN"}}],
        "parameters": [{"id": "11323", "valuesIds": ["11323_1"]}],
        "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
        "stock": {"available": stock, "unit": "UNIT"},
        "external": {"id": external_id},
        "images": images or [],
        "publication": {"status": "ACTIVE"},
    }


def test_catalogue_operations(client: AllegroClient, emulator: Emulator) -> None:
    me = client.me()
    assert (me.id, me.login) == (emulator.seller_id("sklep-klient"), "sklep-klient")
    roots = client.get_categories()
    assert roots
    assert client.get_categories(parent_id=roots[0].id)
    headphones = client.get_category("101")
    assert headphones.leaf is True
    required = {p.id for p in client.get_category_parameters("101") if p.required}
    assert "11323" in required
    assert client.matching_categories("słuchawki bezprzewodowe")[0].id == "101"
    found = list(client.iter_products(SONY_EAN))
    assert found
    assert all(p.name.startswith("Słuchawki") for p in found)
    assert len(client.search_products(PHILIPS_EAN).products) == 2
    product_id = client.search_products(SONY_EAN).products[0].id
    assert client.get_product(product_id).id == product_id
    assert client.carriers()


def test_offer_lifecycle_with_commands(client: AllegroClient, emulator: Emulator) -> None:
    image = client.upload_image(url="https://shop.example/sony.jpg")
    offer = client.create_product_offer(offer_body("SKU-SONY", images=[image.location]))
    assert offer.external is not None
    assert offer.external.id == "SKU-SONY"
    assert client.get_product_offer(offer.id).id == offer.id
    listed = list(client.iter_offers(external_ids=["SKU-SONY"]))
    assert [o.id for o in listed] == [offer.id]

    assert [r.status for r in client.change_quantity([offer.id], "FIXED", 7)] == ["SUCCESS"]
    stock = client.get_product_offer(offer.id).stock
    assert stock is not None
    assert stock.available == 7
    fixed = PriceModification(type="FIXED_PRICE", price=PriceIn(amount="1199.00"))
    assert [r.status for r in client.change_price([offer.id], fixed)] == ["SUCCESS"]
    selling = client.get_product_offer(offer.id).selling_mode
    assert selling is not None
    assert selling.price is not None
    assert selling.price.amount == "1199.00"

    command_id = client.change_quantity([offer.id], "GAIN", 1)[0].command_id
    report = client.get_command("offer-quantity-change-commands", command_id)
    assert report.task_count is not None
    assert report.task_count.success == 1
    tasks = client.command_tasks("offer-quantity-change-commands", command_id).tasks
    assert [(t.offer.id if t.offer else None, t.status) for t in tasks] == [(offer.id, "SUCCESS")]

    missing = client.change_quantity(["999999999"], "GAIN", 1)
    assert missing[0].status == "FAIL"
    assert missing[0].message

    assert client.get_product_offer(offer.id).stock == type(stock)(available=8, unit="UNIT")
    patched = client.patch_product_offer(offer.id, {"stock": {"available": 0}})
    assert patched.stock is not None
    assert patched.stock.available == 0
    emulator.advance(120)
    publication = client.get_product_offer(offer.id).publication
    assert publication is not None
    assert publication.status == "ENDED"
    client.patch_product_offer(offer.id, {"stock": {"available": 2}})
    assert [r.status for r in client.change_publication([offer.id], "ACTIVATE")] == ["SUCCESS"]
    emulator.advance(120)
    publication = client.get_product_offer(offer.id).publication
    assert publication is not None
    assert publication.status == "ACTIVE"
    assert client.offer_events(limit=100).offer_events


def test_offer_validation_errors_are_specific(client: AllegroClient) -> None:
    body = offer_body("SKU-X")
    body["category"] = {"id": "201"}  # kettles, while the GTIN names headphones
    with pytest.raises(AllegroValidationError) as caught:
        client.create_product_offer(body)
    assert caught.value.codes == ["CATEGORY_MISMATCH"]
    assert caught.value.errors[0].metadata["productCategoryId"] == "101"
    assert caught.value.trace_id
    with pytest.raises(AllegroNotFound):
        client.get_product_offer("123456789012")


def test_price_automation(emulator: Emulator) -> None:
    """Strict validation: passes thanks to the documented erratum for the spec's ambiguous `oneOf`."""
    emulator.create_seller("sklep-auto")
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-auto")) as client:
        _price_automation_round_trip(client)


def _price_automation_round_trip(client: AllegroClient) -> None:
    offer = client.create_product_offer(offer_body("SKU-AUTO"))
    rule = client.create_price_automation_rule(MARKET_MINUS_ONE)
    assert rule.id in {r.id for r in client.price_automation_rules()}
    assert client.price_automation_rule(rule.id).name == MARKET_MINUS_ONE.name
    results = client.assign_price_automation(
        [offer.id],
        rule.id,
        PriceRange(min_price=PriceIn(amount="1000.00"), max_price=PriceIn(amount="1400.00")),
    )
    assert [r.status for r in results] == ["SUCCESS"]
    assert [a.rule.id for a in client.offer_price_automation_rules(offer.id).rules] == [rule.id]
    assert [r.status for r in client.remove_price_automation([offer.id])] == ["SUCCESS"]
    assert client.offer_price_automation_rules(offer.id).rules == []
    fee = client.offer_fee_preview(
        {
            "offer": {
                "name": "Słuchawki Sony WH-1000XM5 czarne",
                "category": {"id": "101"},
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": "1299.00", "currency": "PLN"}},
            }
        }
    )
    assert fee.commissions or fee.quotes


def test_orders(client: AllegroClient, emulator: Emulator) -> None:
    start = client.order_event_stats().latest_event
    offer = client.create_product_offer(offer_body("SKU-ORDER"))
    form_id = emulator.marketplace.buy(offer.id, 2)
    emulator.marketplace.pay(form_id)
    events = list(client.iter_order_events(start.id if start else None))
    assert {e.type for e in events} >= {"BOUGHT", "READY_FOR_PROCESSING"}
    line = events[0].order.line_items[0]
    assert line.offer.external is not None
    assert line.offer.external.id == "SKU-ORDER"
    assert line.quantity == 2
    form = client.checkout_form(form_id)
    assert form.status == "READY_FOR_PROCESSING"
    assert [f.id for f in client.checkout_forms(status="READY_FOR_PROCESSING").checkout_forms] == [form_id]
    client.set_fulfillment(form_id, "PROCESSING", revision=form.revision)
    carrier = client.carriers()[0]
    shipment = client.add_shipment(form_id, AddShipment(carrier_id=carrier.id, waybill="AB123456789PL"))
    assert shipment.waybill == "AB123456789PL"
    assert [s.waybill for s in client.shipments(form_id)] == ["AB123456789PL"]
    fulfillment = client.checkout_form(form_id).fulfillment
    assert fulfillment is not None
    assert fulfillment.status == "SENT"  # PROCESSING was set; Allegro marks it SENT once parcels cover all


def test_an_expired_token_is_renewed_once(emulator: Emulator) -> None:
    emulator.create_seller("sklep-token")
    tokens = EmulatorTokens(emulator, "sklep-token")
    stale = tokens.token
    emulator.advance(13 * 3600)  # past the 12 h access-token lifetime
    with emulator_client(emulator, tokens) as client:
        assert client.me().id == emulator.seller_id("sklep-token")
    assert tokens.rejected == [stale]


def test_a_429_block_stops_every_further_call_until_it_ends(emulator: Emulator) -> None:
    emulator.create_seller("sklep-limit")
    emulator.set_faults(requests_per_minute=3)
    clock_now = lambda: emulator.clock.now().timestamp()  # noqa: E731
    guard = RateGuard(InMemoryBlockedUntilStore(), clock=clock_now)
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-limit"), guard) as client:
        for _ in range(3):
            client.me()
        with pytest.raises(AllegroRateLimited):
            client.me()
        served = emulator.app.request_count
        for _ in range(5):
            with pytest.raises(AllegroRateLimited):
                client.me()
        assert emulator.app.request_count == served  # nothing reached Allegro, so the block was not extended
        emulator.advance(61)
        assert client.me().id == emulator.seller_id("sklep-limit")


def test_asynchronous_create_and_edit_are_followed_to_the_end(
    client: AllegroClient, emulator: Emulator
) -> None:
    emulator.set_faults(async_offer_share=1.0, offer_operation_seconds=5)
    started = emulator.clock.now()
    offer = client.create_product_offer(offer_body("SKU-ASYNC"))
    assert offer.external is not None
    assert offer.external.id == "SKU-ASYNC"
    assert emulator.clock.now() > started  # the client waited (on the emulated clock) for the operation
    accepted = client.request(
        "PATCH", f"/sale/product-offers/{offer.id}", json_body={"stock": {"available": 5}}
    )
    assert accepted.status_code == 202
    operation_id = accepted.headers["location"].rstrip("/").split("/")[-1]
    running = client.product_offer_operation(offer.id, operation_id)
    assert running is not None
    assert running.operation is not None
    assert running.operation.status in {"PENDING", "IN_PROGRESS"}
    emulator.advance(60)
    assert client.product_offer_operation(offer.id, operation_id) is None  # 303: done
    emulator.set_faults(patch_conflict_rate=0.5)
    for available in (4, 3, 2):
        patched = client.patch_product_offer(offer.id, {"stock": {"available": available}})
        assert patched.stock is not None
        assert patched.stock.available == available


def test_transient_server_errors_are_absorbed(client: AllegroClient, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=0.3)
    for _ in range(20):
        assert client.get_category("101").id == "101"
