"""`/sale/offer-bulk-modification-commands` (beta): price and stock of up to 25 offers, each its own value.

Unlike the quantity and price commands (one modification for up to 1000 offers), each of the up to 25
`modifications` names one offer and either its `stock` (FIXED > 0 or GAIN) or its `prices` per marketplace
(FIXED, GAIN or PERCENTAGE), never both in one element (INVALID_SINGLE_ELEMENT_IN_MODIFICATION; the spec:
"within the same offer but in a separate modification unit"); the same kind twice for one offer is refused.
The command id is the client's UUID in the body (a reused one answers 409). It runs asynchronously like the
other commands (#6260): one task per modification, its subject the offer and the field ("stock"/"prices").
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market import commands, common, marketplaces
from allegro_sync.emulator.market.common import (
    BASE_MARKETPLACE,
    BETA_MEDIA_TYPE,
    CURRENCY,
    Reject,
    obj,
    parse_decimal,
)
from allegro_sync.emulator.market.common import money as money_str
from allegro_sync.emulator.market.offers import set_price, set_stock
from allegro_sync.emulator.market.state import Command, Offer
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

KIND = "bulk"
MAX_MODIFICATIONS = 25
BETA = {"Content-Type": BETA_MEDIA_TYPE}


def _bad(message: str, path: str, code: str = "VALIDATION_ERROR", status: int = 400) -> Reject:
    return Reject.one(status, code, message, path=path)


def _check(index: int, element: dict[str, Any]) -> str:
    """The element's field ("stock" or "prices"), or a 400/422 naming what is wrong."""
    path = f"modifications[{index}]"
    offer_id = element.get("offerId")
    if not isinstance(offer_id, str) or not 1 <= len(offer_id) <= 20:
        raise _bad("offerId is required (1..20 characters)", f"{path}.offerId", status=422)
    has = [k for k in ("stock", "prices") if element.get(k) is not None]
    if len(has) != 1:
        raise _bad(
            "Enter exactly one element: 'stock' or 'prices'.", path, "INVALID_SINGLE_ELEMENT_IN_MODIFICATION"
        )
    if has[0] == "stock":
        stock = obj(element["stock"])
        value = stock.get("value")
        if (
            stock.get("changeType") not in ("FIXED", "GAIN")
            or not isinstance(value, int)
            or isinstance(value, bool)
        ):
            raise _bad(
                "stock needs changeType FIXED or GAIN and an integer value", f"{path}.stock", status=422
            )
        if stock["changeType"] == "FIXED" and value < 1:
            raise _bad(
                "A FIXED stock must be > 0; end the offer instead",
                f"{path}.stock.value",
                "INCORRECT_QUANTITY_VALUE",
                422,
            )
        return "stock"
    prices = obj(element["prices"])
    if not 1 <= len(prices) <= 10:
        raise _bad("prices takes 1 to 10 marketplaces", f"{path}.prices", status=422)
    for marketplace, raw in prices.items():
        change = obj(raw)
        kind = change.get("changeType")
        number = (
            parse_decimal(str(change.get("percentage", "")).rstrip("%"))
            if kind == "PERCENTAGE"
            else parse_decimal(obj(change.get("value")).get("amount"))
        )
        if kind not in ("FIXED", "GAIN", "PERCENTAGE") or number is None:
            raise _bad(
                "a price change needs changeType and its value", f"{path}.prices.{marketplace}", status=422
            )
    return "prices"


def post_command(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    body = common.body_object(request)
    command_id = body.get("commandId")
    if not isinstance(command_id, str) or not common.is_uuid(command_id):
        raise _bad("commandId must be a UUID", "commandId", status=422)
    elements = [obj(m) for m in common.seq(body.get("modifications"))]
    if not 1 <= len(elements) <= MAX_MODIFICATIONS:
        raise _bad(f"modifications takes 1 to {MAX_MODIFICATIONS} elements", "modifications", status=422)
    fields = [_check(i, e) for i, e in enumerate(elements)]
    seen = [(e["offerId"], f) for e, f in zip(elements, fields, strict=True)]
    if len(set(seen)) != len(seen):
        raise _bad("The same modification twice for one offer", "modifications", "DUPLICATED_MODIFICATION")
    if (KIND, command_id) in st.commands:
        raise Reject.one(409, "COMMAND_ALREADY_EXISTS", f"Command {command_id} already exists")
    command = Command(KIND, command_id, request.seller_id, st.now(), [o for o, _ in seen], {"m": elements})
    st.commands[(KIND, command_id)] = command
    seller_id = request.seller_id

    def run() -> None:
        tasks = []
        for element, field in zip(elements, fields, strict=True):
            offer = st.offers.get(element["offerId"])
            outcome: tuple[str, str] | None
            if offer is None or offer.archived(st.now()) or offer.seller_id != seller_id:
                outcome = ("OFFER_NOT_FOUND", "The offer does not exist.")
            elif field == "stock":
                outcome = _stock(st, offer, obj(element["stock"]))
            else:
                outcome = _prices(st, offer, obj(element["prices"]))
            tasks.append(
                {
                    "subject": {"offerId": element["offerId"], "field": field},
                    "status": "SUCCESS" if outcome is None else "FAIL",
                    "message": "" if outcome is None else outcome[1],
                    "errors": [] if outcome is None else [common.error_item(*outcome)],
                }
            )
        command.tasks = tasks
        command.completed_at = st.now()

    st.schedule(st.faults.command_delay_seconds, run)
    return common.ok(commands.report(command), 201, BETA)


def _stock(st: MarketState, offer: Offer, change: dict[str, Any]) -> tuple[str, str] | None:
    target = change["value"] if change["changeType"] == "FIXED" else offer.stock + change["value"]
    if target < 1:
        return ("INCORRECT_QUANTITY_VALUE", f"The resulting quantity {target} is below 1")
    set_stock(st, offer, target)
    return None


def _prices(st: MarketState, offer: Offer, prices: dict[str, Any]) -> tuple[str, str] | None:
    """Every marketplace's new price checked first, then all set: an element changes all or nothing."""
    targets: dict[str, Decimal] = {}
    for marketplace, raw in prices.items():
        target = _target(offer, marketplace, obj(raw))
        if isinstance(target, tuple):
            return target
        money = marketplaces.currency(marketplace)
        if st.faults.whole_czk and money in marketplaces.WHOLE_UNITS and target != target.to_integral_value():
            return ("InvalidPricePrecision", "prices.price.amount.invalidPrecision")  # #7323, #8661
        if target < Decimal("1.00"):
            return ("INCORRECT_PRICE_VALUE", f"The resulting price {money_str(target)} is below 1.00 {money}")
        targets[marketplace] = target
    for marketplace, target in targets.items():
        if marketplace == BASE_MARKETPLACE:
            set_price(st, offer, target)
        elif offer.markets.get(marketplace) != target:
            offer.markets[marketplace] = target  # as a PATCH of additionalMarketplaces would
            offer.updated_at = st.now()
    return None


def _target(offer: Offer, marketplace: str, change: dict[str, Any]) -> Decimal | tuple[str, str]:
    """The price a change gives on `marketplace`, or the task's error."""
    if marketplace not in marketplaces.MARKETPLACES:
        return ("MARKETPLACE_NOT_AVAILABLE", f"Marketplace {marketplace} is not supported")
    money = marketplaces.currency(marketplace)
    current = offer.price if marketplace == BASE_MARKETPLACE else offer.markets.get(marketplace)
    if change["changeType"] != "FIXED" and current is None:
        return ("MARKETPLACE_NOT_AVAILABLE", f"The offer has no price on {marketplace} to change")
    if change["changeType"] == "PERCENTAGE":
        assert current is not None
        return Decimal(money_str(current * (1 + Decimal(str(change["percentage"]).rstrip("%")) / 100)))
    value = obj(change.get("value"))
    if value.get("currency", CURRENCY if money == CURRENCY else None) != money:
        return ("INVALID_CURRENCY", f"Prices on {marketplace} are in {money}")
    amount = Decimal(str(value["amount"]))
    return amount if change["changeType"] == "FIXED" else (current or Decimal(0)) + amount


def get_report(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    return common.ok(commands.report(commands.find(st, KIND, command_id, request.seller_id)))


def get_tasks(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
    assert request.seller_id is not None
    command = commands.find(st, KIND, command_id, request.seller_id)
    limit = common.int_arg(request, "limit", 100, 1, 1000)
    offset = common.int_arg(request, "offset", 0, 0, 999)
    return common.ok({"tasks": (command.tasks or [])[offset : offset + limit]})
