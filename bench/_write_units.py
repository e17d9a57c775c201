"""DynamoDB write units as DynamoDB bills them, from the items before and after each write.

Rules (aws.amazon.com/dynamodb/pricing/on-demand/ and the Developer Guide's "Read/write capacity mode"):
- a write costs 1 unit per started 1 KB of the LARGER of the item before and after it (PutItem,
  UpdateItem, DeleteItem alike; a delete of an absent item still costs 1);
- a write whose condition fails is billed the same way (the item as stored, at least 1 unit);
- every item of a TransactWriteItems costs twice (ConditionCheck included); BatchWriteItem costs as singles.
Item size: the UTF-8 lengths of attribute names plus values (numbers ~1 byte per 2 digits + 1, 3 bytes of
overhead per list or map, 1 byte per element), as in the Developer Guide's "Item sizes and formats".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

KB = 1024
TRANSACTIONAL = 2


def value_size(value: Any) -> int:
    """Bytes of one typed (`{"S": ...}`) or plain Python attribute value."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _TYPED:
        kind, inner = next(iter(value.items()))
        return int(_TYPED[kind](inner))
    return _plain(value)


def _number(value: Any) -> int:
    digits = str(value).lstrip("-").replace(".", "").lstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _plain(value: Any) -> int:
    if value is None or isinstance(value, bool):
        size = 1
    elif isinstance(value, int | float | Decimal):
        size = _number(value)
    elif isinstance(value, str):
        size = len(value.encode())
    elif isinstance(value, bytes | bytearray):
        size = len(value)
    elif isinstance(value, Mapping):
        size = 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    elif isinstance(value, set | frozenset):
        size = sum(value_size(v) for v in value)
    else:
        size = 3 + sum(value_size(v) + 1 for v in value)
    return size


_TYPED: dict[str, Any] = {
    "S": lambda v: len(v.encode()),
    "N": _number,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "M": lambda v: 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in v.items()),
    "L": lambda v: 3 + sum(value_size(x) + 1 for x in v),
    "SS": lambda v: sum(len(x.encode()) for x in v),
    "NS": lambda v: sum(_number(x) for x in v),
    "BS": lambda v: sum(len(x) for x in v),
}


def item_size(item: Mapping[str, Any] | None) -> int:
    """Bytes DynamoDB counts for an item (0: no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, transactional: bool
) -> int:
    """Units one item's write costs: per started KB of the larger image (at least 1); 2x in a transaction."""
    units = max(1, math.ceil(max(item_size(before), item_size(after)) / KB))
    return units * (TRANSACTIONAL if transactional else 1)
