"""Orders in, exactly once: the poller and the gap scan (`polling`), the import (`importer`), written
against the ports in `ports`."""

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
    ShopOutbox,
    StockChangeHook,
    StockPort,
)

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
    "PollReport",
    "PollSettings",
    "ShopOutbox",
    "StockChangeHook",
    "StockPort",
    "allegro_time",
    "parse_time",
]
