"""Offers through /sale/product-offers and GET /sale/offers: the rules FACTS.md lists, end to end."""

from __future__ import annotations

from allegro_sync.emulator.marketplace import Marketplace
from allegro_sync.emulator.types import Clock
from tests.unit.emulator.conftest import (
    BOOKS,
    BOSCH,
    HEADPHONES,
    KETTLES,
    NEW,
    PRIVATE,
    SHARED_EAN,
    SONY,
    Api,
    create_offer,
    error_codes,
    offer_body,
)

DAY = 86400.0


def test_create_links_product_and_activates(api: Api) -> None:
    offer = create_offer(api)
    assert offer["publication"]["status"] == "ACTIVE"
    assert offer["productSet"][0]["product"]["id"] == SONY
    assert offer["external"] == {"id": "SKU-SONY-1"}
    shown = api.get(f"/sale/product-offers/{offer['id']}")
    assert shown.status == 200
    assert shown.body["stock"]["available"] == 5
    assert shown.body["sellingMode"]["price"] == {"amount": "1299.00", "currency": "PLN"}


def test_product_found_by_gtin(api: Api) -> None:
    offer = create_offer(
        api,
        productSet=[{"product": {"id": "4242002711331", "idType": "GTIN"}}],
        category=None,
        name="Czajnik Bosch TWK3A011 1,7 l biały",
    )
    assert offer["category"]["id"] == KETTLES
    assert offer["productSet"][0]["product"]["id"] == BOSCH


def test_gtin_matching_two_products_is_refused_with_both_ids(api: Api) -> None:
    response = api.call(
        "POST",
        "/sale/product-offers",
        offer_body(productSet=[{"product": {"id": SHARED_EAN, "idType": "GTIN"}}], category={"id": KETTLES}),
    )
    assert response.status == 422
    error = response.body["errors"][0]
    assert error["code"] == "MultipleProductsFoundException"
    assert len(error["metadata"]["productIds"].split(",")) == 2
    assert api.get("/sale/offers").body["totalCount"] == 0


def test_category_mismatch_with_product(api: Api) -> None:
    response = api.call("POST", "/sale/product-offers", offer_body(category={"id": BOOKS}))
    assert response.status == 422
    assert error_codes(response) == ["CATEGORY_MISMATCH"]
    assert response.body["errors"][0]["metadata"] == {"offerCategoryId": BOOKS, "productCategoryId": "101"}


def test_missing_required_parameter_names_it(api: Api) -> None:
    response = api.call("POST", "/sale/product-offers", offer_body(parameters=[]))
    assert response.status == 422
    assert error_codes(response) == ["PARAMETER_MISMATCH"]
    assert response.body["errors"][0]["metadata"]["parameterId"] == "11323"


def test_required_product_parameter_may_come_from_the_request_without_product(api: Api) -> None:
    body = offer_body(productSet=None, parameters=[NEW])
    missing = api.call("POST", "/sale/product-offers", body)
    assert missing.status == 422
    assert {e["metadata"]["parameterId"] for e in missing.body["errors"]} == {"219"}
    body["parameters"] = [NEW, {"id": "219", "valuesIds": ["219_2"]}]
    assert api.call("POST", "/sale/product-offers", body).status == 201


def test_invalid_parameter_values(api: Api) -> None:
    wrong = [
        {"id": "11323", "valuesIds": ["11323_99"]},  # not in the dictionary
        {"id": "4401", "values": ["5000"]},  # above max
        {"id": "999999", "values": ["x"]},  # unknown in this category
    ]
    response = api.call("POST", "/sale/product-offers", offer_body(parameters=wrong))
    assert response.status == 422
    ids = [e["metadata"]["parameterId"] for e in response.body["errors"]]
    assert ids == ["11323", "4401", "999999"]


def test_title_longer_than_75_is_refused(api: Api) -> None:
    response = api.call("POST", "/sale/product-offers", offer_body(name="S" * 76), check_request=False)
    assert response.status == 422
    assert response.body["errors"][0]["path"] == "name"


def test_description_rules(api: Api) -> None:
    bad = {
        "sections": [{"items": [{"type": "TEXT", "content": "<p>a <strong>b</strong></p><p><p>x</p></p>"}]}]
    }
    response = api.call("POST", "/sale/product-offers", offer_body(description=bad))
    assert response.status == 422
    messages = " ".join(e["message"] for e in response.body["errors"])
    assert 'Invalid tag "strong"' in messages
    assert 'Invalid tag "p", allowed tags: {b}' in messages


def test_private_account_cannot_create_offers(api: Api) -> None:
    response = api.as_seller(PRIVATE).call("POST", "/sale/product-offers", offer_body())
    assert response.status == 403


def test_app_token_cannot_read_offers(api: Api) -> None:
    assert api.as_seller(None).get("/sale/offers").status == 403


def test_patch_stock_zero_ends_active_offer_asynchronously(
    api: Api, clock: Clock, market: Marketplace
) -> None:
    market.faults.offer_end_delay_seconds = 5
    offer = create_offer(api)
    patched = api.call("PATCH", f"/sale/product-offers/{offer['id']}", {"stock": {"available": 0}})
    assert patched.status == 200
    assert patched.body["publication"]["status"] == "ACTIVE"
    clock.advance(6)
    shown = api.get(f"/sale/product-offers/{offer['id']}").body
    assert shown["publication"]["status"] == "ENDED"
    assert shown["publication"]["endedBy"] == "EMPTY_STOCK"


def test_patch_merges_and_keeps_other_fields(api: Api) -> None:
    offer = create_offer(api)
    patched = api.call(
        "PATCH",
        f"/sale/product-offers/{offer['id']}",
        {"sellingMode": {"price": {"amount": "999.90", "currency": "PLN"}}},
    )
    assert patched.body["sellingMode"]["price"]["amount"] == "999.90"
    assert patched.body["stock"]["available"] == 5
    assert patched.body["name"] == offer["name"]


def test_patch_409_while_previous_edit_runs(api: Api, clock: Clock, market: Marketplace) -> None:
    offer = create_offer(api)
    market.faults.async_offer_share = 1.0
    market.faults.offer_operation_seconds = 10
    path = f"/sale/product-offers/{offer['id']}"
    first = api.call("PATCH", path, {"stock": {"available": 7}})
    assert first.status == 202
    operation = first.headers["Location"]
    assert api.get(path).body["stock"]["available"] == 5  # not applied yet
    assert api.call("PATCH", path, {"stock": {"available": 8}}).status == 409
    assert api.get(operation).status == 202
    clock.advance(11)
    done = api.get(operation)
    assert done.status == 303
    assert done.headers["Location"] == path
    assert api.get(path).body["stock"]["available"] == 7
    market.faults.async_offer_share = 0.0
    assert api.call("PATCH", path, {"stock": {"available": 8}}).status == 200


def test_async_create_goes_through_activating(api: Api, clock: Clock, market: Marketplace) -> None:
    market.faults.async_offer_share = 1.0
    market.faults.offer_operation_seconds = 3
    response = api.call("POST", "/sale/product-offers", offer_body())
    assert response.status == 202
    offer_id = response.body["id"]
    assert api.get(f"/sale/product-offers/{offer_id}").body["publication"]["status"] == "ACTIVATING"
    clock.advance(4)
    assert api.get(response.headers["Location"]).status == 303
    assert api.get(f"/sale/product-offers/{offer_id}").body["publication"]["status"] == "ACTIVE"


def test_random_409_knob(api: Api, market: Marketplace) -> None:
    offer = create_offer(api)
    market.faults.patch_conflict_rate = 1.0
    assert api.call("PATCH", f"/sale/product-offers/{offer['id']}", {"stock": {"available": 2}}).status == 409
    assert api.get(f"/sale/product-offers/{offer['id']}").body["stock"]["available"] == 5


def test_activating_with_zero_stock_is_refused(api: Api) -> None:
    response = api.call("POST", "/sale/product-offers", offer_body(stock={"available": 0}))
    assert response.status == 422


def test_ended_offer_is_archived_after_60_days(api: Api, clock: Clock) -> None:
    offer = create_offer(api)
    path = f"/sale/product-offers/{offer['id']}"
    api.call("PATCH", path, {"publication": {"status": "ENDED"}})
    clock.advance(59 * DAY)
    assert api.get(path).status == 200
    clock.advance(2 * DAY)
    assert api.get(path).status == 404
    assert api.get("/sale/offers").body["totalCount"] == 0


def test_other_sellers_offer_is_forbidden(api: Api) -> None:
    offer = create_offer(api)
    assert api.as_seller("1002").get(f"/sale/product-offers/{offer['id']}").status == 403


def test_list_filters_and_stats(api: Api, market: Marketplace) -> None:
    first = create_offer(api)
    create_offer(api, external={"id": "SKU-2"}, publication={"status": "INACTIVE"})
    market.add_visits(first["id"], 12, watchers=3)
    market.buy(first["id"], 2)
    listed = api.get("/sale/offers", **{"external.id": "SKU-SONY-1"}).body
    assert listed["totalCount"] == 1
    entry = listed["offers"][0]
    assert entry["stock"] == {"available": 3, "sold": 2}
    assert entry["stats"] == {"watchersCount": 3, "visitsCount": 12}
    inactive = api.get("/sale/offers", **{"publication.status": "INACTIVE"}).body
    assert [o["external"]["id"] for o in inactive["offers"]] == ["SKU-2"]
    page = api.get("/sale/offers", limit=1, offset=1).body
    assert page["count"] == 1
    assert page["totalCount"] == 2


def test_offer_events_cover_24_hours(api: Api, clock: Clock) -> None:
    offer = create_offer(api)
    events = api.get("/sale/offer-events").body["offerEvents"]
    assert [e["type"] for e in events] == ["OFFER_ACTIVATED"]
    assert events[0]["offer"]["external"] == {"id": "SKU-SONY-1"}
    api.call("PATCH", f"/sale/product-offers/{offer['id']}", {"stock": {"available": 1}})
    after = api.get("/sale/offer-events", **{"from": events[0]["id"]}).body["offerEvents"]
    assert [e["type"] for e in after] == ["OFFER_STOCK_CHANGED", "OFFER_CHANGED"]
    clock.advance(DAY + 1)
    assert api.get("/sale/offer-events").body["offerEvents"] == []


def test_uploaded_image_must_be_used_before_it_expires(api: Api, clock: Clock) -> None:
    upload = api.call("POST", "/sale/images", {"url": "https://shop.example/img/1.jpg"})
    assert upload.status == 201
    location = upload.body["location"]
    clock.advance(4 * 3600)  # hours, not a day (#2584: 6 h, #4454: about 3 h)
    response = api.call("POST", "/sale/product-offers", offer_body(images=[location]))
    assert response.status == 422
    # Allegro's own words, and no hint which image or why (#1946, #2584, #7889)
    assert error_codes(response) == ["VALIDATION_ERROR"]
    assert "Provided image address is incorrect" in response.body["errors"][0]["message"]
    fresh = api.call("POST", "/sale/images", raw=b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    created = create_offer(api, images=[fresh.body["location"]])
    assert created["images"] == [fresh.body["location"]]


def test_me_shows_company_only_for_company_accounts(api: Api) -> None:
    me = api.get("/me").body
    assert (me["id"], me["login"]) == ("1001", "sklep-testowy")
    assert "company" in me
    assert "company" not in api.as_seller(PRIVATE).get("/me").body
    assert api.as_seller(None).get("/me").status == 403


def test_a_full_product_definition_proposes_a_catalogue_product_and_links_the_offer(api: Api) -> None:
    definition = {
        "name": "Słuchawki Marki Własnej X1 bezprzewodowe",
        "category": {"id": HEADPHONES},
        "parameters": [{"id": "219", "valuesIds": ["219_2"]}],
    }
    created = create_offer(api, productSet=[{"product": definition}])

    product_id = created["productSet"][0]["product"]["id"]
    assert product_id
    assert api.get(f"/sale/products/{product_id}").body["name"] == definition["name"]


def test_a_product_definition_without_name_or_category_is_refused_and_proposes_nothing(api: Api) -> None:
    before = set(api.market.state.catalogue.products)
    for broken in ({"category": {"id": HEADPHONES}}, {"name": "Słuchawki bez kategorii produktu"}):
        response = api.call("POST", "/sale/product-offers", offer_body(productSet=[{"product": broken}]))
        assert response.status == 422
        assert any(e["path"].startswith("productSet[0].product") for e in response.body["errors"])
    assert set(api.market.state.catalogue.products) == before


# --- issue 14, item 8 (allegro-misc): titles as Allegro counts them ---------------------------------------


def test_titles_are_counted_with_html_entities_and_words_of_at_most_30(api: Api) -> None:
    """& counts 5, < and > 4, a quote 6 (#1306, #3394); no word over 30 characters (#10008)."""
    visible_75 = "Kabel HDMI & DisplayPort " + "x" * 20 + " " + "y" * 29  # 75 visible, 79 counted
    assert len(visible_75) == 75
    refused = api.call("POST", "/sale/product-offers", offer_body(name=visible_75))
    assert refused.status == 422
    assert refused.body["errors"][0]["metadata"]["length"] == "79"
    long_word = api.call("POST", "/sale/product-offers", offer_body(name="Kabel " + "z" * 31 + " czarny"))
    assert long_word.status == 422
    assert "30 characters" in long_word.body["errors"][0]["message"]
    assert create_offer(api, name='Kabel 2" & adapter <USB>')["name"] == 'Kabel 2" & adapter <USB>'
