"""The server is threaded: concurrent buyers and sellers must never oversell or lose an update."""

from __future__ import annotations

import threading
import uuid

from allegro_sync.emulator.marketplace import Marketplace
from tests.unit.emulator.conftest import Api, create_offer


def test_concurrent_buyers_never_oversell(api: Api, market: Marketplace) -> None:
    offer = create_offer(api, stock={"available": 25, "unit": "UNIT"})["id"]
    sold: list[str] = []
    refused: list[Exception] = []
    lock = threading.Lock()

    def shopper() -> None:
        for _ in range(10):
            try:
                form = market.buy(offer)
            except ValueError as exc:
                with lock:
                    refused.append(exc)
            else:
                with lock:
                    sold.append(form)

    def seller() -> None:
        for _ in range(10):
            body = {
                "modification": {"changeType": "GAIN", "value": 0},
                "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
            }
            api.call("PUT", f"/sale/offer-quantity-change-commands/{uuid.uuid4()}", body, check_request=False)

    threads = [threading.Thread(target=shopper) for _ in range(5)] + [threading.Thread(target=seller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sold) == 25
    assert len(refused) == 25
    shown = api.get(f"/sale/product-offers/{offer}").body
    assert shown["stock"]["available"] == 0
    assert shown["publication"]["endedBy"] == "EMPTY_STOCK"
    assert len(api.get("/order/events", limit=1000).body["events"]) == 50
