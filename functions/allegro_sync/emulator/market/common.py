"""Small shared helpers: Allegro's time and money formats, error envelopes, query parsing, ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from random import Random
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import EventRecord

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
BASE_MARKETPLACE = "allegro-pl"
CURRENCY = "PLN"
CENT = Decimal("0.01")


def iso(moment: datetime) -> str:
    """Allegro's timestamps: UTC, milliseconds, `Z` suffix (e.g. 2019-06-26T15:26:43.891Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def money(amount: Decimal) -> str:
    """Prices travel as strings with two decimals so no float rounding creeps in."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def parse_decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def price(amount: Decimal, currency: str = CURRENCY) -> dict[str, str]:
    return {"amount": money(amount), "currency": currency}


def new_uuid(rng: Random) -> str:
    """UUIDs drawn from the marketplace's seeded RNG, so a seeded run is reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def error_item(
    code: str,
    message: str,
    *,
    path: str | None = None,
    metadata: dict[str, str] | None = None,
    user_message: str | None = None,
) -> dict[str, Any]:
    """One entry of Allegro's error list (the same shape as `allegro_error` builds)."""
    return {
        "code": code,
        "message": message,
        "details": None,
        "path": path,
        "userMessage": user_message or message,
        "metadata": metadata or {},
    }


class Reject(Exception):
    """Raised deep inside a handler to answer with an error envelope and change nothing."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else str(status))
        self.status = status
        self.errors = errors

    @classmethod
    def one(
        cls,
        status: int,
        code: str,
        message: str,
        *,
        path: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Reject:
        return cls(status, [error_item(code, message, path=path, metadata=metadata)])

    def response(self) -> EmulatorResponse:
        return EmulatorResponse(self.status, {"errors": self.errors}, {"Content-Type": MEDIA_TYPE})


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> EmulatorResponse:
    return EmulatorResponse(status, body, {"Content-Type": MEDIA_TYPE, **(headers or {})})


BETA_MEDIA_TYPE = "application/vnd.allegro.beta.v1+json"  # operations the spec serves only in beta


def beta_ok(body: Any, status: int = 200) -> EmulatorResponse:
    """A beta operation's answer (customer returns, post-purchase issues): its media type, not JSON's."""
    response = ok(body, status)
    response.headers["Content-Type"] = BETA_MEDIA_TYPE
    return response


def beta_rejected(rejected: Reject) -> EmulatorResponse:
    """A beta operation's refusal, in the beta media type too."""
    response = rejected.response()
    response.headers["Content-Type"] = BETA_MEDIA_TYPE
    return response


def not_found(what: str, ident: str) -> Reject:
    return Reject.one(404, "NOT_FOUND", f"{what} {ident} not found")


def int_arg(request: EmulatorRequest, name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query parameter; anything else is a 422 naming the parameter."""
    raw = request.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Reject.one(422, "VALIDATION_ERROR", f"{name} must be an integer", path=name) from None
    if not low <= value <= high:
        raise Reject.one(
            422, "VALIDATION_ERROR", f"{name} must be between {low} and {high}", path=name
        ) from None
    return value


def events_page(request: EmulatorRequest, visible: Iterable[EventRecord]) -> list[EventRecord]:
    """Both event feeds' paging: events after `from` (an event id), of the asked `type`s, `limit` at most."""
    limit = int_arg(request, "limit", 100, 1, 1000)
    types = set(request.query.get("type", []))
    after = request.arg("from")
    if after is not None and not after.isdigit():
        raise Reject.one(422, "VALIDATION_ERROR", "from must be an event id", path="from")
    return [
        e for e in visible if (after is None or int(e.id) > int(after)) and (not types or e.type in types)
    ][:limit]


def time_arg(request: EmulatorRequest, name: str) -> datetime | None:
    raw = request.arg(name)
    if raw is None:
        return None
    moment = parse_time(raw)
    if moment is None:
        raise Reject.one(422, "VALIDATION_ERROR", f"{name} must be an ISO 8601 date-time", path=name)
    return moment


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else {}: a wrong type then reads as "missing", never as a crash."""
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def body_object(request: EmulatorRequest) -> dict[str, Any]:
    if not isinstance(request.body, dict):
        raise Reject.one(400, "VALIDATION_ERROR", "The request body must be a JSON object")
    return request.body


def offer_criteria_ids(body: dict[str, Any], *, maximum: int = 1000) -> list[str]:
    """Offer ids of a batch command (`CONTAINS_OFFERS` criteria), de-duplicated, 1..`maximum`."""
    criteria = body.get("offerCriteria")
    if not isinstance(criteria, list) or not criteria:
        raise Reject.one(422, "VALIDATION_ERROR", "offerCriteria must not be empty", path="offerCriteria")
    ids: list[str] = []
    for index, criterion in enumerate(criteria):
        if not isinstance(criterion, dict) or criterion.get("type", "CONTAINS_OFFERS") != "CONTAINS_OFFERS":
            raise Reject.one(
                422,
                "VALIDATION_ERROR",
                "Only CONTAINS_OFFERS criteria are supported",
                path=f"offerCriteria[{index}].type",
            )
        for offer in seq(criterion.get("offers")):
            offer_id = offer.get("id") if isinstance(offer, dict) else None
            if not isinstance(offer_id, str) or not offer_id:
                raise Reject.one(
                    422, "VALIDATION_ERROR", "Every offer needs an id", path=f"offerCriteria[{index}].offers"
                )
            if offer_id not in ids:
                ids.append(offer_id)
    if not ids:
        raise Reject.one(422, "VALIDATION_ERROR", "No offers given", path="offerCriteria")
    if len(ids) > maximum:
        raise Reject.one(
            422,
            "VALIDATION_ERROR",
            f"A command may change at most {maximum} offers, got {len(ids)}",
            path="offerCriteria",
        )
    return ids
