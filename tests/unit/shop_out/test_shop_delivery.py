"""Shop adapters out: the generic signed POST, WooCommerce orders, and the delivery use case on fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from allegro_sync.adapters.shop import signing
from allegro_sync.adapters.shop.outbound_generic import GenericShop, delivery_id
from allegro_sync.adapters.shop.woocommerce import CHECKOUT_FORM_META
from allegro_sync.adapters.shop.woocommerce_rest import (
    CLAIM_LEASE,
    IndexedOrder,
    WooCommerceShop,
    woocommerce_status,
)
from allegro_sync.adapters.shop_credentials import ShopNotConfigured, parse_credentials
from allegro_sync.contracts.messages import BuyerMessage, OrderChanged, OrderLabel, OrderReturned, OutboxLine
from allegro_sync.contracts.shop import DeliveryTurn, ShopAck, ShopRejected, ShopUnavailable, state_version
from allegro_sync.domain.ledger import Sale, SaleStatus
from allegro_sync.domain.orders import BuyerDetails
from allegro_sync.services.shop_delivery import ShopDelivery
from allegro_sync.services.stock import StockLedger
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce, mock_transport

SECRET = "s3cret-signing-key-0123456789"
FORM = "29738e61-7f6a-11e8-ac45-09db60ede9d6"
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def line(sku: str | None = "SKU-1", qty: int = 2, effect: str = "TAKEN", item: str = "li-1") -> OutboxLine:
    return OutboxLine(
        line_item_id=item,
        sale_id=f"{FORM}:{item}",
        offer_id="7768432155",
        sku=sku,
        quantity=qty,
        unit_price="49.99",
        currency="PLN",
        stock_effect=effect,  # type: ignore[arg-type]
    )


def order(status: str = "READY_FOR_PROCESSING", version: int = 1, *lines: OutboxLine) -> OrderChanged:
    return OrderChanged(
        message_id=f"order:{FORM}:v{version}",
        account="shop1",
        checkout_form_id=FORM,
        revision="r1",
        status=status,
        updated_at="2026-11-27T10:00:00Z",
        lines=lines or (line(),),
        buyer={"email": "jan@allegromail.pl", "firstName": "Jan", "lastName": "Kowalski"},
        delivery={
            "address": {"firstName": "Jan", "lastName": "Kowalski", "city": "Kraków", "zipCode": "31-147"}
        },
    )


class MemoryIndex:
    def __init__(self) -> None:
        self.items: dict[str, IndexedOrder] = {}

    def get(self, checkout_form_id: str) -> IndexedOrder | None:
        return self.items.get(checkout_form_id)

    def claim(self, checkout_form_id: str, at: datetime) -> bool:
        held = self.items.get(checkout_form_id)
        if held is not None and (held.shop_order_id is not None or at - held.claimed_at < CLAIM_LEASE):
            return False
        self.items[checkout_form_id] = IndexedOrder(claimed_at=at)
        return True

    def set(self, checkout_form_id: str, shop_order_id: int) -> None:
        claimed = self.items.get(checkout_form_id)
        self.items[checkout_form_id] = IndexedOrder(claimed.claimed_at if claimed else T0, shop_order_id)


class MemoryLog:
    def __init__(self) -> None:
        self.done: dict[str, ShopAck] = {}
        self.newest: dict[str, int] = {}
        self.turns: dict[str, str] = {}  # checkout form -> the message id holding its delivery turn

    def delivered(self, message_id: str) -> bool:
        return message_id in self.done

    def take_turn(self, checkout_form_id: str, version: int, holder: str) -> DeliveryTurn:
        if self.newest.get(checkout_form_id, 0) > version:
            return "superseded"
        if self.turns.setdefault(checkout_form_id, holder) != holder:
            return "busy"
        return "go"

    def end_turn(self, checkout_form_id: str, holder: str) -> None:
        if self.turns.get(checkout_form_id) == holder:
            del self.turns[checkout_form_id]

    def record(self, message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage, ack: ShopAck) -> None:
        self.done[message.message_id] = ack
        version = state_version(message)
        form = message.checkout_form_id
        if form is not None:
            self.end_turn(form, message.message_id)
        if version is not None and form is not None:
            self.newest[form] = max(version, self.newest.get(form, 0))


def ledger_with_sale(repo: InMemoryLedgerRepository, sku: str = "SKU-1", qty: int = 2) -> StockLedger:
    ledger = StockLedger(repo)
    ledger.apply_shop_level(sku, 10, T0)
    ledger.apply_sale(Sale(f"{FORM}:li-1", sku, qty, T0, "shop1", "7768432155"))
    return ledger


# --- generic ---------------------------------------------------------------------------------------------


def generic(shop: FakeGenericShop, now: float = 1_795_000_000.0) -> GenericShop:
    return GenericShop(
        "https://shop.example/allegro",
        SECRET,
        httpx.Client(transport=mock_transport(shop)),
        clock=lambda: now,
    )


def test_generic_posts_the_documented_json_signed_with_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"order_id": "A-17", "applied_at": "2026-11-27T10:00:05+00:00"})

    shop = GenericShop(
        "https://shop.example/allegro",
        SECRET,
        httpx.Client(transport=httpx.MockTransport(handle)),
        clock=lambda: 1_795_000_000,
    )
    ack = shop.deliver(order())

    [request] = seen
    body = json.loads(request.content)
    assert (body["kind"], body["checkout_form_id"], body["lines"][0]["sku"]) == (
        "order.changed",
        FORM,
        "SKU-1",
    )
    assert request.headers["Idempotency-Key"] == f"order:{FORM}:v1"
    assert request.headers[signing.DELIVERY_HEADER] == delivery_id(f"order:{FORM}:v1")
    assert signing.matches(
        [SECRET],
        request.headers[signing.SIGNATURE_HEADER],
        1_795_000_000,
        request.headers[signing.DELIVERY_HEADER],
        request.content,
    )
    assert (ack.shop_order_id, ack.applied_at) == ("A-17", datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC))


def test_generic_ack_without_a_body_uses_the_time_the_answer_came() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(204))
    shop = GenericShop(
        "https://shop.example/x", SECRET, httpx.Client(transport=transport), clock=lambda: 1_795_000_000
    )
    assert shop.deliver(order()).applied_at == datetime.fromtimestamp(1_795_000_000, UTC)


@pytest.mark.parametrize(
    ("status", "error"), [(503, ShopUnavailable), (429, ShopUnavailable), (400, ShopRejected)]
)
def test_generic_failures_raise_so_the_queue_retries(status: int, error: type[Exception]) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, text="no"))
    shop = GenericShop("https://shop.example/x", SECRET, httpx.Client(transport=transport))
    with pytest.raises(error):
        shop.deliver(order())


def test_generic_timeout_is_unavailable() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    shop = GenericShop("https://shop.example/x", SECRET, httpx.Client(transport=httpx.MockTransport(boom)))
    with pytest.raises(ShopUnavailable):
        shop.deliver(order())


def test_a_wrong_secret_is_refused_by_a_verifying_shop() -> None:
    fake = FakeGenericShop(secret="another-secret-entirely-xx")
    with pytest.raises(ShopRejected, match="401"):
        generic(fake).deliver(order())
    assert fake.received == []


# --- the use case --------------------------------------------------------------------------------------


def test_delivery_confirms_taken_sales_with_the_shops_ack_time_and_skips_redelivery(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    ledger = ledger_with_sale(memory_ledger)
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})
    log = MemoryLog()
    delivery = ShopDelivery(generic(fake), ledger, log, MemoryBuyers())

    first = delivery.deliver(order())
    again = delivery.deliver(order())

    assert (first.duplicate, first.confirmed, again.duplicate) == (False, (f"{FORM}:li-1",), True)
    assert len(fake.received) == 1
    assert fake.stock["SKU-1"] == 8
    record = memory_ledger.get_sale("SKU-1", f"{FORM}:li-1")
    assert record is not None
    assert record.status is SaleStatus.DELIVERED_TO_SHOP
    assert record.shop_ack_at == fake.clock  # the shop's own clock, not ours


def test_a_cancellation_the_shop_restocked_asks_for_a_read_of_its_level(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    """The shop gives the units back (its call) and need not report it: only a read tells the ledger."""
    asked: list[str] = []

    class Rechecks:
        def schedule(self, sku: str, delay_seconds: int) -> None:
            asked.append(sku)

    ledger = StockLedger(memory_ledger, rechecks=Rechecks(), now=lambda: T0)
    ledger.apply_shop_level("SKU-1", 10, T0)
    ledger.apply_sale(Sale(f"{FORM}:li-1", "SKU-1", 2, T0, "shop1", "7768432155"))
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})
    delivery = ShopDelivery(generic(fake), ledger, MemoryLog(), MemoryBuyers())
    delivery.deliver(order())
    asked.clear()  # the acknowledged sale asks for its own read

    delivery.deliver(order("CANCELLED", 2, line(effect="RETURNED")))

    assert fake.stock["SKU-1"] == 10
    assert asked == ["SKU-1"]


def test_a_late_older_state_never_overwrites_a_newer_one_in_the_shop(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    delivery = ShopDelivery(
        woo(fake, MemoryIndex()), ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers()
    )

    delivery.deliver(order("READY_FOR_PROCESSING", 2))
    late = delivery.deliver(order("BOUGHT", 1, line(effect="NONE")))  # retried v1 arrives after v2

    assert (late.superseded, late.duplicate) == (True, True)
    [only] = fake.orders.values()
    assert (only["status"], fake.stock("SKU-1")) == ("processing", 8)


def test_a_crash_after_the_shop_took_it_repeats_harmlessly(memory_ledger: InMemoryLedgerRepository) -> None:
    ledger = ledger_with_sale(memory_ledger)
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})

    class CrashingLog(MemoryLog):
        def record(
            self, message: OrderChanged | OrderReturned | OrderLabel | BuyerMessage, ack: ShopAck
        ) -> None:
            raise RuntimeError("lambda died")

    with pytest.raises(RuntimeError):
        ShopDelivery(generic(fake), ledger, CrashingLog(), MemoryBuyers()).deliver(order())
    result = ShopDelivery(generic(fake), ledger, MemoryLog(), MemoryBuyers()).deliver(order())

    assert result.confirmed == (f"{FORM}:li-1",)
    assert (len(fake.received), fake.stock["SKU-1"]) == (1, 8)


def test_a_shop_that_is_down_confirms_nothing_and_records_nothing(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    ledger = ledger_with_sale(memory_ledger)
    log = MemoryLog()
    with pytest.raises(ShopUnavailable):
        ShopDelivery(generic(FakeGenericShop(secret=SECRET, down=True)), ledger, log, MemoryBuyers()).deliver(
            order()
        )
    assert log.done == {}
    record = memory_ledger.get_sale("SKU-1", f"{FORM}:li-1")
    assert record is not None
    assert record.shop_ack_at is None


def test_an_unknown_sale_is_reported_not_retried(memory_ledger: InMemoryLedgerRepository) -> None:
    ledger = StockLedger(memory_ledger)  # the ledger never counted this sale
    fake = FakeGenericShop(secret=SECRET)
    result = ShopDelivery(generic(fake), ledger, MemoryLog(), MemoryBuyers()).deliver(order())
    assert (result.confirmed, result.unconfirmed) == ((), (f"{FORM}:li-1",))


def reference(version: int = 1) -> OrderChanged:
    """An order as the worker queues it now: the buyer's data stays on the orders table."""
    return order(version=version).with_buyer_data(None, None).model_copy(update={"buyer_data_stored": True})


def test_a_message_referring_to_stored_buyer_data_reaches_the_shop_with_all_of_it(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    full = order()
    buyers = MemoryBuyers(now=T0.timestamp())
    expires = int(T0.timestamp()) + 86_400
    buyers.keep(BuyerDetails(FORM, "shop1", full.buyer, full.delivery, expires))
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})

    result = ShopDelivery(generic(fake), ledger_with_sale(memory_ledger), MemoryLog(), buyers).deliver(
        reference()
    )

    [got] = fake.received
    assert (got["buyer"], got["delivery"]) == (full.buyer, full.delivery)
    assert "buyer_data_stored" not in got  # where we kept it is not the shop's business
    assert (result.confirmed, result.buyer_data_gone) == ((f"{FORM}:li-1",), False)


def test_a_message_queued_before_the_upgrade_carries_the_buyer_and_goes_as_it_is(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})
    old = json.loads(order().model_dump_json(exclude={"buyer_data_stored"}))  # the old body had no marker

    result = ShopDelivery(
        generic(fake), ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers()
    ).deliver(OrderChanged.model_validate(old))

    [got] = fake.received
    assert (got["buyer"], got["delivery"]) == (order().buyer, order().delivery)
    assert (result.confirmed, result.buyer_data_gone) == ((f"{FORM}:li-1",), False)


def test_an_order_whose_buyer_was_erased_still_reaches_the_shop_and_takes_its_stock(
    memory_ledger: InMemoryLedgerRepository,
) -> None:
    fake = FakeGenericShop(secret=SECRET, stock={"SKU-1": 10})

    result = ShopDelivery(
        generic(fake), ledger_with_sale(memory_ledger), MemoryLog(), MemoryBuyers()
    ).deliver(reference())

    [got] = fake.received
    assert (got["buyer"], got["delivery"], fake.stock["SKU-1"]) == (None, None, 8)
    assert result.buyer_data_gone


# --- WooCommerce --------------------------------------------------------------------------------------


def woo(fake: FakeWooCommerce, index: MemoryIndex) -> WooCommerceShop:
    client = httpx.Client(transport=mock_transport(fake))
    return WooCommerceShop("https://shop.example/", "ck_test", "cs_test", client, index, clock=T0.timestamp)


def test_woocommerce_creates_the_order_by_sku_with_meta_and_lets_woocommerce_take_stock_once() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    product = fake.add_product("SKU-1", 10)
    index = MemoryIndex()
    shop = woo(fake, index)

    ack = shop.deliver(order())
    shop.deliver(order())  # redelivered message (same id): still one order

    [created] = fake.orders.values()
    assert created["line_items"] == [
        {"quantity": 2, "product_id": product, "subtotal": "99.98", "total": "99.98"}
    ]
    assert {"key": CHECKOUT_FORM_META, "value": FORM} in created["meta_data"]
    assert (created["status"], created["set_paid"], created["billing"]["email"]) == (
        "processing",
        True,
        "jan@allegromail.pl",
    )
    assert fake.stock("SKU-1") == 8  # reduced by WooCommerce, once; we never PUT stock_quantity
    assert not any(m == "PUT" and "/products" in p for m, p in fake.requests)
    assert ack.shop_order_id == str(created["id"])
    assert ack.applied_at == datetime(2026, 11, 27, 12, 0, 1, tzinfo=UTC)


def test_woocommerce_cancellation_updates_the_same_order_and_woocommerce_restores_stock() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    fake.add_product("SKU-1", 10)
    shop = woo(fake, MemoryIndex())
    shop.deliver(order())
    shop.deliver(order("CANCELLED", 2, line(effect="RETURNED")))

    [only] = fake.orders.values()
    assert (only["status"], fake.stock("SKU-1")) == ("cancelled", 10)


def test_woocommerce_crash_after_create_finds_the_order_by_meta_instead_of_creating_another() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test", fail_next_create_response=True)
    fake.add_product("SKU-1", 10)
    index = MemoryIndex()
    shop = woo(fake, index)

    with pytest.raises(ShopUnavailable):
        shop.deliver(order())  # WooCommerce created it, the answer was lost
    shop.deliver(order())

    assert len(fake.orders) == 1
    assert fake.stock("SKU-1") == 8
    assert index.items[FORM].shop_order_id == next(iter(fake.orders))


def test_woocommerce_unknown_sku_becomes_a_named_line_and_bad_keys_are_refused() -> None:
    fake = FakeWooCommerce("ck_test", "cs_test")
    woo(fake, MemoryIndex()).deliver(order("READY_FOR_PROCESSING", 1, line(sku="NOPE")))
    [created] = fake.orders.values()
    assert created["line_items"][0]["name"] == "Allegro offer 7768432155 (NOPE)"

    wrong = WooCommerceShop(
        "https://shop.example", "ck_x", "cs_x", httpx.Client(transport=mock_transport(fake)), MemoryIndex()
    )
    with pytest.raises(ShopRejected, match="401"):
        wrong.deliver(order())


@pytest.mark.parametrize(
    ("status", "effect", "expected"),
    [
        ("BOUGHT", "NONE", ("pending", False)),
        ("BOUGHT", "TAKEN", ("on-hold", False)),
        ("READY_FOR_PROCESSING", "TAKEN", ("processing", True)),
        ("CANCELLED", "RETURNED", ("cancelled", False)),
    ],
)
def test_woocommerce_status_follows_what_the_ledger_did(
    status: str, effect: str, expected: tuple[str, bool]
) -> None:
    assert woocommerce_status(order(status, 1, line(effect=effect))) == expected


# --- credentials ---------------------------------------------------------------------------------------


def test_credentials_are_parsed_and_a_placeholder_says_what_is_missing() -> None:
    woo_creds = parse_credentials(
        '{"kind": "woocommerce", "url": "https://s.pl", "consumer_key": "ck", "consumer_secret": "TOPSECRET"}'
    )
    assert woo_creds.kind == "woocommerce"
    assert "cs" not in repr(woo_creds)
    with pytest.raises(ShopNotConfigured, match="kind"):
        parse_credentials('{"configured": false}')
    with pytest.raises(ShopNotConfigured, match="signing_secret"):
        parse_credentials('{"kind": "generic", "url": "https://s.pl"}')


def combined_payment() -> OrderChanged:
    """The new form of a combined payment (#1111) that replaced FORM."""
    update = {
        "checkout_form_id": "combined-form",
        "message_id": "order:combined-form:v1",
        "replaces": (FORM,),
    }
    return order().model_copy(update=update)


@pytest.mark.parametrize("sku_finds_variations", [True, False])
def test_a_sold_variation_becomes_a_line_with_its_parent_and_variation_id(sku_finds_variations: bool) -> None:
    # WooCommerce's v3 products endpoint queries product AND product_variation when `sku` is given
    # (WC_REST_Products_Controller::prepare_objects_query); older shops searched products only.
    fake = FakeWooCommerce("ck_test", "cs_test", sku_finds_variations=sku_finds_variations)
    ids = fake.add_variable({"sku": "AURA", "name": "Aura"}, [{"sku": "SKU-1", "stock_quantity": 10}])

    woo(fake, MemoryIndex()).deliver(order())

    [created] = fake.orders.values()
    [item] = created["line_items"]
    if sku_finds_variations:
        assert (item["product_id"], item["variation_id"]) == (ids["AURA"], ids["SKU-1"])
        assert fake.stock("SKU-1") == 8  # WooCommerce reduced the variation's own stock
    else:
        assert item["name"] == "Allegro offer 7768432155 (SKU-1)"  # named line: no stock moves
        assert fake.stock("SKU-1") == 10


ECHOED = {
    "code": "woocommerce_rest_invalid_address",
    "message": "Invalid billing: Jan Kowalski, jan@example.pl",
}


@pytest.mark.parametrize("kind", ["woocommerce", "generic"])
def test_a_shops_refusal_never_carries_its_body_into_the_error(kind: str) -> None:
    """The error text ends in logs; a shop's message can echo the buyer's name and address back."""
    transport = httpx.MockTransport(lambda r: httpx.Response(400, json=ECHOED))
    client = httpx.Client(transport=transport)
    shop = (
        WooCommerceShop("https://shop.example/", "ck_test", "cs_test", client, MemoryIndex())
        if kind == "woocommerce"
        else GenericShop("https://shop.example/x", SECRET, client)
    )
    with pytest.raises(ShopRejected) as refused:
        shop.deliver(order())
    assert "400" in str(refused.value)
    assert "woocommerce_rest_invalid_address" in str(refused.value)  # the machine code still says why
    assert "Kowalski" not in str(refused.value)
    assert "jan@example.pl" not in str(refused.value)
