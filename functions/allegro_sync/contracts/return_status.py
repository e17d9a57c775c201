"""When a customer return's item counts as back in stock, by the return's status (issue 15, item 3).

Apart from `after_sale.py` (Allegro's return, refund and claim payloads, pydantic models over
`contracts/allegro.py`) because the stock ledger reads these on every sale it books: importing the
payloads there made every function that books stock build Allegro's models at a cold start.
"""

from __future__ import annotations

from typing import Literal

# When a returned item counts as back in stock (the seller's `RETURNS_RESTOCK_ON`): the parcel reached the
# seller (DELIVERED and every later status but a rejection), or the seller finished the return (FINISHED...).
RestockOn = Literal["ARRIVAL", "ACCEPTANCE"]
ARRIVED = frozenset(
    {"DELIVERED", "FINISHED", "FINISHED_APT", "COMMISSION_REFUND_CLAIMED", "COMMISSION_REFUNDED"}
    | {"WAREHOUSE_DELIVERED", "WAREHOUSE_VERIFICATION"}
)
ACCEPTED = frozenset({"FINISHED", "FINISHED_APT", "COMMISSION_REFUND_CLAIMED", "COMMISSION_REFUNDED"})
