"""Items of the `changes` table: every change made on Allegro, with its reason.

Layout: pk="sku#<sku>", sk="<ISO time>#<account>#<random>" — a SKU's history is one Query, newest first.
Items never expire: "who changed this price, and why" has no deadline.
"""

from __future__ import annotations

from allegro_sync.contracts.records.item import Item


class ChangeItem(Item):
    """One change (`contracts.catalog.Change`); `changes` is the JSON of field -> {old, new}."""

    sku: str
    account: str
    offer_id: str
    action: str
    changes: str
    reason: str
    event_id: str = ""
    rule: str = ""
    at: str = ""
