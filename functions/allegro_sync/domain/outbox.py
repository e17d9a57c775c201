"""The `stock-changes` and `shop-outbox` messages moved to `allegro_sync.contracts.messages`; re-exported for
older imports."""

from allegro_sync.contracts.messages import OfferQuantity as OfferQuantity
from allegro_sync.contracts.messages import OrderChanged as OrderChanged
from allegro_sync.contracts.messages import OutboxLine as OutboxLine
from allegro_sync.contracts.messages import OutboxMessage as OutboxMessage
from allegro_sync.contracts.messages import StockChanged as StockChanged
from allegro_sync.contracts.messages import parse_outbox_message as parse_outbox_message
from allegro_sync.contracts.messages import stock_message_id as stock_message_id
