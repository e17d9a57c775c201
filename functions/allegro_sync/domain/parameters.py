"""Category mapping: which Allegro category a shop product goes to, and its offer `parameters`.

Allegro describes every category's parameters (GET /sale/categories/{id}/parameters): dictionary, integer,
float or string, required or not (or required only if other parameters have certain values, `requiredIf`),
with restrictions (min/max, range, precision, lengths, multiple choices) and a unit. A shop only has free-text
attributes ("Kolor: Czarny", "Waga: 1,5 kg"). This module turns the latter into the former, pure and
explainable: every value it could not use becomes a `ParameterProblem`, and every required parameter without
a value is listed by name, so a product's status can say "missing: Marka, Kolor" instead of relaying a 422.

Offer parameters (spec: ParameterProductOfferRequest): `{id, values[], valuesIds[], rangeValue{from, to}}`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from allegro_sync.contracts.catalog import CategoryMapping, ParameterMapping
from allegro_sync.contracts.offer_content import OfferParameter, RangeValue
from allegro_sync.domain.frozen import FrozenModel

# --- Allegro's category parameter definitions (the subset that drives mapping) -------------------------


class _Api(BaseModel):
    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )


class DictionaryValue(_Api):
    id: str
    value: str
    depends_on_value_ids: list[str] = []


class ParameterRestrictions(_Api):
    multiple_choices: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    range: bool = False
    precision: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    allowed_number_of_values: int | None = None


class ParameterOptions(_Api):
    ambiguous_value_id: str | None = None
    custom_values_enabled: bool = False
    depends_on_parameter_id: str | None = None


class ParameterCondition(_Api):
    id: str
    one_of_value_ids: list[str] = []


class RequiredIf(_Api):
    parameters_with_value: list[ParameterCondition] = []
    parameters_without_value: list[ParameterCondition] = []


class CategoryParameter(_Api):
    """One entry of `parameters` from GET /sale/categories/{id}/parameters."""

    id: str
    name: str
    type: Literal["dictionary", "integer", "float", "string"]
    required: bool = False
    required_if: RequiredIf | None = None
    unit: str | None = None
    restrictions: ParameterRestrictions = ParameterRestrictions()
    dictionary: list[DictionaryValue] = []
    options: ParameterOptions = ParameterOptions()


def parse_category_parameters(body: Mapping[str, Any]) -> list[CategoryParameter]:
    """The `parameters` list of a GET /sale/categories/{id}/parameters response body."""
    return [CategoryParameter.model_validate(p) for p in body.get("parameters", [])]


# --- the seller's mapping ------------------------------------------------------------------------------


class AmbiguousMapping(ValueError):
    """Two approved mappings claim the same shop category path: the seller must pick one."""


def _path_key(segment: str) -> str:
    return " ".join(unicodedata.normalize("NFC", segment).casefold().split())


def choose_category(
    shop_category_path: Sequence[str], mappings: Sequence[CategoryMapping]
) -> CategoryMapping | None:
    """The approved mapping whose `shop_path` is the longest prefix of the product's path (None: unmapped).

    Path segments compare case- and whitespace-insensitively ("Dom i Ogród" == "dom i  ogród").
    """
    path = [_path_key(s) for s in shop_category_path]
    best: CategoryMapping | None = None
    for mapping in mappings:
        if not mapping.approved:
            continue
        prefix = [_path_key(s) for s in mapping.shop_path]
        if prefix != path[: len(prefix)]:
            continue
        if best is None or len(prefix) > len(best.shop_path):
            best = mapping
        elif len(prefix) == len(best.shop_path) and mapping.allegro_category_id != best.allegro_category_id:
            raise AmbiguousMapping(
                f"shop category {' > '.join(mapping.shop_path)!r} is mapped to Allegro categories "
                f"{best.allegro_category_id} and {mapping.allegro_category_id}"
            )
    return best


# --- results -------------------------------------------------------------------------------------------


class MissingParameter(FrozenModel):
    id: str
    name: str


class ParameterProblem(FrozenModel):
    parameter_id: str
    parameter_name: str
    value: str
    message: str


class ParameterResult(FrozenModel):
    parameters: list[OfferParameter]
    missing_required: list[MissingParameter]
    problems: list[ParameterProblem]

    @property
    def missing_summary(self) -> str:
        """e.g. "missing: Marka, Kolor" ("" when nothing is missing)."""
        return "missing: " + ", ".join(m.name for m in self.missing_required) if self.missing_required else ""

    def offer_parameters(self) -> list[dict[str, Any]]:
        return [p.model_dump(by_alias=True, exclude_none=True) for p in self.parameters]


# --- value matching ------------------------------------------------------------------------------------

_FOLD_EXTRA = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "đ": "d", "ß": "ss"})


def fold(text: str) -> str:
    """Case- and diacritics-insensitive key: "Żółty " == "zolty", "Biało-czarny" == "bialo czarny"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\s\-_/]+", " ", bare).split())


# Units a shop may write, by the dimension they measure, with their factor to the dimension's base unit.
_UNITS_BY_DIMENSION: dict[str, dict[str, str]] = {
    "mass": {"mg": "0.001", "g": "1", "dag": "10", "kg": "1000", "t": "1000000"},
    "length": {"mm": "0.001", "cm": "0.01", "dm": "0.1", "m": "1", "km": "1000"},
    "volume": {"ml": "0.001", "cl": "0.01", "dl": "0.1", "l": "1"},
    "power": {"w": "1", "kw": "1000"},
    "charge": {"mah": "1", "ah": "1000"},
    "data": {"mb": "1", "gb": "1024", "tb": "1048576"},
    "voltage": {"v": "1"},
    "frequency": {"hz": "1", "khz": "1000", "mhz": "1000000"},
    "count": {"szt": "1", "szt.": "1", "pcs": "1"},
    "inch": {'"': "1", "cal": "1", "cali": "1"},
}
_UNITS: dict[str, tuple[str, Decimal]] = {
    unit: (dimension, Decimal(factor))
    for dimension, units in _UNITS_BY_DIMENSION.items()
    for unit, factor in units.items()
}
_NUMBER = r"[-+]?\d[\d\s\u00a0]*(?:[.,]\d+)?"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[^\d\s]*)\s*$")
_RANGE = re.compile(
    rf"^\s*(?:od\s+)?(?P<a>{_NUMBER})\s*(?P<ua>[^\d\s\-–]*)\s*(?:-|–|do|to|\.\.)\s*"
    rf"(?P<b>{_NUMBER})\s*(?P<ub>[^\d\s]*)\s*$",
    re.IGNORECASE,
)


class ParameterValueError(ValueError):
    """A shop value that cannot become this parameter's value; the message is for the seller."""


def _to_decimal(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0]", "", text).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regexes only let numbers through
        raise ParameterValueError(f"{text!r} is not a number") from exc


def _convert(number: Decimal, unit: str, target: str | None) -> Decimal:
    """`number unit` expressed in the parameter's unit (no unit given: already in it)."""
    unit = unit.casefold().strip()
    if not unit or target is None or unit == target.casefold():
        return number
    source = _UNITS.get(unit)
    dest = _UNITS.get(target.casefold())
    if source is None or dest is None or source[0] != dest[0]:
        raise ParameterValueError(f"unit {unit!r} cannot be converted to {target!r}")
    return number * source[1] / dest[1]


def parse_quantity(text: str, unit: str | None) -> Decimal:
    """ "1,5 kg" -> Decimal in the parameter's `unit` ("1,5 kg" with unit g -> 1500)."""
    match = _QUANTITY.match(text)
    if not match:
        raise ParameterValueError(f"{text!r} is not a number{f' in {unit}' if unit else ''}")
    return _convert(_to_decimal(match["num"]), match["unit"], unit)


def parse_range(text: str, unit: str | None) -> tuple[Decimal, Decimal]:
    """ "10-20 cm", "od 10 do 20", "5–8 kg" -> (from, to); a single value is a range of one point."""
    match = _RANGE.match(text)
    if not match:
        value = parse_quantity(text, unit)
        return value, value
    unit_b = match["ub"]
    low = _convert(_to_decimal(match["a"]), match["ua"] or unit_b, unit)
    high = _convert(_to_decimal(match["b"]), unit_b, unit)
    if low > high:
        raise ParameterValueError(f"range {text!r} goes from high to low")
    return low, high


def _format_number(number: Decimal, kind: str, precision: int | None) -> str:
    if kind == "integer":
        if number != number.to_integral_value():
            raise ParameterValueError(f"{number} is not a whole number")
        return str(int(number))
    if precision is not None:
        quantum = Decimal(1).scaleb(-precision)
        if number != number.quantize(quantum, rounding=ROUND_HALF_UP):
            raise ParameterValueError(f"{number} has more than {precision} decimal places")
    return format(number.normalize(), "f")


def _check_bounds(number: Decimal, restrictions: ParameterRestrictions, unit: str | None) -> None:
    suffix = f" {unit}" if unit else ""
    if restrictions.min is not None and number < restrictions.min:
        raise ParameterValueError(f"{number}{suffix} is below the minimum {restrictions.min}{suffix}")
    if restrictions.max is not None and number > restrictions.max:
        raise ParameterValueError(f"{number}{suffix} is above the maximum {restrictions.max}{suffix}")


def _split_values(text: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;,|/]", text) if v.strip()]


def _dictionary_value(parameter: CategoryParameter, raw: str, value_map: Mapping[str, str]) -> OfferParameter:
    by_id = {d.id: d for d in parameter.dictionary}
    by_name = {fold(d.value): d for d in parameter.dictionary}
    mapped_map = {fold(k): v for k, v in value_map.items()}
    whole = raw.strip()
    target = mapped_map.get(fold(whole), whole)
    # A value that itself contains a separator ("USB/Lightning") is one value, not two.
    is_one = target in by_id or fold(target) in by_name
    split = _split_values(raw) if parameter.restrictions.multiple_choices and not is_one else []
    candidates = split or [whole]
    ids: list[str] = []
    for candidate in candidates:
        target = mapped_map.get(fold(candidate), candidate)
        entry = by_id.get(target) or by_name.get(fold(target))
        if entry is None:
            ambiguous = parameter.options.ambiguous_value_id
            if ambiguous and parameter.options.custom_values_enabled and len(candidates) == 1:
                return OfferParameter(id=parameter.id, values_ids=[ambiguous], values=[candidate])
            close = difflib.get_close_matches(fold(target), list(by_name), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(by_name[c].value for c in close)}?" if close else ""
            raise ParameterValueError(f"{candidate!r} is not one of the allowed values{hint}")
        if entry.id not in ids:
            ids.append(entry.id)
    return OfferParameter(id=parameter.id, values_ids=ids)


def _string_value(parameter: CategoryParameter, raw: str) -> OfferParameter:
    limits = parameter.restrictions
    allowed = limits.allowed_number_of_values or 1
    values = _split_values(raw) if allowed > 1 else [" ".join(raw.split())]
    values = list(dict.fromkeys(v for v in values if v))
    if not values:
        raise ParameterValueError("the value is empty")
    if len(values) > allowed:
        raise ParameterValueError(f"{len(values)} values given, at most {allowed} allowed")
    for value in values:
        if limits.max_length is not None and len(value) > limits.max_length:
            raise ParameterValueError(f"{value!r} is longer than {limits.max_length} characters")
        if limits.min_length is not None and len(value) < limits.min_length:
            raise ParameterValueError(f"{value!r} is shorter than {limits.min_length} characters")
    return OfferParameter(id=parameter.id, values=values)


def _numeric_value(parameter: CategoryParameter, raw: str) -> OfferParameter:
    limits = parameter.restrictions
    if limits.range:
        low, high = parse_range(raw, parameter.unit)
        for end in (low, high):
            _check_bounds(end, limits, parameter.unit)
        return OfferParameter(
            id=parameter.id,
            range_value=RangeValue(
                from_=_format_number(low, parameter.type, limits.precision),
                to=_format_number(high, parameter.type, limits.precision),
            ),
        )
    number = parse_quantity(raw, parameter.unit)
    _check_bounds(number, limits, parameter.unit)
    return OfferParameter(id=parameter.id, values=[_format_number(number, parameter.type, limits.precision)])


def parameter_value(
    parameter: CategoryParameter, raw: str, value_map: Mapping[str, str] | None = None
) -> OfferParameter:
    """One shop value as an offer parameter; raises ParameterValueError with a seller-readable reason."""
    if parameter.type == "dictionary":
        return _dictionary_value(parameter, raw, value_map or {})
    if parameter.type == "string":
        return _string_value(parameter, raw)
    return _numeric_value(parameter, raw)


def _is_required(parameter: CategoryParameter, chosen: Mapping[str, OfferParameter]) -> bool:
    if not parameter.required:
        return False
    condition = parameter.required_if
    if condition is None:
        return True
    for with_value in condition.parameters_with_value:
        other = chosen.get(with_value.id)
        if other is None or not set(other.values_ids or ()) & set(with_value.one_of_value_ids):
            return False
    return all(without.id not in chosen for without in condition.parameters_without_value)


def map_parameters(
    definitions: Sequence[CategoryParameter],
    attributes: Mapping[str, str],
    mappings: Sequence[ParameterMapping] = (),
) -> ParameterResult:
    """The offer's `parameters` for a product, the required ones still missing, and what could not be used.

    Sources, first match wins: the explicit mapping (constant, or shop attribute through its value map),
    then a shop attribute with the parameter's own name (case/diacritics-insensitive: "kolor" -> "Kolor").
    """
    by_attribute = {fold(k): v for k, v in attributes.items() if v and v.strip()}
    explicit = {m.parameter_id: m for m in mappings}
    known = {p.id for p in definitions}
    chosen: dict[str, OfferParameter] = {}
    attributes_used: dict[str, str] = {}
    problems: list[ParameterProblem] = []
    for unknown in mappings:
        if unknown.parameter_id not in known:
            problems.append(
                ParameterProblem(
                    parameter_id=unknown.parameter_id,
                    parameter_name="?",
                    value="",
                    message="the mapping names a parameter this category does not have",
                )
            )
    for parameter in definitions:
        mapping = explicit.get(parameter.id)
        raw: str | None = None
        value_map: Mapping[str, str] = {}
        if mapping is not None:
            value_map = mapping.value_map
            if mapping.constant is not None:
                raw = mapping.constant
            elif mapping.shop_attribute is not None:
                raw = by_attribute.get(fold(mapping.shop_attribute))
        if raw is None:
            raw = by_attribute.get(fold(parameter.name))
        if raw is None:
            continue
        try:
            chosen[parameter.id] = parameter_value(parameter, raw, value_map)
            attributes_used[parameter.id] = raw
        except ParameterValueError as exc:
            problems.append(
                ParameterProblem(
                    parameter_id=parameter.id, parameter_name=parameter.name, value=raw, message=str(exc)
                )
            )
    problems.extend(_drop_unmet_dependencies(definitions, chosen, attributes_used))
    missing = [
        MissingParameter(id=p.id, name=p.name)
        for p in definitions
        if p.id not in chosen and _is_required(p, chosen)
    ]
    ordered = [chosen[p.id] for p in definitions if p.id in chosen]
    return ParameterResult(parameters=ordered, missing_required=missing, problems=problems)


def _drop_unmet_dependencies(
    definitions: Sequence[CategoryParameter], chosen: dict[str, OfferParameter], raw_values: Mapping[str, str]
) -> list[ParameterProblem]:
    """A dictionary value with `dependsOnValueIds` may only be set together with one of those values of the
    parameter named by `options.dependsOnParameterId` (e.g. a Model that belongs to one Marka); Allegro
    rejects the offer otherwise, so such a value is not sent and the seller is told why."""
    problems: list[ParameterProblem] = []
    for parameter in definitions:
        other_id = parameter.options.depends_on_parameter_id
        own = chosen.get(parameter.id)
        if other_id is None or own is None or not own.values_ids:
            continue
        other = chosen.get(other_id)
        other_ids = set(other.values_ids or ()) if other is not None else set()
        by_id = {d.id: d for d in parameter.dictionary}
        unmet = [
            by_id[v].value
            for v in own.values_ids
            if v in by_id
            and by_id[v].depends_on_value_ids
            and not other_ids & set(by_id[v].depends_on_value_ids)
        ]
        if unmet:
            del chosen[parameter.id]
            other_name = next((d.name for d in definitions if d.id == other_id), other_id)
            problems.append(
                ParameterProblem(
                    parameter_id=parameter.id,
                    parameter_name=parameter.name,
                    value=raw_values.get(parameter.id, ""),
                    message=f"{', '.join(unmet)} does not go with the chosen {other_name}",
                )
            )
    return problems
