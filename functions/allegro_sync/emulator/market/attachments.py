"""Offer attachments (`/sale/offer-attachments`) and their use as an offer's GPSR safety information.

The flow the spec gives: POST declares the attachment (type and file name) and answers with its id and, in
the `Location` header, a one-time upload URL on the upload host; PUT sends the file there (PDF, JPEG or PNG,
as the type allows) and answers with the file's download URL; GET reads it back. Until the PUT the
attachment has no `file.url` (#12075). A SAFETY_INFORMATION_MANUAL goes only in
`productSet[].safetyInformation` as `{"type": "ATTACHMENTS", "attachments": [{"id"}]}` (up to 20); in the
offer's own `attachments` list Allegro refuses it ("Invalid attachment type", #10616, #11001). One uploaded
attachment may be used by any number of offers (#10210).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from allegro_sync.emulator.market import common
from allegro_sync.emulator.market.common import Reject, error_item, obj, seq
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator.market.state import MarketState

SAFETY_MANUAL = "SAFETY_INFORMATION_MANUAL"
MAX_SAFETY_ATTACHMENTS = 20
FILE_HOST = "https://offer-attachments.allegro.example"  # where an uploaded file is served from
PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
# Spec createOfferAttachmentUsingPOST: the media types each type allows (every other type: PDF only).
ALLOWED = {SAFETY_MANUAL: (PDF, JPEG, PNG), "ENERGY_LABEL": (JPEG, PNG), "TIRE_LABEL": (JPEG, PNG)}
TYPES = frozenset(
    {
        "MANUAL",
        "SPECIAL_OFFER_RULES",
        "COMPETITION_RULES",
        "BOOK_EXCERPT",
        "USER_MANUAL",
        "INSTALLATION_INSTRUCTIONS",
        "GAME_INSTRUCTIONS",
        "ENERGY_LABEL",
        "PRODUCT_INFORMATION_SHEET",
        "TIRE_LABEL",
        SAFETY_MANUAL,
        "SOFTWARE_DATA_PROCESSING",
        "HARDWARE_DATA_PROCESSING",
        "PLANT_PROTECTION_PRODUCTS_AUTHORIZATION",
    }
)
MAGIC = {PDF: (b"%PDF",), JPEG: (b"\xff\xd8\xff",), PNG: (b"\x89PNG",)}
EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}


def _shown(attachment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attachment.items() if k in ("id", "type", "file")}


def create(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    body = common.body_object(request)
    kind = body.get("type")
    if kind not in TYPES:
        raise Reject.one(422, "VALIDATION_ERROR", f"Unknown attachment type {kind}", path="type")
    name = obj(body.get("file")).get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Reject.one(422, "VALIDATION_ERROR", "file.name is required (<= 200)", path="file.name")
    allowed = ALLOWED.get(str(kind), (PDF,))
    if not name.lower().endswith(tuple(e for t in allowed for e in EXTENSIONS[t])):
        raise Reject.one(
            422, "VALIDATION_ERROR", f"A {kind} file must be one of {', '.join(allowed)}", path="file.name"
        )
    ident = common.new_uuid(st.rng)
    st.attachments[ident] = {"id": ident, "type": kind, "file": {"name": name}, "seller": request.seller_id}
    host = request.headers.get("host")
    upload = f"http://{host}" if host else "https://upload.allegro.pl"
    return common.ok(
        _shown(st.attachments[ident]), 201, {"Location": f"{upload}/sale/offer-attachments/{ident}"}
    )


def _own(st: MarketState, request: EmulatorRequest, ident: str) -> dict[str, Any]:
    found = st.attachments.get(ident)
    if found is None:
        raise common.not_found("Attachment", ident)
    if found["seller"] != request.seller_id:
        raise Reject.one(403, "ACCESS_DENIED", "User has no access to this attachment")
    return found


def upload(st: MarketState, request: EmulatorRequest, ident: str) -> EmulatorResponse:
    attachment = _own(st, request, ident)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data = request.raw_body
    if media not in ALLOWED.get(attachment["type"], (PDF,)):
        raise Reject.one(415, "UNSUPPORTED_MEDIA_TYPE", f"{media or '(none)'} is not allowed here")
    if not data or not data.startswith(MAGIC[media]):
        raise Reject.one(400, "VALIDATION_ERROR", f"The file is not a {media} file")
    digest = hashlib.sha256(data).hexdigest()[:32]
    attachment["file"] = {**attachment["file"], "url": f"{FILE_HOST}/{digest}/{attachment['file']['name']}"}
    return common.ok(_shown(attachment))


def get(st: MarketState, request: EmulatorRequest, ident: str) -> EmulatorResponse:
    return common.ok(_shown(_own(st, request, ident)))


def check_safety(
    st: MarketState,
    seller_id: str,
    doc: dict[str, Any],
    path: str,
    *,
    info: Any,
    errors: list[dict[str, Any]],
) -> None:
    """An ATTACHMENTS safety information names 1..20 of the seller's uploaded safety manuals; the offer's
    own `attachments` list may not carry one (#10616)."""
    for index, ref in enumerate(seq(doc.get("attachments")) if path == "productSet[0]" else []):
        found = st.attachments.get(str(obj(ref).get("id")))
        if found is not None and found["type"] == SAFETY_MANUAL:
            errors.append(
                error_item(
                    "VALIDATION_ERROR",
                    "Invalid attachment type: Instructions with safety information",
                    path=f"attachments[{index}]",
                )
            )
    if obj(info).get("type") != "ATTACHMENTS":
        return
    refs = seq(obj(info).get("attachments"))
    if not 1 <= len(refs) <= MAX_SAFETY_ATTACHMENTS:
        errors.append(
            error_item(
                "VALIDATION_ERROR",
                f"Safety information takes 1 to {MAX_SAFETY_ATTACHMENTS} attachments",
                path=f"{path}.safetyInformation.attachments",
            )
        )
    for index, ref in enumerate(refs):
        found = st.attachments.get(str(obj(ref).get("id")))
        usable = (
            found is not None
            and found["seller"] == seller_id
            and found["type"] == SAFETY_MANUAL
            and "url" in found["file"]
        )
        if not usable:
            errors.append(
                error_item(
                    "VALIDATION_ERROR",
                    f"Attachment {obj(ref).get('id')} is not an uploaded {SAFETY_MANUAL} of this seller",
                    path=f"{path}.safetyInformation.attachments[{index}].id",
                )
            )
