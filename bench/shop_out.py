"""Shop adapters out + fulfillment back: CPU cost per delivered order and Allegro calls per shop update.

    .venv/bin/python -m bench.shop_out

Figures, not assertions: the shop and Allegro are in-process fakes, so this is our own overhead
(JSON, signing, ledger decision), not network time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from allegro_sync.adapters.shop.outbound_generic import GenericShop
from allegro_sync.adapters.shop.woocommerce_rest import WooCommerceShop
from allegro_sync.contracts.messages import OrderChanged, OutboxLine, ShopOrderStatus
from allegro_sync.domain.ledger import Sale
from allegro_sync.services.fulfillment import Fulfillment
from allegro_sync.services.shop_delivery import ShopDelivery
from allegro_sync.services.stock import StockLedger
from bench._results import record
from tests.fixtures.ledger import InMemoryLedgerRepository
from tests.unit.orders.fakes import MemoryBuyers
from tests.unit.shop_out.fake_shops import FakeGenericShop, FakeWooCommerce, mock_transport
from tests.unit.shop_out.test_fulfillment import FakeAllegro
from tests.unit.shop_out.test_shop_delivery import MemoryIndex, MemoryLog

N = 500
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def message(i: int) -> OrderChanged:
    form = f"form-{i:05d}"
    return OrderChanged(
        message_id=f"order:{form}:v1",
        account="shop1",
        checkout_form_id=form,
        revision="r1",
        status="READY_FOR_PROCESSING",
        updated_at=None,
        lines=(
            OutboxLine(
                line_item_id="li",
                sale_id=f"{form}:li",
                offer_id="7768432155",
                sku=f"SKU-{i % 50}",
                quantity=1,
                unit_price="49.99",
                currency="PLN",
                stock_effect="TAKEN",
            ),
        ),
    )


def deliveries_per_second(kind: str) -> float:
    repo = InMemoryLedgerRepository()
    ledger = StockLedger(repo)
    for sku in range(50):
        ledger.apply_shop_level(f"SKU-{sku}", 10_000, T0)
    messages = [message(i) for i in range(N)]
    for m in messages:
        line = m.lines[0]
        assert line.sku is not None
        ledger.apply_sale(Sale(line.sale_id, line.sku, 1, T0, "shop1"))
    if kind == "generic":
        sink: GenericShop | WooCommerceShop = GenericShop(
            "https://shop.example/x",
            "bench-secret-0123456789",
            httpx.Client(transport=mock_transport(FakeGenericShop(secret="bench-secret-0123456789"))),
        )
    else:
        woo = FakeWooCommerce("ck", "cs")
        for sku in range(50):
            woo.add_product(f"SKU-{sku}", 10_000)
        sink = WooCommerceShop(
            "https://shop.example", "ck", "cs", httpx.Client(transport=mock_transport(woo)), MemoryIndex()
        )
    delivery = ShopDelivery(sink, ledger, MemoryLog(), MemoryBuyers())
    started = time.perf_counter()
    for m in messages:
        delivery.deliver(m)
    return N / (time.perf_counter() - started)


def allegro_calls() -> dict[str, int]:
    def count(allegro: FakeAllegro, update: ShopOrderStatus, service: Fulfillment | None = None) -> int:
        calls = {"n": 0}
        for name in ("checkout_form", "set_fulfillment", "carriers", "shipments", "add_shipment"):
            original = getattr(allegro, name)

            def counted(*a: object, _o: object = original, **k: object) -> object:
                calls["n"] += 1
                return _o(*a, **k)  # type: ignore[operator]

            setattr(allegro, name, counted)
        (service or Fulfillment(allegro)).apply(update)
        return calls["n"]

    full = ShopOrderStatus.model_validate(
        {"checkout_form_id": "f-1", "status": "SENT", "parcels": [{"carrier": "InPost", "waybill": "620001"}]}
    )
    allegro = FakeAllegro()
    service = Fulfillment(allegro)
    first = count(allegro, full, service)
    return {
        "status + 1 parcel (cold)": first,
        "status only, one stale revision": count(
            FakeAllegro(changes_before_put=1), ShopOrderStatus(checkout_form_id="f", status="SENT")
        ),
        "repeat of an applied update": count(allegro, full, service),
    }


def main() -> None:
    rates = {kind: deliveries_per_second(kind) for kind in ("generic", "woocommerce")}
    for kind, rate in rates.items():
        print(f"{kind}: {rate:,.0f} orders/s delivered + ledger-confirmed (fakes)")
    calls = allegro_calls()
    for what, n in calls.items():
        print(f"Allegro calls, {what}: {n}")
    record(
        "shop_out",
        {"orders_per_s": {k: round(v) for k, v in rates.items()}, "allegro_calls_per_update": calls},
    )


if __name__ == "__main__":
    main()
