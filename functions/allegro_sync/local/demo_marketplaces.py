"""Demo chapter of issue 16, item 1: one offer sold on allegro.pl and allegro.cz, a CZK order in the shop.

The seller's `markets set allegro-cz --rate 5.8` rule gives a new product a CZK price next to its PLN one
(whole korunas, as Allegro requires); a buyer on allegro.cz pays in CZK, the order reaches the shop with
that currency and amount, and the ledger counts it from the one stock every marketplace shares.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.table import Table

from allegro_sync.adapters.dynamodb.market_rules import DynamoMarketRules
from allegro_sync.domain.market_pricing import MarketRule, ScopedMarketRule
from allegro_sync.domain.pricing import PricingRule
from allegro_sync.services.publishing.context import MAPPINGS_TTL_SECONDS

if TYPE_CHECKING:
    from allegro_sync.local.demo import Demo

SKU = "CZ-KETTLE"


def marketplaces_chapter(demo: Demo) -> None:
    from allegro_sync.local.demo import SELLERS, expect

    demo._chapter("5b. Foreign marketplaces: the same offer on allegro.cz, priced in CZK")
    rule = MarketRule(marketplace="allegro-cz", rate=Decimal("5.8"), pricing=PricingRule(currency="CZK"))
    DynamoMarketRules(demo.runtime.application("catalog_worker").table("mappings")).put_market_rule(
        ScopedMarketRule(sku=SKU, rule=rule)
    )
    demo.console.print(
        f"allegro-sync markets set allegro-cz --rate 5.8 --sku {SKU}: sell it on allegro.cz at the Allegro "
        "price x 5.8, rounded to whole korunas (Allegro refuses hellers, #13367)."
    )
    time.sleep(MAPPINGS_TTL_SECONDS)  # a warm catalog worker rereads the seller's rules after this
    upsert: dict[str, Any] = {"type": "product.upsert", "sku": SKU, "price": "149.00", "stock": 5}
    upsert |= {
        "name": "Czajnik elektryczny Acme szklany 1,5 l",
        "category_path": ["Dom", "Kuchnia", "Czajniki"],
    }
    upsert |= {"attributes": {"Stan": "Nowy", "Marka": "Acme", "Moc": "2000"}}
    upsert["cost_price"] = "90.00"  # chapter 8 reprices it (repriced_on_cz): its floor needs the cost
    upsert["occurred_at"] = datetime.now(UTC).isoformat()
    status, body = demo._webhook(upsert)
    expect(status == 202, f"POST /webhooks/shop answered {status} {body}")
    demo.runtime.drain(timeout=30)
    table = Table("account", "offer", "allegro.pl", "allegro.cz", "visible on", "stock")
    for account in SELLERS:
        offer = demo.emulator.marketplace.offer(demo._offer_of(SKU, account))
        cz = offer["additionalMarketplaces"]["allegro-cz"]
        expect(cz["publication"]["state"] == "APPROVED", f"allegro.cz says {cz['publication']} for {account}")
        expect(cz["sellingMode"]["price"]["currency"] == "CZK", f"allegro.cz price {cz['sellingMode']}")
        base = offer["sellingMode"]["price"]
        visible = [m["id"] for m in offer["publication"]["marketplaces"]["additional"]]
        table.add_row(
            account,
            offer["id"],
            f"{base['amount']} {base['currency']}",
            f"{cz['sellingMode']['price']['amount']} CZK",
            ", ".join(["allegro-pl", *visible]),
            str(offer["stock"]["available"]),
        )
    demo.console.print(table)

    demo.shop.stock[SKU] = 5  # the shop's own level, which it reports after taking the order
    first = next(iter(SELLERS))
    offer_id = demo._offer_of(SKU, first)
    before = demo._ledger().view(SKU).available
    form = demo.emulator.marketplace.buy(offer_id, 1, marketplace="allegro-cz")
    demo.emulator.marketplace.pay(form)
    demo.runtime.next_tick(timeout=30)
    message = demo.shop.orders.get(form)
    expect(message is not None, f"the shop never received the allegro.cz order {form}")
    assert message is not None
    lines = [(li["sku"], li["unit_price"], li["currency"]) for li in message["lines"]]
    expect(all(currency == "CZK" for _, _, currency in lines), f"the shop got {lines}")
    after = demo._ledger().view(SKU).available
    expect(before is not None and after == before - 1, f"the ledger went {before} -> {after}")
    demo.console.print(
        f"A buyer on allegro.cz pays for 1 x {SKU} (order {form[:8]}…): the shop receives it in CZK "
        f"({lines[0][1]} {lines[0][2]} a piece); the ledger counts it like any sale: {before} -> {after}, "
        f"and every offer of {SKU} shows {demo._stock(offer_id)} on every marketplace."
    )


# A competitor-feed row for chapter 8 (repricing): a rival sells the kettle at 159.00 PLN.
FEED_ROW = f"{SKU},agd-swiat,159.00,PLN\n"


def repriced_on_cz(demo: Demo, account: str) -> None:
    """Chapter 8, issue 16: the repricer moved the kettle's PLN price and its allegro.cz price with it (the
    seller's rule: x 5.8, whole korunas), in one bulk-command element."""
    from allegro_sync.local.demo import DemoFailure

    offer = demo.emulator.marketplace.offer(demo._offer_of(SKU, account))
    pln = Decimal(offer["sellingMode"]["price"]["amount"])
    czk = offer["additionalMarketplaces"]["allegro-cz"]["sellingMode"]["price"]["amount"]
    wanted = (pln * Decimal("5.8")).quantize(Decimal("0.01")).quantize(Decimal(1))
    if pln != Decimal("158.99") or Decimal(czk) != wanted:
        raise DemoFailure(f"{SKU} on {account}: {pln} PLN / {czk} CZK after repricing, not 158.99 / {wanted}")
    demo.console.print(
        f"{SKU} on {account}: repriced to {pln} PLN (a rival at 159.00), and on allegro.cz to {czk} CZK "
        "through the seller's allegro-cz rule, in the same bulk command (prices why shows both)."
    )
