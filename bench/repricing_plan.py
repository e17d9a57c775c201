"""Planning a repricing round for 100,000 offers (pure domain) and what applying it costs in Allegro calls.

Offers: 20 categories, prices 10..2000 PLN, cost 55-75 % of the price, a third each on the feed strategy
(3-6 rivals, 10 % with an outlier), demand (random stock and 30-day sales) and Allegro's rule. Fees are a
line per category (what the fee book builds from two previews per price band).

Allegro calls to apply: GET /sale/offers pages (1000 each), fee previews (2 per category and price band
touched, cached 24 h), one FIXED_PRICE command per new price shared by 25 offers or more (a command sets one
value for up to 1000 offers), the other prices in bulk commands of 25 offers each with their own prices
(issue 16, `services.repricing.market_prices`; before it, one FIXED_PRICE command per distinct price: the
figure "before" below), one price-automation command per distinct range, plus task polls: the client
reads `/tasks` after 0.5 s and again until done; the emulator and Allegro usually finish a small command
within the first two reads, so 2 polls per command is assumed.

Run: .venv/bin/python -m bench.repricing_plan [offers]   (default 100000)
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from allegro_sync.domain import repricing as rp
from allegro_sync.services.repricing import MAX_COMMANDS_PER_ROUND, band_of
from allegro_sync.services.repricing.market_prices import price_commands as bulk_price_commands
from bench._results import record

POLLS_PER_COMMAND = 2
RPM = 300  # the repricer's share, topology.allegro_rpm


def offers(n: int, rng: random.Random) -> list[rp.OfferInput]:
    out = []
    for i in range(n):
        price = Decimal(rng.randint(1000, 200_000)) / 100
        cost = (price * Decimal(rng.randint(55, 75)) / 100).quantize(Decimal("0.01"))
        rivals = [
            rp.CompetitorPrice(
                f"SKU-{i}", f"r{j}", (price * Decimal(rng.randint(85, 110)) / 100).quantize(Decimal("0.01"))
            )
            for j in range(rng.randint(3, 6))
        ]
        if rng.random() < 0.1:
            rivals.append(rp.CompetitorPrice(f"SKU-{i}", "dumper", (price / 3).quantize(Decimal("0.01"))))
        out.append(
            rp.OfferInput(
                account="acc",
                offer_id=str(7_000_000_000 + i),
                sku=f"SKU-{i}",
                category_id=f"c{i % 20}",
                price=price,
                cost=cost,
                list_price=(price * Decimal("1.1")).quantize(Decimal("0.01")),
                stock=rng.randint(0, 50),
                sold_30d=rng.randint(0, 40),
                visits_30d=rng.randint(0, 500),
                listed_since=datetime.now(UTC) - timedelta(days=rng.randint(31, 365)),  # a full sales window
                competitors=tuple(rivals),
            )
        )
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(7)
    data = offers(n, rng)
    settings = [
        rp.RepricingSettings(
            account="acc",
            strategy=rp.Strategy.FEED,
            endings=(Decimal("0.99"),),
            breaker_floor_share=Decimal("0.9"),
        ),
        *(rp.RepricingSettings(category_id=f"c{c}", strategy=rp.Strategy.DEMAND) for c in range(7, 14)),
        *(rp.RepricingSettings(category_id=f"c{c}", strategy=rp.Strategy.ALLEGRO) for c in range(14, 20)),
    ]
    fees = {
        f"c{c}": rp.LinearFee(fixed=Decimal("1.00"), rate=Decimal("0.08") + Decimal(c) / 1000)
        for c in range(20)
    }
    started, cpu = time.perf_counter(), time.process_time()
    plan = rp.plan_account(
        "acc", data, all_settings=settings, fees=lambda c: fees[c].at if c else None, now=datetime.now(UTC)
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    actions = Counter(d.action for d in plan.decisions)
    prices = Counter(d.new_price for d in plan.decisions if d.action is rp.Action.SET_PRICE)
    ranges = Counter(
        (d.rule_type, d.floor, d.ceiling) for d in plan.decisions if d.action is rp.Action.ASSIGN_RULE
    )
    before_price_commands, price_commands = bulk_price_commands(list(prices.values()))
    rule_commands = sum(math.ceil(k / 1000) for k in ranges.values())
    listing = math.ceil(n / 1000)
    previews = 2 * len({(o.category_id, band_of(o.price)) for o in data})
    commands = price_commands + rule_commands
    calls = listing + previews + commands * (1 + POLLS_PER_COMMAND) + (1 if ranges else 0)
    before_calls = before_price_commands * (1 + POLLS_PER_COMMAND)
    after_calls = price_commands * (1 + POLLS_PER_COMMAND)
    print(f"offers planned:            {n:,}")
    print(f"planning time:             {seconds:.2f} s wall, {cpu:.2f} s CPU ({n / cpu:,.0f} offers/s CPU)")
    print(f"breaker tripped:           {plan.breaker_tripped}")
    print("decisions:                 " + ", ".join(f"{a.value} {k:,}" for a, k in actions.most_common()))
    print(f"price changes:             {actions[rp.Action.SET_PRICE]:,} in {len(prices):,} distinct prices")
    print(f"rule assignments:          {actions[rp.Action.ASSIGN_RULE]:,} in {len(ranges):,} distinct ranges")
    print(
        f"price commands:            {price_commands:,}  (+{price_commands * POLLS_PER_COMMAND:,} task "
        "polls; FIXED_PRICE for a price shared by 25+ offers, the rest 25 offers per bulk command)"
    )
    print(
        f"price calls, bulk:         before {before_calls:,} ({before_price_commands:,} FIXED_PRICE commands "
        f"+ polls) -> after {after_calls:,} ({price_commands:,} commands + polls)"
    )
    print(
        f"rule commands (<=1000):    {rule_commands:,}  (+{rule_commands * POLLS_PER_COMMAND:,} task polls)"
    )
    print(f"listing pages + previews:  {listing} + {previews} (previews cached 24 h)")
    print(f"Allegro calls to apply:    {calls:,} = {calls / RPM:.1f} min at the repricer's {RPM} rpm")
    rounds = math.ceil(commands / MAX_COMMANDS_PER_ROUND)
    print(f"rounds to apply it all:    {rounds} (budget {MAX_COMMANDS_PER_ROUND} commands per 15-min round)")
    # The next day: every Allegro-rule offer has its range; 95 % of costs fall 0.5 %, 5 % rise 10 %
    # (a rise always re-assigns: the old minimum would be below the new floor).
    assigned = {
        d.offer_id: (d.rule_type, d.floor, d.ceiling)
        for d in plan.decisions
        if d.action is rp.Action.ASSIGN_RULE and d.rule_type and d.floor is not None and d.ceiling is not None
    }
    drift = [
        replace(
            o,
            assigned_range=assigned[o.offer_id],
            cost=(o.cost or Decimal(0)) * (Decimal("1.10") if rng.random() < 0.05 else Decimal("0.995")),
        )
        for o in data
        if o.offer_id in assigned
    ]
    later = rp.plan_account(
        "acc", drift, all_settings=settings, fees=lambda c: fees[c].at if c else None, now=datetime.now(UTC)
    )
    again = Counter(
        (d.rule_type, d.floor, d.ceiling) for d in later.decisions if d.action is rp.Action.ASSIGN_RULE
    )
    moved = sum(again.values())
    print(
        f"next day, costs drift:     {moved:,} of {len(drift):,} ranges re-assigned (-0.5 % kept, +10 % not)"
    )
    record(
        "repricing_plan",
        {
            "offers": n,
            "plan_wall_s": round(seconds, 2),
            "plan_cpu_s": round(cpu, 2),
            "offers_per_cpu_s": round(n / cpu),
            "price_changes": actions[rp.Action.SET_PRICE],
            "rule_assignments": actions[rp.Action.ASSIGN_RULE],
            "allegro_calls_to_apply": calls,
            "price_calls_before_bulk": before_calls,
            "price_calls_with_bulk": after_calls,
            "minutes_at_rpm": round(calls / RPM, 1),
            "rounds_to_apply": rounds,
            "breaker_tripped": plan.breaker_tripped,
        },
    )


if __name__ == "__main__":
    main()
