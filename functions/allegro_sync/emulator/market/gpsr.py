"""EU product safety (GPSR): each seller's responsible producers and persons, and their use on offers.

Allegro keeps these per seller (#10212): `GET/POST /sale/responsible-producers`, `GET .../{id}`,
`GET/POST /sale/responsible-persons`. An offer's `productSet[].responsibleProducer` must name one of the
seller's own producers: by NAME, an unknown one answers 422 RESPONSIBLE_PRODUCER_NAME_DOES_NOT_EXIST (#10896);
by ID, another seller's or an unknown id is refused (#10475; the code is not published, so the emulator
answers the generic VALIDATION_ERROR on `productSet[i].responsibleProducer.id`). With the `gpsr_required`
fault, an offer without a producer answers RESPONSIBLE_PRODUCER_NOT_SPECIFIED (#11239) and one without safety
information SAFETY_INFO_NOT_DEFINED (#10772), as in the categories GPSR covers.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market import attachments
from allegro_sync.emulator.market.common import (
    Reject,
    body_object,
    error_item,
    int_arg,
    new_uuid,
    not_found,
    obj,
    ok,
    seq,
)
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

GPSR_KEYS = ("responsibleProducer", "responsiblePerson", "safetyInformation", "marketedBeforeGPSRObligation")
PRODUCERS, PERSONS = "responsibleProducers", "responsiblePersons"
# Where GPSR applies (the `gpsr_required` fault): the field, Allegro's code and message (#11239, #10772).
REQUIRED = (
    (
        "responsibleProducer",
        "RESPONSIBLE_PRODUCER_NOT_SPECIFIED",
        "Responsible producer is required for every product in the offer",
    ),
    ("safetyInformation", "SAFETY_INFO_NOT_DEFINED", "Safety information was not defined for product"),
)


def _json_errors(handler: Callable[..., EmulatorResponse]) -> Callable[..., EmulatorResponse]:
    """These operations declare their errors as `application/json` (the offer ones use Allegro's own type)."""

    @functools.wraps(handler)
    def answer(*args: Any) -> EmulatorResponse:
        try:
            return handler(*args)
        except Reject as rejected:
            return EmulatorResponse(
                rejected.status, {"errors": rejected.errors}, {"Content-Type": "application/json"}
            )

    return answer


def _book(st: MarketState, seller_id: str, kind: str) -> dict[str, dict[str, Any]]:
    return st.gpsr.setdefault((seller_id, kind), {})


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name or len(name) > 50:
        return "name is required and has at most 50 characters"
    if name != name.strip() or "  " in name or any(c.isspace() and c != " " for c in name):
        return "name can't start or end with whitespace, nor contain other whitespace or double spaces"
    return None


def _create(st: MarketState, request: EmulatorRequest, *, kind: str, data_key: str) -> EmulatorResponse:
    assert request.seller_id is not None
    body = body_object(request)
    errors = []
    problem = _name_problem(body.get("name"))
    if problem:
        errors.append(error_item("VALIDATION_ERROR", problem, path="name"))
    data = obj(body.get(data_key))
    contact = obj(data.get("contact"))
    if not contact.get("email") and not contact.get("formUrl"):
        errors.append(
            error_item("VALIDATION_ERROR", "contact needs an email or a formUrl", path=f"{data_key}.contact")
        )
    if errors:
        raise Reject(422, errors)
    entity = {"id": new_uuid(st.rng), "name": body["name"], data_key: copy.deepcopy(data)}
    _book(st, request.seller_id, kind)[entity["id"]] = entity
    return ok(entity, 201 if kind == PRODUCERS else 200)  # spec: producers 201, persons 200


def add(st: MarketState, seller_id: str, kind: str, name: str) -> str:
    """The back door: a producer/person set up in Sales Center (minimal data)."""
    data_key = "producerData" if kind == PRODUCERS else "personalData"
    ident = new_uuid(st.rng)
    entity = {"id": ident, "name": name, data_key: {"contact": {"email": "gpsr@example.com"}}}
    _book(st, seller_id, kind)[ident] = entity
    return ident


def listed(st: MarketState, seller_id: str, kind: str) -> list[dict[str, Any]]:
    return copy.deepcopy(list(_book(st, seller_id, kind).values()))


def _list(st: MarketState, request: EmulatorRequest, *, kind: str) -> EmulatorResponse:
    assert request.seller_id is not None
    everything = list(_book(st, request.seller_id, kind).values())
    offset = int_arg(request, "offset", 0, 0, 50_000)
    limit = int_arg(request, "limit", 1000, 1, 1000)
    page = everything[offset : offset + limit]
    return ok({kind: page, "count": len(page), "totalCount": len(everything)})


def _get(st: MarketState, request: EmulatorRequest, ident: str, *, kind: str) -> EmulatorResponse:
    assert request.seller_id is not None
    found = _book(st, request.seller_id, kind).get(ident)
    if found is None:
        raise not_found("Responsible producer", ident)
    return ok(found)


list_producers = _json_errors(functools.partial(_list, kind=PRODUCERS))
create_producer = _json_errors(functools.partial(_create, kind=PRODUCERS, data_key="producerData"))
get_producer = _json_errors(functools.partial(_get, kind=PRODUCERS))
list_persons = _json_errors(functools.partial(_list, kind=PERSONS))
create_person = _json_errors(functools.partial(_create, kind=PERSONS, data_key="personalData"))


def product_safety(
    st: MarketState, seller_id: str, doc: dict[str, Any], errors: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The GPSR part of each `productSet[]` element, checked against the seller's own producers/persons."""
    kept: list[dict[str, Any]] = []
    for index, raw in enumerate(seq(doc.get("productSet"))):
        element = obj(raw)
        path = f"productSet[{index}]"
        gpsr = {k: copy.deepcopy(element[k]) for k in GPSR_KEYS if element.get(k) is not None}
        for kind, field in ((PRODUCERS, "responsibleProducer"), (PERSONS, "responsiblePerson")):
            ident = _check_reference(st, seller_id, kind, element.get(field), path=path, errors=errors)
            if ident is not None:
                gpsr[field] = {"id": ident}  # a reference by name is kept as the id it names
        attachments.check_safety(
            st, seller_id, doc, path, info=element.get("safetyInformation"), errors=errors
        )
        before_gpsr = element.get("marketedBeforeGPSRObligation") is True
        if st.faults.gpsr_required and not before_gpsr:
            errors.extend(
                error_item(code, message, path=f"{path}.{field}")
                for field, code, message in REQUIRED
                if not element.get(field)
            )
        kept.append(gpsr)
    return kept


def _check_reference(
    st: MarketState, seller_id: str, kind: str, reference: Any, *, path: str, errors: list[dict[str, Any]]
) -> str | None:
    """The id the reference names among the seller's own, or None (with the error Allegro answers)."""
    if not isinstance(reference, dict):
        return None
    book = _book(st, seller_id, kind)
    field = "responsibleProducer" if kind == PRODUCERS else "responsiblePerson"
    ident, name = reference.get("id"), reference.get("name")
    if ident is not None:  # the id wins when both are given (spec)
        if ident in book:
            return str(ident)
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                f"{field} {ident} does not exist for this seller",
                path=f"{path}.{field}.id",
            )
        )
        return None
    named = next((e["id"] for e in book.values() if e["name"] == name), None)
    if name is not None and named is None:
        what = "Responsible producer" if kind == PRODUCERS else "Responsible person"
        code = "RESPONSIBLE_PRODUCER_NAME_DOES_NOT_EXIST" if kind == PRODUCERS else "VALIDATION_ERROR"
        errors.append(
            error_item(code, f"{what} by that name does not exist: {name}", path=f"{path}.{field}.name")
        )
    return named


def shown(safety: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """The GPSR fields of `productSet[index]` as GET product-offers shows them (references by id only)."""
    if index >= len(safety):
        return {}
    return copy.deepcopy(safety[index])
