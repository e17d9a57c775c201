"""The returns and refunds world: the order flow's (`OrdersWorld`) plus the after-sale steps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures import recording_consumer
from tests.fixtures.stack import MakeStack
from tests.integration.orders.conftest import RECORDED_QUEUES, OrdersWorld


class AfterSaleWorld(OrdersWorld):
    def sold(self, sku: str, *, level: int = 5, quantity: int = 2, paid: bool = True) -> tuple[str, str]:
        """An order of `quantity` of `sku` (shop level `level`), imported: (checkout form, line item id)."""
        self.connect("shop1", "seller-one")
        offer = self.offer("shop1", sku, stock=20)
        self.shop_level(sku, level, (offer, "shop1"))
        self.sync()
        self.follow()  # following starts here: older returns are history
        form_id = self.emulator.marketplace.buy(offer, quantity)
        if paid:
            self.emulator.marketplace.pay(form_id)
        self.sync()
        record = self.order(form_id)
        assert record is not None
        return form_id, record.lines[0].line_item_id

    def follow(self) -> dict[str, Any]:
        """One order gap scan run: it follows returns too (no schedule of its own)."""
        return self.scan()

    def returned(self) -> list[dict[str, Any]]:
        return [m for m in self.outbox() if m.get("kind") == "order.returned"]


@pytest.fixture
def world(make_stack: MakeStack) -> AfterSaleWorld:
    return AfterSaleWorld(make_stack(handler_modules=recording_consumer.replacing(*RECORDED_QUEUES)))


@pytest.fixture
def make_world(make_stack: MakeStack) -> Any:
    def make(**env: str) -> AfterSaleWorld:
        return AfterSaleWorld(
            make_stack(env=env, handler_modules=recording_consumer.replacing(*RECORDED_QUEUES))
        )

    return make
