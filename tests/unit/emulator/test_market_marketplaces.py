"""Foreign marketplaces in the emulator (allegro-behaviours.md, "Foreign marketplaces"): every answer is
checked against the spec by the `api` fixture."""

from __future__ import annotations

from allegro_sync.emulator.marketplace import Marketplace
from tests.unit.emulator.conftest import HEADPHONES, Api, create_offer, error_codes, offer_body

CZ = {"allegro-cz": {"sellingMode": {"price": {"amount": "7500.00", "currency": "CZK"}}}}


def test_marketplaces_list_each_ones_currency(api: Api) -> None:
    listed = api.get("/marketplaces").body["marketplaces"]

    assert {m["id"]: m["currencies"]["base"]["code"] for m in listed} == {
        "allegro-pl": "PLN",
        "allegro-cz": "CZK",
        "allegro-sk": "EUR",
        "allegro-hu": "HUF",
    }


def test_an_offer_with_a_czk_price_is_sold_on_allegro_cz_and_refused_where_it_has_none(api: Api) -> None:
    offer = create_offer(api, additionalMarketplaces=CZ)

    assert offer["publication"]["marketplaces"]["additional"] == [{"id": "allegro-cz"}]
    cz = offer["additionalMarketplaces"]["allegro-cz"]
    assert (cz["sellingMode"]["price"], cz["publication"]["state"]) == (
        {"amount": "7500.00", "currency": "CZK"},
        "APPROVED",
    )
    sk = offer["additionalMarketplaces"]["allegro-sk"]["publication"]
    assert (sk["state"], sk["refusalReasons"][0]["code"]) == ("REFUSED", "VQR001_CURRENCY_NOT_AVAILABLE")
    listed = api.get("/sale/offers").body["offers"][0]["additionalMarketplaces"]
    assert listed["allegro-cz"]["publication"]["state"] == "APPROVED"


def test_hellers_wrong_currency_and_the_base_marketplace_are_refused(api: Api, market: Marketplace) -> None:
    hellers = {"allegro-cz": {"sellingMode": {"price": {"amount": "7500.50", "currency": "CZK"}}}}
    assert error_codes(
        api.call("POST", "/sale/product-offers", offer_body(additionalMarketplaces=hellers))
    ) == ["InvalidPricePrecision"]
    zloty = {"allegro-cz": {"sellingMode": {"price": {"amount": "75.00", "currency": "PLN"}}}}
    assert error_codes(
        api.call("POST", "/sale/product-offers", offer_body(additionalMarketplaces=zloty))
    ) == ["VALIDATION_ERROR"]
    base = {"allegro-pl": {"sellingMode": {"price": {"amount": "75.00", "currency": "PLN"}}}}
    assert error_codes(api.call("POST", "/sale/product-offers", offer_body(additionalMarketplaces=base))) == [
        "BaseMarketplaceInAdditionalMarketplacesException"
    ]
    assert api.get("/sale/offers").body["totalCount"] == 0

    market.faults.whole_czk = False  # the behaviour is switchable like every fault
    assert api.call("POST", "/sale/product-offers", offer_body(additionalMarketplaces=hellers)).status == 201


def test_a_buyer_on_allegro_cz_pays_in_czk_and_the_stock_is_shared(api: Api, market: Marketplace) -> None:
    offer = create_offer(api, additionalMarketplaces=CZ)

    form_id = market.buy(offer["id"], 2, marketplace="allegro-cz")
    form = api.get(f"/order/checkout-forms/{form_id}").body

    assert form["marketplace"] == {"id": "allegro-cz"}
    assert form["lineItems"][0]["price"] == {"amount": "7500.00", "currency": "CZK"}
    assert form["summary"]["totalToPay"]["currency"] == "CZK"
    assert api.get(f"/sale/product-offers/{offer['id']}").body["stock"]["available"] == 3


def test_fee_preview_per_marketplace_wants_its_currency(api: Api) -> None:
    body = {
        "offer": {
            "name": "Oferta testowa",
            "category": {"id": HEADPHONES},
            "sellingMode": {"price": {"amount": "7500.00", "currency": "CZK"}},
        },
        "marketplaceId": "allegro-cz",
    }
    answer = api.call("POST", "/pricing/offer-fee-preview", body)
    assert answer.status == 200, answer.body
    assert answer.body["commissions"][0]["fee"]["currency"] == "CZK"

    in_zloty = {
        **body,
        "offer": {**body["offer"], "sellingMode": {"price": {"amount": "75", "currency": "PLN"}}},
    }
    assert error_codes(api.call("POST", "/pricing/offer-fee-preview", in_zloty)) == ["ERROR"]
