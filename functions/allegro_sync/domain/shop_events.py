"""The `shop-events` message moved to `allegro_sync.contracts.messages`; re-exported for older imports."""

from allegro_sync.contracts.messages import SHOP_EVENT_ADAPTER as SHOP_EVENT_ADAPTER
from allegro_sync.contracts.messages import Money as Money
from allegro_sync.contracts.messages import PriceSet as PriceSet
from allegro_sync.contracts.messages import ProductDelete as ProductDelete
from allegro_sync.contracts.messages import ProductUpsert as ProductUpsert
from allegro_sync.contracts.messages import ShopEvent as ShopEvent
from allegro_sync.contracts.messages import Sku as Sku
from allegro_sync.contracts.messages import StockSet as StockSet
from allegro_sync.contracts.messages import parse_shop_event as parse_shop_event
