"""Orders between the shop and Allegro: what the shop says about an order it ships (fulfillment back).

The shop reports "order X (our Allegro checkout form id) is now in status S, shipped with these parcels"
either through the generic signed contract (`order.status`) or as a WooCommerce `order.updated` webhook.
Both become one `ShopOrderStatus` (the `fulfillment` message, defined in `contracts.messages`); the
fulfillment use case turns it into Allegro's fulfillment status and shipments. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

from allegro_sync.contracts.fulfillment_status import FulfillmentStatus

# The shop's carrier name (normalised: lower case, letters and digits only) -> Allegro carrier id
# (GET /order/carriers). Anything else goes as OTHER with the shop's name as carrierName.
CARRIER_IDS: dict[str, str] = {
    "inpost": "INPOST",
    "paczkomaty": "INPOST",
    "paczkomatinpost": "INPOST",
    "inpostkurier": "INPOST",
    "dpd": "DPD",
    "dpdpolska": "DPD",
    "dhl": "DHL",
    "dhlparcel": "DHL",
    "dhlexpress": "DHL",
    "pocztapolska": "POCZTA_POLSKA",
    "poczta": "POCZTA_POLSKA",
    "pocztex": "POCZTA_POLSKA",
    "allegro": "ALLEGRO",
    "allegroone": "ALLEGRO",
    "allegrosmart": "ALLEGRO",
}
OTHER_CARRIER = "OTHER"
CARRIER_NAME_MAX = 30  # Allegro's carrierName limit


def _normalise(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", plain)


def allegro_carrier(shop_name: str, known_ids: frozenset[str]) -> tuple[str, str | None]:
    """(carrierId, carrierName) for a shop carrier name; unknown or not offered by Allegro -> OTHER."""
    key = _normalise(shop_name)
    carrier_id = CARRIER_IDS.get(key) or (shop_name.upper() if shop_name.upper() in known_ids else None)
    if carrier_id and carrier_id in known_ids and carrier_id != OTHER_CARRIER:
        return carrier_id, None
    return OTHER_CARRIER, shop_name.strip()[:CARRIER_NAME_MAX]


# WooCommerce order statuses -> Allegro fulfillment. `pending`/`failed` say nothing about fulfillment;
# `refunded` is a money matter handled in Allegro's own refund flow, not a fulfillment status.
WOOCOMMERCE_STATUS: dict[str, FulfillmentStatus] = {
    "processing": "PROCESSING",
    "on-hold": "SUSPENDED",
    "completed": "SENT",
    "cancelled": "CANCELLED",
}


# Where an order is on its way to the buyer; Allegro itself sets SENT (when a tracking number is added and the
# seller enabled it) and RETURNED (spec, CheckoutFormFulfillmentStatus). CANCELLED, SUSPENDED: not steps.
_PROGRESS = {
    "NEW": 0,
    "PROCESSING": 1,
    "READY_FOR_SHIPMENT": 2,
    "READY_FOR_PICKUP": 2,
    "SENT": 3,
    "PICKED_UP": 4,
    "RETURNED": 5,
}


def moves_back(current: str | None, wanted: str) -> bool:
    """Would setting `wanted` undo a later step Allegro (or the seller) already took?"""
    if current is None or current not in _PROGRESS or wanted not in _PROGRESS:
        return current == "RETURNED"
    return _PROGRESS[wanted] < _PROGRESS[current]
