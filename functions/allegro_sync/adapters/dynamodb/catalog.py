"""Shop products and their offer links in the `catalog` table.

Layout (string keys, per CONTRIBUTING):
- product: pk="product#<sku>", sk="product"       — the newest accepted state (price, deleted, and the
  content's cost, price and EAN for the repricing sweep), guarded by `order_key`; small (< 1 KB), so a
  price change costs one write unit. A stock change does not write it (issue 21): the stock ledger holds
  the shop's level; `stock` here is what the last upsert (or a SKU's first stock change) said;
- content: pk="product#<sku>", sk="content"       — the last product.upsert (name, description, images:
  often several KB), written only when an upsert brings new content, never by a stock or price change;
- link:    pk="product#<sku>", sk="offer#<account>" — offer id, status, readable reasons, synced fingerprints.
One partition per SKU, so `products status SKU` is one Query and a product never waits on another.

The product write is conditional (`order_key <= :new`): DynamoDB itself refuses an older event, so two
workers racing on one SKU (a redelivery next to a newer event) can never put an older state back. The
content is written after an accepted product (a crash in between: the redelivered upsert writes it), on
its own condition (the upsert's own order key), so an older upsert never replaces newer content. A product
item of an earlier version still carries `upsert` itself: it is read as before and moved to the content
item by its next write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from allegro_sync.adapters.dynamodb import items
from allegro_sync.adapters.dynamodb.changes import change_item
from allegro_sync.contracts.catalog import (
    Change,
    LinkStatus,
    OfferLink,
    Outcome,
    ProductStatus,
    StoredProduct,
    order_key,
)
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.contracts.records.catalog import OfferLinkItem, ProductContentItem, ProductItem

PRODUCT_PK = "product#"
PRODUCT_SK = "product"
CONTENT_SK = "content"
LINK_SK = "offer#"


def link_item(link: OfferLink) -> dict[str, Any]:
    return items.to_stored(
        OfferLinkItem,
        link,
        pk=PRODUCT_PK + link.sku,
        sk=LINK_SK + link.account,
        status=link.status.value,
        candidates=json.dumps(list(link.candidates)),
        last_error=None if link.last_error is None else json.dumps(link.last_error, ensure_ascii=False),
    ).item()


class DynamoCatalog:
    """`CatalogRepository` on DynamoDB."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def accept(self, product: StoredProduct, *, new_content: bool = True) -> Outcome:
        return self.accept_noting_new(product, new_content=new_content)[0]

    def accept_noting_new(self, product: StoredProduct, *, new_content: bool = True) -> tuple[Outcome, bool]:
        """Also says whether the SKU is new (no product item before): the write's own answer, not a read."""
        item = items.to_stored(
            ProductItem,
            product,
            pk=PRODUCT_PK + product.sku,
            sk=PRODUCT_SK,
            upsert=None,
            price=None if product.price is None else str(product.price),
            facts=_facts_of(product.upsert),
        )
        try:
            old = self._table.put_item(
                Item=item.item(),
                ConditionExpression="attribute_not_exists(pk) OR order_key <= :key",
                ExpressionAttributeValues={":key": product.order_key},
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        except ClientError as error:
            if items.condition_failed(error):
                return Outcome.STALE, False
            raise
        legacy = old.get("upsert")  # an earlier version's product item carried its content itself
        if product.upsert is not None and (new_content or legacy):
            upsert = product.upsert if new_content else ProductUpsert.model_validate_json(str(legacy))
            self._put_content(product.sku, upsert)
        return Outcome.APPLIED, not old

    def _put_content(self, sku: str, upsert: ProductUpsert) -> None:
        key = order_key(upsert.occurred_at, upsert.version)
        content = ProductContentItem(
            pk=PRODUCT_PK + sku, sk=CONTENT_SK, order_key=key, upsert=upsert.model_dump_json()
        )
        try:
            self._table.put_item(
                Item=content.item(),
                ConditionExpression="attribute_not_exists(pk) OR order_key <= :key",
                ExpressionAttributeValues={":key": key},
            )
        except ClientError as error:
            if not items.condition_failed(error):
                raise  # else: newer content is already stored

    def product(self, sku: str) -> StoredProduct | None:
        found = items.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": PRODUCT_PK + sku},
            ConsistentRead=True,
        )
        return _product_of(list(found))

    def link(self, sku: str, account: str) -> OfferLink | None:
        item = self._table.get_item(
            Key={"pk": PRODUCT_PK + sku, "sk": LINK_SK + account}, ConsistentRead=True
        ).get("Item")
        return _link(item) if item else None

    def products_and_links(
        self, skus: Sequence[str], account: str
    ) -> tuple[dict[str, StoredProduct], dict[str, OfferLink]]:
        """Many SKUs' products and their offer links on `account`, in BatchGetItems (33 SKUs a call),
        eventually consistent: for a sweep's decisions, which the next sweep revisits anyway."""
        keys = [
            {"pk": PRODUCT_PK + sku, "sk": sk}
            for sku in dict.fromkeys(skus)
            for sk in (PRODUCT_SK, CONTENT_SK, LINK_SK + account)
        ]
        parts: dict[str, list[dict[str, Any]]] = {}
        links: dict[str, OfferLink] = {}
        for raw in items.batch_get(self._table.meta.client.batch_get_item, self._table.name, keys):
            if str(raw["sk"]).startswith(LINK_SK):
                link = _link(raw)
                links[link.sku] = link
            else:  # the product item and its content item (the last upsert), joined below
                parts.setdefault(str(raw["pk"]).removeprefix(PRODUCT_PK), []).append(raw)
        products = {sku: p for sku, found in parts.items() if (p := _product_of(found)) is not None}
        return products, links

    def facts_and_links(
        self, skus: Sequence[str], account: str
    ) -> tuple[dict[str, ContentFacts], dict[str, OfferLink]]:
        """A repricing sweep's read (issue 21): each SKU's product item, which carries the content's cost,
        price and EAN, and its offer link on `account`, 50 SKUs a BatchGetItem (eventually consistent);
        the content item (often several KB) only for product items an earlier version wrote."""
        keys = [
            {"pk": PRODUCT_PK + s, "sk": sk}
            for s in dict.fromkeys(skus)
            for sk in (PRODUCT_SK, LINK_SK + account)
        ]
        facts: dict[str, ContentFacts] = {}
        links: dict[str, OfferLink] = {}
        legacy: list[str] = []
        for raw in items.batch_get(self._table.meta.client.batch_get_item, self._table.name, keys):
            if str(raw["sk"]).startswith(LINK_SK):
                link = _link(raw)
                links[link.sku] = link
                continue
            item = ProductItem.from_item(raw)
            if item.facts is None:
                legacy.append(item.sku)
            else:
                facts[item.sku] = ContentFacts.of(item.facts, item.price)
        if legacy:
            products, _ = self.products_and_links(legacy, account)
            facts |= {sku: ContentFacts.of(_facts_of(p.upsert), p.price) for sku, p in products.items()}
        return facts, links

    def links_on(self, skus: Sequence[str], account: str) -> dict[str, OfferLink]:
        """Many SKUs' offer links on `account` alone, 100 per BatchGetItem (eventually consistent): a sweep
        that already holds the products (issue 21)."""
        wanted = [{"pk": PRODUCT_PK + sku, "sk": LINK_SK + account} for sku in dict.fromkeys(skus)]
        found = items.batch_get(self._table.meta.client.batch_get_item, self._table.name, wanted)
        return {link.sku: link for link in map(_link, found)}

    def existing_links(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (SKU, account) offer links exist, 100 per BatchGetItem (eventually consistent)."""
        wanted = [{"pk": PRODUCT_PK + sku, "sk": LINK_SK + account} for sku, account in dict.fromkeys(keys)]
        return {
            (str(item["pk"])[len(PRODUCT_PK) :], str(item["sk"])[len(LINK_SK) :])
            for item in items.batch_get(self._table.meta.client.batch_get_item, self._table.name, wanted)
        }

    def links(self, sku: str) -> list[OfferLink]:
        return self.status(sku).links

    def save_link(self, link: OfferLink) -> None:
        self._table.put_item(Item=link_item(link))

    def replace_link(self, link: OfferLink, *, offer_id: str) -> bool:
        return items.conditional_write(
            self._table.put_item,
            Item=link_item(link),
            ConditionExpression="offer_id = :old",
            ExpressionAttributeValues={":old": offer_id},
        )

    def status(self, sku: str) -> ProductStatus:
        found = list(
            items.all_items(
                self._table.query,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": PRODUCT_PK + sku},
                ConsistentRead=True,
            )
        )
        product = _product_of(found)
        links = [_link(i) for i in found if str(i["sk"]).startswith(LINK_SK)]
        return ProductStatus(product=product, links=sorted(links, key=lambda link: link.account))

    def skus(self, *, status: LinkStatus | None = None) -> list[str]:
        """Every SKU with a link (in `status`, if given): `products list --waiting` for the CLI. A scan."""
        links = items.all_items(
            self._table.scan, ProjectionExpression="sku, sk, #s", ExpressionAttributeNames={"#s": "status"}
        )
        return sorted(
            {
                str(item["sku"])
                for item in links
                if str(item["sk"]).startswith(LINK_SK) and (status is None or item.get("status") == status)
            }
        )


@dataclass(frozen=True)
class ContentFacts:
    """What a repricing sweep needs of a product: cost and EAN from its content, the shop price (a newer
    price change wins over the content's)."""

    cost: Decimal | None
    price: Decimal | None
    ean: str | None

    @classmethod
    def of(cls, facts: str, price: Decimal | str | None) -> ContentFacts:
        parsed = json.loads(facts)
        shop = None if price is None else Decimal(price)
        return cls(_decimal(parsed.get("cost")), shop or _decimal(parsed.get("price")), parsed.get("ean"))


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _facts_of(upsert: ProductUpsert | None) -> str:
    """The product item's `facts` attribute: the content's cost, price and EAN ("{}" without content)."""
    if upsert is None:
        return "{}"
    found = {"cost": upsert.cost_price, "price": upsert.price, "ean": upsert.ean}
    return json.dumps({k: str(v) for k, v in found.items() if v is not None}, separators=(",", ":"))


def _product_of(found: list[dict[str, Any]]) -> StoredProduct | None:
    """The product from its partition's items: the product item, with the content item's upsert."""
    raw = next((i for i in found if i["sk"] == PRODUCT_SK), None)
    if raw is None:
        return None
    content = next((i for i in found if i["sk"] == CONTENT_SK), None)
    item = ProductItem.from_item(raw)
    upsert = ProductContentItem.from_item(content).upsert if content is not None else item.upsert
    return items.from_stored(
        StoredProduct,
        item,
        upsert=ProductUpsert.model_validate_json(upsert) if upsert else None,
        price=Decimal(item.price) if item.price is not None else None,
    )


def _link(raw: dict[str, Any]) -> OfferLink:
    item = OfferLinkItem.from_item(raw)
    return items.from_stored(
        OfferLink,
        item,
        status=LinkStatus(item.status),
        reasons=tuple(item.reasons),
        last_error=json.loads(item.last_error) if item.last_error else None,
        candidates=tuple(json.loads(item.candidates or "[]")),
        synced=dict(item.synced),
        images=dict(item.images),
    )


class DynamoLinkWrites:
    """An offer link and the changes that led to it in one TransactWriteItems (two tables, one call, all or
    nothing: a link never says "published" without the record of why), instead of a PutItem each. A
    transaction needs no more than PutItem on each table, where a BatchWriteItem grant would be broader."""

    def __init__(self, catalog: Any, changes: Any) -> None:
        self._catalog = catalog
        self._changes = changes

    def save(self, link: OfferLink, changes: Sequence[Change]) -> None:
        puts = [{"Put": {"TableName": self._catalog.name, "Item": link_item(link)}}]
        puts += [{"Put": {"TableName": self._changes.name, "Item": change_item(c)}} for c in changes]
        self._catalog.meta.client.transact_write_items(TransactItems=puts)
