"""Price automation rules and commands, and the fee preview."""

from __future__ import annotations

import uuid

from tests.unit.emulator.conftest import BOOKS, HEADPHONES, Api, create_offer


def test_default_rules_exist_per_seller(api: Api) -> None:
    rules = api.get("/sale/price-automation/rules").body["rules"]
    assert {r["type"] for r in rules} == {
        "FOLLOW_BY_ALLEGRO_MIN_PRICE",
        "FOLLOW_BY_MARKET_MIN_PRICE",
        "FOLLOW_BY_TOP_OFFER_PRICE",
        "EXCHANGE_RATE",
    }
    assert all(r["default"] for r in rules)
    assert api.get(f"/sale/price-automation/rules/{rules[0]['id']}").body == rules[0]
    other = api.as_seller("1002").get("/sale/price-automation/rules").body["rules"]
    assert {r["id"] for r in other}.isdisjoint({r["id"] for r in rules})


def test_custom_rule_and_duplicate_name(api: Api) -> None:
    body = {
        "name": "Taniej o 1 zł",
        "type": "FOLLOW_BY_MARKET_MIN_PRICE",
        "configuration": {
            "changeByAmount": {"operation": "SUBTRACT", "values": [{"amount": "1.00", "currency": "PLN"}]}
        },
    }
    created = api.call("POST", "/sale/price-automation/rules", body)
    assert created.status == 201
    assert created.body["default"] is False
    assert api.call("POST", "/sale/price-automation/rules", body).status == 409


def test_assign_rule_with_range_clamps_price(api: Api) -> None:
    offer = create_offer(api)["id"]  # 1299.00
    rule = api.get("/sale/price-automation/rules").body["rules"][0]["id"]
    command = {
        "id": str(uuid.uuid4()),
        "modification": {
            "set": [
                {
                    "marketplace": {"id": "allegro-pl"},
                    "rule": {"id": rule},
                    "configuration": {
                        "priceRange": {
                            "type": "MARKETPLACE_CURRENCY",
                            "minPrice": {"amount": "900.00", "currency": "PLN"},
                            "maxPrice": {"amount": "1100.00", "currency": "PLN"},
                        }
                    },
                }
            ]
        },
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
    }
    # Checked strictly: validation.apply_spec_errata makes the spec's ambiguous `oneOf` usable.
    posted = api.call("POST", "/sale/offer-price-automation-commands", command)
    assert posted.status == 201
    again = api.call("POST", "/sale/offer-price-automation-commands", command)
    assert again.status == 409
    api.market.process_due()
    assert api.get(f"/sale/offer-price-automation-commands/{command['id']}").body["taskCount"]["success"] == 1
    tasks = api.get(f"/sale/offer-price-automation-commands/{command['id']}/tasks").body["tasks"]
    assert tasks[0]["status"] == "SUCCESS"
    assigned = api.get(f"/sale/price-automation/offers/{offer}/rules").body["rules"]
    assert assigned[0]["rule"] == {"id": rule}
    assert api.get(f"/sale/product-offers/{offer}").body["sellingMode"]["price"]["amount"] == "1100.00"
    listed = api.get("/sale/offers", **{"sellingMode.priceAutomation.rule.id": rule}).body["offers"]
    assert [o["id"] for o in listed] == [offer]


def test_unknown_rule_fails_the_task(api: Api) -> None:
    offer = create_offer(api)["id"]
    command = {
        "modification": {"set": [{"marketplace": {"id": "allegro-pl"}, "rule": {"id": "nope"}}]},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": offer}]}],
    }
    posted = api.call("POST", "/sale/offer-price-automation-commands", command, check_request=False)
    api.market.process_due()
    tasks = api.get(f"/sale/offer-price-automation-commands/{posted.body['id']}/tasks").body["tasks"]
    assert tasks[0]["errors"][0]["code"] == "RULE_NOT_FOUND"
    assert api.get(f"/sale/price-automation/offers/{offer}/rules").body["rules"] == []


def test_fee_preview_uses_the_category_table(api: Api) -> None:
    def fee(category: str, amount: str) -> str:
        body = {
            "offer": {
                "name": "Oferta testowa",
                "category": {"id": category},
                "sellingMode": {"format": "BUY_NOW", "price": {"amount": amount, "currency": "PLN"}},
            }
        }
        response = api.call("POST", "/pricing/offer-fee-preview", body)
        assert response.status == 200
        return str(response.body["commissions"][0]["fee"]["amount"])

    assert fee(HEADPHONES, "100.00") == "11.00"  # 10% + 1.00
    assert fee(BOOKS, "39.99") == "4.80"  # 12%, rounded half up
    bad = {
        "offer": {
            "name": "Oferta testowa",
            "category": {"id": "1"},
            "sellingMode": {"price": {"amount": "10", "currency": "PLN"}},
        }
    }
    assert api.call("POST", "/pricing/offer-fee-preview", bad).status == 422
