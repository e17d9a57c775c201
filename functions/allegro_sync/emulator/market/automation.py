"""Price automation: Allegro's own rules that follow the competition inside a seller's price range.

The API never reveals rival prices (#11890); a seller assigns a rule (FOLLOW_BY_ALLEGRO_MIN_PRICE,
FOLLOW_BY_MARKET_MIN_PRICE, FOLLOW_BY_TOP_OFFER_PRICE, EXCHANGE_RATE - the four default rules every
seller has) with a min/max range. The emulator has no competitors, so a rule only keeps the offer's
price inside its range: a price outside the range moves to the nearest bound when the rule is set.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market.campaigns import active_campaign
from allegro_sync.emulator.market.commands import Outcome, get_report, get_tasks, start
from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    CURRENCY,
    Reject,
    body_object,
    iso,
    new_uuid,
    obj,
    ok,
    parse_decimal,
    seq,
)
from allegro_sync.emulator.market.offers import own_offer, set_price
from allegro_sync.emulator.market.state import Offer
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

DEFAULT_RULES = (
    ("FOLLOW_BY_ALLEGRO_MIN_PRICE", "Najniższa cena na Allegro"),
    ("FOLLOW_BY_MARKET_MIN_PRICE", "Najniższa cena rynkowa"),
    ("FOLLOW_BY_TOP_OFFER_PRICE", "Cena oferty na szczycie"),
    ("EXCHANGE_RATE", "Kurs waluty"),
)
CUSTOM_TYPES = ("FOLLOW_BY_ALLEGRO_MIN_PRICE", "FOLLOW_BY_MARKET_MIN_PRICE", "FOLLOW_BY_TOP_OFFER_PRICE")
KIND = "automation"


def _rule_id(st: MarketState) -> str:
    return f"{st.rng.getrandbits(96):024x}"


def seller_rules(st: MarketState, seller_id: str) -> dict[str, dict[str, Any]]:
    """The seller's rules, the four defaults created on first use."""
    rules = st.rules.get(seller_id)
    if rules is None:
        rules = {}
        for kind, name in DEFAULT_RULES:
            rule_id = _rule_id(st)
            rules[rule_id] = {
                "id": rule_id,
                "type": kind,
                "name": name,
                "default": True,
                "updatedAt": iso(st.now()),
            }
        st.rules[seller_id] = rules
    return rules


def list_rules(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    return ok({"rules": [dict(r) for r in seller_rules(st, request.seller_id).values()]})


def get_rule(st: MarketState, request: EmulatorRequest, rule_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    rule = seller_rules(st, request.seller_id).get(rule_id)
    if rule is None:
        raise Reject.one(404, "NOT_FOUND", f"Rule {rule_id} not found")
    return ok(dict(rule))


def _check_configuration(configuration: Any) -> None:
    if not isinstance(configuration, dict) or len(configuration) != 1:
        raise Reject.one(
            422,
            "VALIDATION_ERROR",
            "configuration needs changeByAmount or changeByPercentage",
            path="configuration",
        )
    ((key, value),) = configuration.items()
    if key not in ("changeByAmount", "changeByPercentage") or not isinstance(value, dict):
        raise Reject.one(422, "VALIDATION_ERROR", f"Unknown configuration {key}", path="configuration")
    if value.get("operation") not in ("ADD", "SUBTRACT"):
        raise Reject.one(
            422, "VALIDATION_ERROR", "operation must be ADD or SUBTRACT", path=f"configuration.{key}"
        )
    amounts = (
        [v.get("amount") for v in value.get("values", [])]
        if key == "changeByAmount"
        else [value.get("value")]
    )
    if not amounts or any(parse_decimal(a) is None or Decimal(str(a)) < 0 for a in amounts):
        raise Reject.one(
            422, "VALIDATION_ERROR", "The change must be an amount >= 0", path=f"configuration.{key}"
        )


def create_rule(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    """A custom rule: a FOLLOW_* type with a configuration; names are unique per seller (409)."""
    assert request.seller_id is not None
    body = body_object(request)
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not 1 <= len(name) <= 33:
        raise Reject.one(422, "VALIDATION_ERROR", "name must have 1 to 33 characters", path="name")
    if kind not in CUSTOM_TYPES:
        raise Reject.one(422, "VALIDATION_ERROR", f"A custom rule cannot be of type {kind}", path="type")
    _check_configuration(body.get("configuration"))
    rules = seller_rules(st, request.seller_id)
    if any(r["name"] == name for r in rules.values()):
        raise Reject.one(409, "RULE_NAME_TAKEN", f"A rule named {name!r} already exists")
    rule_id = _rule_id(st)
    rule = {
        "id": rule_id,
        "type": kind,
        "name": name,
        "default": False,
        "updatedAt": iso(st.now()),
        "configuration": body["configuration"],
    }
    rules[rule_id] = rule
    return ok(dict(rule), 201)


def _apply(st: MarketState, offer: Offer, modification: dict[str, Any]) -> Outcome:
    rules = seller_rules(st, offer.seller_id)
    for entry in seq(modification.get("remove")):
        offer.rules.pop(entry["marketplace"]["id"], None)
    for entry in seq(modification.get("set")):
        rule_id = entry["rule"]["id"]
        if rule_id not in rules:
            return ("RULE_NOT_FOUND", f"Rule {rule_id} not found")
        price_range = obj(entry.get("configuration")).get("priceRange")
        assignment = {
            "marketplace": {"id": entry["marketplace"]["id"]},
            "rule": {"id": rule_id},
            "updatedAt": iso(st.now()),
        }
        if price_range is not None:
            low = Decimal(price_range["minPrice"]["amount"])
            high = Decimal(price_range["maxPrice"]["amount"])
            if low > high:
                return ("INVALID_PRICE_RANGE", "minPrice must not exceed maxPrice")
            assignment["configuration"] = {"priceRange": price_range}
            # A campaign owns the price meanwhile: the rule waits until it ends (#9578).
            if entry["marketplace"]["id"] == BASE_MARKETPLACE and not active_campaign(offer):
                set_price(st, offer, min(max(offer.price, low), high))
        offer.rules[entry["marketplace"]["id"]] = assignment
    return None


def _check_modification(modification: Any) -> dict[str, Any]:
    if not isinstance(modification, dict) or not ({"set", "remove"} & modification.keys()):
        raise Reject.one(422, "VALIDATION_ERROR", "modification needs set or remove", path="modification")
    for key in ("set", "remove"):
        for index, entry in enumerate(seq(modification.get(key))):
            path = f"modification.{key}[{index}]"
            marketplace = obj(entry.get("marketplace")).get("id") if isinstance(entry, dict) else None
            if not isinstance(marketplace, str):
                raise Reject.one(422, "VALIDATION_ERROR", "marketplace.id is required", path=path)
            if key == "set" and not isinstance(obj(entry.get("rule")).get("id"), str):
                raise Reject.one(422, "VALIDATION_ERROR", "rule.id is required", path=path)
            price_range = obj(entry.get("configuration")).get("priceRange") if key == "set" else None
            if price_range is not None and not isinstance(price_range, dict):
                raise Reject.one(422, "VALIDATION_ERROR", "priceRange must be an object", path=path)
            if price_range is not None:
                for bound in ("minPrice", "maxPrice"):
                    raw = obj(price_range.get(bound))
                    amount = parse_decimal(raw.get("amount"))
                    if amount is None or amount <= 0 or raw.get("currency", CURRENCY) != CURRENCY:
                        raise Reject.one(
                            422,
                            "VALIDATION_ERROR",
                            f"{bound} must be a positive {CURRENCY} amount",
                            path=path,
                        )
    return modification


def post_command(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    modification = _check_modification(body.get("modification"))
    command_id = body.get("id") or new_uuid(st.rng)
    return start(
        st,
        request,
        body,
        kind=KIND,
        field="priceAutomation",
        command_id=str(command_id),
        modification=modification,
        apply=_apply,
    )


def get_command(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    return get_report(st, request, KIND, command_id)


def get_command_tasks(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    return get_tasks(st, request, KIND, command_id)


def offer_rules(st: MarketState, request: EmulatorRequest, offer_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    offer = own_offer(st, request.seller_id, offer_id)
    assignments = [dict(a) for a in offer.rules.values()]
    updated = max((a["updatedAt"] for a in assignments), default=iso(offer.updated_at))
    return ok({"rules": assignments, "updatedAt": updated})
