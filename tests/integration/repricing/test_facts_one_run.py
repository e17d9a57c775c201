"""Issue 21: a repricing sweep over several accounts reads a SKU's product facts once, not once per account,
and only inside the sweep (`CatalogFacts.one_run`): the next sweep sees a changed cost."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.repricing import CatalogFacts
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredProduct
from tests.fixtures.aws import create_tables
from tests.fixtures.products import product_upsert

pytestmark = pytest.mark.integration

SKUS = [f"SKU-{n}" for n in range(5)]


def store(catalog: DynamoCatalog, sku: str, cost: str, version: int = 1) -> None:
    upsert = product_upsert(
        sku, delivery_id=f"d-{sku}-{version}", version=version, name="Kubek", price=Decimal("40.00"),
        cost_price=Decimal(cost), stock=None, attributes={},
    )  # fmt: skip
    catalog.accept(StoredProduct(sku=sku, order_key=f"{version:020d}", upsert=upsert))


@pytest.fixture
def catalog(aws: None) -> DynamoCatalog:
    catalog = DynamoCatalog(create_tables("catalog")["catalog"])
    for sku in SKUS:
        store(catalog, sku, "10.00")
        for account, price in (("main", "49.00"), ("second", "52.00")):
            catalog.save_link(
                OfferLink(sku=sku, account=account, status=LinkStatus.PUBLISHED, offer_id=f"{account}-{sku}",
                          price=price)
            )  # fmt: skip
    return catalog


def keys_read(catalog: DynamoCatalog, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sort keys of every item the catalogue's batched reads asked for."""
    client = catalog._table.meta.client
    asked: list[str] = []
    real = client.batch_get_item

    def counted(**kwargs: Any) -> Any:
        for request in kwargs["RequestItems"].values():
            asked.extend(str(key["sk"]) for key in request["Keys"])
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_get_item", counted)
    return asked


def test_a_sweep_reads_each_product_once_and_each_accounts_links(
    catalog: DynamoCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = CatalogFacts(catalog)
    asked = keys_read(catalog, monkeypatch)

    with facts.one_run():
        main = facts.facts_many(SKUS, "main", stock=False)
        second = facts.facts_many(SKUS, "second", stock=False)

    # issue 21: the content items (often several KB) are not read: the product item carries cost and EAN
    assert sorted(asked) == sorted(
        ["product"] * len(SKUS) + ["offer#main"] * len(SKUS) + ["offer#second"] * len(SKUS)
    )
    assert {f.list_price for f in main.values()} == {Decimal("49.00")}  # each account's own offer price
    assert {f.list_price for f in second.values()} == {Decimal("52.00")}
    assert {f.cost for f in second.values()} == {Decimal("10.00")}


def test_the_next_sweep_reads_a_changed_cost(catalog: DynamoCatalog) -> None:
    facts = CatalogFacts(catalog)
    with facts.one_run():
        before = facts.facts_many(SKUS[:1], "main", stock=False)
    store(catalog, SKUS[0], "15.00", version=2)

    with facts.one_run():
        after = facts.facts_many(SKUS[:1], "main", stock=False)
    outside = facts.facts_many(SKUS[:1], "second", stock=False)

    assert (before[SKUS[0]].cost, after[SKUS[0]].cost, outside[SKUS[0]].cost) == (
        Decimal("10.00"), Decimal("15.00"), Decimal("15.00"),
    )  # fmt: skip


def test_a_stock_change_keeps_the_cost_the_sweep_reads(catalog: DynamoCatalog) -> None:
    """A stock change rewrites the product item without content: the cost and EAN copied on it stay."""
    stored = catalog.product(SKUS[0])
    assert stored is not None
    catalog.accept(replace(stored, order_key=f"{2:020d}", stock=7), new_content=False)

    facts = CatalogFacts(catalog).facts_many(SKUS[:1], "main", stock=False)

    assert (facts[SKUS[0]].cost, facts[SKUS[0]].ean) == (
        Decimal("10.00"),
        stored.upsert and stored.upsert.ean,
    )


def test_a_product_item_of_an_earlier_version_still_gives_its_cost(
    catalog: DynamoCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written before the facts were copied on it: the sweep reads that SKU's content, as before."""
    catalog._table.update_item(
        Key={"pk": "product#" + SKUS[0], "sk": "product"}, UpdateExpression="REMOVE facts"
    )
    asked = keys_read(catalog, monkeypatch)

    facts = CatalogFacts(catalog).facts_many(SKUS[:2], "main", stock=False)

    assert {sku: f.cost for sku, f in facts.items()} == {SKUS[0]: Decimal("10.00"), SKUS[1]: Decimal("10.00")}
    assert asked.count("content") == 1
