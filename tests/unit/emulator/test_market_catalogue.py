"""Catalogue: category tree, parameters, matching categories, product search by GTIN, images."""

from __future__ import annotations

from tests.unit.emulator.conftest import HEADPHONES, KETTLES, SHARED_EAN, SONY, Api


def test_tree_walks_from_roots_to_leaves(api: Api) -> None:
    app = api.as_seller(None)  # public data: an app token is enough
    roots = app.get("/sale/categories").body["categories"]
    assert {c["name"] for c in roots} == {"Elektronika", "Dom i Ogród", "Kultura i rozrywka"}
    assert all("parent" not in c for c in roots)
    audio = app.get("/sale/categories", **{"parent.id": "10"}).body["categories"]
    assert audio == [app.get(f"/sale/categories/{HEADPHONES}").body]
    assert audio[0]["leaf"] is True
    assert audio[0]["parent"] == {"id": "10"}


def test_unknown_category_is_404(api: Api) -> None:
    assert api.get("/sale/categories/404404").status == 404
    assert api.get("/sale/categories", **{"parent.id": "404404"}).status == 404


def test_parameters_have_required_dictionary_numeric_and_string(api: Api) -> None:
    parameters = api.as_seller(None).get(f"/sale/categories/{KETTLES}/parameters").body["parameters"]
    by_id = {p["id"]: p for p in parameters}
    assert by_id["11323"]["required"] is True
    assert by_id["11323"]["type"] == "dictionary"
    assert by_id["17448"]["type"] == "integer"
    assert by_id["17448"]["required"] is True
    assert by_id["248811"]["type"] == "string"
    assert by_id["248811"]["required"] is False


def test_matching_categories_by_words(api: Api) -> None:
    found = api.as_seller(None).get("/sale/matching-categories", name="Czajnik elektryczny stalowy 1,7 l")
    first = found.body["matchingCategories"][0]
    assert first["id"] == KETTLES
    assert first["parent"]["parent"]["name"] == "Dom i Ogród"
    nothing = api.get("/sale/matching-categories", name="xyzzy qwerty").body
    assert nothing == {"matchingCategories": []}


def test_gtin_search_finds_one_or_both_products(api: Api) -> None:
    one = api.get("/sale/products", phrase="4548736132610", mode="GTIN").body["products"]
    assert [p["id"] for p in one] == [SONY]
    assert one[0]["category"]["path"][-1] == {"id": HEADPHONES, "name": "Słuchawki"}
    assert api.get(f"/sale/products/{SONY}").body["name"] == one[0]["name"]
    two = api.get("/sale/products", phrase=SHARED_EAN, mode="GTIN").body["products"]
    assert len(two) == 2


def test_products_need_a_user_token(api: Api) -> None:
    assert api.as_seller(None).get("/sale/products", phrase="4548736132610", mode="GTIN").status == 403


def test_product_search_pages_with_page_id(api: Api, market: object) -> None:
    api.market.state.catalogue.products_page_size = 1
    first = api.get("/sale/products", phrase="czajnik elektryczny").body
    seen = [p["id"] for p in first["products"]]
    page = first.get("nextPage")
    while page:
        body = api.get("/sale/products", phrase="czajnik elektryczny", **{"page.id": page["id"]}).body
        seen += [p["id"] for p in body["products"]]
        page = body.get("nextPage")
    assert len(seen) == 3
    assert len(set(seen)) == 3


def test_image_upload_checks_the_bytes(api: Api) -> None:
    not_image = api.call("POST", "/sale/images", raw=b"hello", content_type="image/jpeg")
    assert not_image.status == 422
    jpeg = api.call("POST", "/sale/images", raw=b"\xff\xd8\xff\xe0rest", content_type="image/jpeg")
    assert jpeg.status == 201
    assert jpeg.body["location"].startswith("https://a.allegroimg.com/")
    bad_url = api.call("POST", "/sale/images", {"url": "ftp://x"})
    assert bad_url.status == 422
