"""Orders in, exactly once: the poller and the gap scan (`polling`), its tick chain (`ticks`), the import
(`importer`), written against the ports in `ports`."""

from allegro_sync.services.orders.importer import ImportResult, OrderImporter
from allegro_sync.services.orders.polling import (
    AccountPoll,
    AccountScan,
    GapScanner,
    OrderPoller,
    PollReport,
    PollSettings,
    allegro_time,
    parse_time,
)
from allegro_sync.services.orders.ports import (
    EVENTS_PAGE,
    CheckoutFormsApi,
    CursorStore,
    OfferLinks,
    OrderEventsApi,
    OrderQueue,
    OrderRepository,
    PollChainStore,
    ShopOutbox,
    StockChangeHook,
    StockPort,
    TickQueue,
)
from allegro_sync.services.orders.ticks import PollChain, TickReport

__all__ = [
    "EVENTS_PAGE",
    "AccountPoll",
    "AccountScan",
    "CheckoutFormsApi",
    "CursorStore",
    "GapScanner",
    "ImportResult",
    "OfferLinks",
    "OrderEventsApi",
    "OrderImporter",
    "OrderPoller",
    "OrderQueue",
    "OrderRepository",
    "PollChain",
    "PollChainStore",
    "PollReport",
    "PollSettings",
    "ShopOutbox",
    "StockChangeHook",
    "StockPort",
    "TickQueue",
    "TickReport",
    "allegro_time",
    "parse_time",
]
