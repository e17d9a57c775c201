"""What every DynamoDB adapter does the same way: get the Table, page through a Query or Scan, convert
attribute values for the low-level client, tell a refused conditional write from a failure, and move a
domain dataclass into its stored model and back.

The stored models (`contracts.records`) name their attributes after the domain's fields, so the mapping is
by name: an adapter spells out only what is stored differently (enums, times, JSON, the key), and a domain
field with no stored counterpart fails loudly instead of silently taking its default.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Domain = TypeVar("Domain", bound=DataclassInstance)
else:
    Domain = TypeVar("Domain")
Stored = TypeVar("Stored", bound=BaseModel)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table(table_name: str, resource: Any = None) -> Any:
    """The boto3 Table (of the default resource unless one is given)."""
    return (resource or boto3.resource("dynamodb")).Table(table_name)


def all_items(read: Callable[..., Mapping[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """Every item a Query or Scan (`table.query`, `client.scan`, ...) returns, page after page."""
    while True:
        page = read(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def condition_failed(error: ClientError) -> bool:
    """True when DynamoDB refused a write because its condition did not hold: a lost race or a gone item,
    an answer to act on, not a failure."""
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def conditional_write(write: Callable[..., Any], **request: Any) -> bool:
    """`write(**request)` (`put_item`, `update_item`, ... with a `ConditionExpression`): True when it was
    made, False when its condition did not hold; any other error is raised."""
    try:
        write(**request)
    except ClientError as error:
        if condition_failed(error):
            return False
        raise
    return True


BATCH_GET_MAX = 100  # keys per BatchGetItem request (DynamoDB's limit)


def batch_get(
    call: Callable[..., Mapping[str, Any]],
    table_name: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Every item of `keys` that exists, 100 keys per BatchGetItem (`client.batch_get_item`, in the
    client's own key format); unprocessed keys are asked again after a short back-off, as AWS advises.
    Sweeps read eventually consistent (half the read units); a caller that decides a write re-reads."""
    for start in range(0, len(keys), BATCH_GET_MAX):
        request: dict[str, Any] = {
            table_name: {"Keys": list(keys[start : start + BATCH_GET_MAX]), "ConsistentRead": consistent}
        }
        for attempt in range(12):
            answer = call(RequestItems=request)
            yield from answer.get("Responses", {}).get(table_name, [])
            request = dict(answer.get("UnprocessedKeys") or {})
            if not request:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError(f"BatchGetItem on {table_name} left keys unprocessed after 12 attempts")


def dump(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values -> the low-level client's typed attribute values (None attributes left out)."""
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def load(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The low-level client's typed attribute values -> plain values."""
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def number(value: float) -> Decimal:
    """Epoch seconds (or any float) kept to the millisecond, as DynamoDB takes numbers."""
    return Decimal(str(round(value, 3)))


def to_stored(model: type[Stored], domain: DataclassInstance, **stored_otherwise: Any) -> Stored:
    """`model` from the domain value's fields of the same names; `stored_otherwise` gives the key and the
    fields whose stored form differs. Nested dataclasses become the model's nested models."""
    fields = {f.name: getattr(domain, f.name) for f in dataclasses.fields(domain)}
    return model.model_validate({**fields, **stored_otherwise}, from_attributes=True)


def from_stored(domain: type[Domain], stored: BaseModel, **stored_otherwise: Any) -> Domain:
    """The domain dataclass from a stored model: each field its attribute of the same name, unless
    `stored_otherwise` gives it (stored differently, or part of the key)."""
    fields = {
        f.name: getattr(stored, f.name)
        for f in dataclasses.fields(domain)
        if f.init and f.name not in stored_otherwise
    }
    return domain(**fields, **stored_otherwise)
