"""The bulk command's prices per marketplace (issue 16): one element sets an offer's PLN and CZK prices
together, in each marketplace's currency, CZK in whole korunas (docs/allegro-behaviours.md)."""

from __future__ import annotations

import uuid
from typing import Any

from allegro_sync.emulator.marketplace import Marketplace
from tests.unit.emulator.conftest import Api, create_offer

BETA = "application/vnd.allegro.beta.v1+json"
CZ = {"allegro-cz": {"sellingMode": {"price": {"amount": "600.00", "currency": "CZK"}}}}


def _fixed(amount: str, currency: str) -> dict[str, Any]:
    return {"changeType": "FIXED", "value": {"amount": amount, "currency": currency}}


def _run(api: Api, offer_id: str, prices: dict[str, Any]) -> dict[str, Any]:
    command_id = str(uuid.uuid4())
    body = {"commandId": command_id, "modifications": [{"offerId": offer_id, "prices": prices}]}
    answer = api.call("POST", "/sale/offer-bulk-modification-commands", body, content_type=BETA)
    assert answer.status == 201, answer.body
    [task] = api.get(f"/sale/offer-bulk-modification-commands/{command_id}/tasks").body["tasks"]
    return dict(task)


def test_one_element_moves_the_pln_and_the_czk_price_of_an_offer(api: Api, market: Marketplace) -> None:
    offer_id = create_offer(api, additionalMarketplaces=CZ)["id"]

    task = _run(api, offer_id, {"allegro-pl": _fixed("110.00", "PLN"), "allegro-cz": _fixed("640", "CZK")})

    assert task["status"] == "SUCCESS"
    offer = market.offer(offer_id)
    assert offer["sellingMode"]["price"]["amount"] == "110.00"
    assert offer["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"] == {
        "amount": "640.00",
        "currency": "CZK",
    }
    listed = api.get("/sale/offers").body["offers"][0]["additionalMarketplaces"]["allegro-cz"]
    assert listed["sellingMode"]["price"]["amount"] == "640.00"


def test_hellers_zloty_on_allegro_cz_or_a_gain_where_there_is_no_price_change_nothing(
    api: Api, market: Marketplace
) -> None:
    offer_id = create_offer(api, additionalMarketplaces=CZ)["id"]
    before = market.offer(offer_id)["sellingMode"]["price"]["amount"]

    hellers = _run(
        api, offer_id, {"allegro-pl": _fixed("120.00", "PLN"), "allegro-cz": _fixed("640.50", "CZK")}
    )
    zloty = _run(api, offer_id, {"allegro-cz": _fixed("640", "PLN")})
    no_sk = _run(
        api, offer_id, {"allegro-sk": {"changeType": "GAIN", "value": {"amount": "1", "currency": "EUR"}}}
    )

    assert [t["errors"][0]["code"] for t in (hellers, zloty, no_sk)] == [
        "InvalidPricePrecision",
        "INVALID_CURRENCY",
        "MARKETPLACE_NOT_AVAILABLE",
    ]
    offer = market.offer(offer_id)
    assert offer["sellingMode"]["price"]["amount"] == before  # the element is all or nothing
    assert offer["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"]["amount"] == "600.00"


def test_a_fee_preview_on_allegro_cz_charges_its_fixed_fee_in_czk(api: Api) -> None:
    body = {
        "offer": {
            "name": "Oferta testowa",
            "category": {"id": "101"},  # 10 % + 1.00 PLN on allegro.pl
            "sellingMode": {"price": {"amount": "1000.00", "currency": "CZK"}},
        },
        "marketplaceId": "allegro-cz",
    }
    fee = api.call("POST", "/pricing/offer-fee-preview", body).body["commissions"][0]["fee"]
    assert fee == {"amount": "106.00", "currency": "CZK"}  # 10 % of 1000 + 1.00 PLN as 6 CZK (whole korunas)
