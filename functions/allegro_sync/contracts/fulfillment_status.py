"""Allegro's fulfillment statuses of a checkout form (`PUT /order/checkout-forms/{id}/fulfillment`).

A module of its own so the queue messages (`messages.ShopOrderStatus`) and the domain name the type without
importing every Allegro payload model in `allegro` (a consumer's cold start); `allegro` re-exports it.
"""

from __future__ import annotations

from typing import Literal

FulfillmentStatus = Literal[
    "NEW",
    "PROCESSING",
    "READY_FOR_SHIPMENT",
    "READY_FOR_PICKUP",
    "SENT",
    "PICKED_UP",
    "CANCELLED",
    "SUSPENDED",
]
