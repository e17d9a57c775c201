"""How big and how hostile a soak run is (the full size by default; the test shortens it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SoakConfig:
    """How big and how hostile the run is. Rates are per second of traffic."""

    accounts: int = 3
    skus: int = 2000
    hot_skus: int = 150  # where the traffic goes, so sales on different accounts collide
    seconds: float = 240.0
    # The soak's full rates. The local runtime now runs functions side by side, each up to its reserved
    # concurrency (see `allegro_sync.local`). While it ran one invocation at a time these rates kept it ~90 %
    # busy, orders took minutes to reach the other accounts and two units were oversold that parallel
    # functions would have saved, so they were halved for a while (0.5 and 0.3).
    stock_changes_per_second: float = 1.0
    purchases_per_second: float = 0.6
    cancel_share: float = 0.1
    repriced_skus: int = 30  # catalogue facts and a feed price on the first account for these
    # Each scheduled run has its own thread; a repricing round takes ~30 s on this machine.
    reprice_every: float = 150.0
    # A full sweep reads the ledger once per offer (6,000 GetItems at 3 x 2,000), ~100 s locally, on the same
    # interpreter as everything else: it would slow every order. So: once, after the traffic.
    reconcile_every: float = 1e9
    gap_scan_every: float = 60.0  # each scan re-enqueues every recent order (AWS: every 15 min)
    crash_rate: float = 0.05  # share of invocations that die part-way
    allegro_error_rate: float = 0.03  # 500/502/503
    allegro_slow_rate: float = 0.03  # answers 400 ms late
    event_duplicate_rate: float = 0.1
    event_skip_rate: float = 0.05  # re-emitted later with a new id (#8498)
    event_delay_seconds: float = 2.0
    patch_conflict_rate: float = 0.02
    throttle_window: tuple[float, float] = (0.30, 0.40)  # share of the run when Allegro answers 429s
    shop_down_window: tuple[float, float] = (0.50, 0.65)  # share of the run when the shop answers 503
    # How long (while Allegro accepts calls) the system may take to bring a sold-out SKU's offers down; a sale
    # sooner than that is a race no system wins (Allegro sells, then tells us). Faults make it seconds, not 1.
    grace_seconds: float = 30.0
    retry_delay_seconds: int = 20
    converge_timeout: float = 600.0
    # --- issue 14, item 6 (allegro-misc): the shop ships this share of paid, uncancelled orders, each with
    # its own tracking number, through POST /webhooks/shop/orders; Allegro marks them SENT itself.
    ship_share: float = 0.5
    seed: int = 7
    # --- allegro-orders (docs/allegro-behaviours.md): combined payments, changes after payment ---
    # Share of purchases left unpaid until the same account's next purchase, then paid together: Allegro
    # replaces both by one new form (#1111), so ~2x this share of paid orders are merged ones.
    combined_payment_share: float = 0.12
    address_change_share: float = 0.05  # a paid order gets a new delivery address (#3730)
    # (cancel_share above cancels PAID orders: BUYER_CANCELLED after READY_FOR_PROCESSING, #3085)
    validate: bool = True  # check every exchange against Allegro's spec (slower)
    # ---- allegro-limits (issue 14, items 2 and 4): per-seller limits, slow /sale/products, failed 202s ----
    # While this window lasts each seller may write product-offers this many times a minute and read them
    # this often (Allegro: 2,490 and 3,500, #12700): per-seller 429s that must stop only that seller.
    user_limit_window: tuple[float, float] = (0.05, 0.45)
    user_offer_writes_per_minute: int = 2
    user_offer_reads_per_minute: int = 10
    # The /sale/products bucket past its first calls answers in 3.6-20 s (#10440), scaled down here.
    products_burst: int = 2
    products_delay_scale: float = 0.01
    # Share of product-offer writes answered 202, and of those operations that fail (#11011).
    async_offer_share: float = 0.3
    offer_operation_failure_rate: float = 0.3
    # ---- issue 15 (after the sale): labels, refunds and returns, under the same faults ----
    # A step every ~10 s: a paid order the shop has gets a label (READY_FOR_SHIPMENT), a refund (one item,
    # or 5 PLN of a one-item line) or a return of one item, or a return on its way reaches the shop.
    after_sale_per_second: float = 0.1
    after_sale_resend_share: float = 0.3  # the shop sends the same label or refund request twice
