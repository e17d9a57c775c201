"""Checks every exchange against Allegro's OpenAPI spec with openapi-core.

An emulator that answers what the real API would reject (or the reverse) makes tests lie; checking
both directions against the official spec keeps the emulator and the client honest. The compiled
spec is cached per path: loading and checking it takes about a second, a request a few milliseconds.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseFinderError
from openapi_core.validation.request.validators import V30RequestValidator
from openapi_core.validation.response.validators import V30ResponseValidator
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

CONTRACT_PATH = Path(__file__).parent / "contract" / "allegro-openapi.yaml"
API_HOST = "https://api.allegro.pl"
UPLOAD_HOST = "https://upload.allegro.pl"
UPLOAD_PATHS = frozenset({"/sale/images"})
MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
BETA_MEDIA_TYPE = "application/vnd.allegro.beta.v1+json"  # the bulk command and customer returns


@dataclass(frozen=True)
class Violation:
    """One place where an exchange left the spec: `kind` is "request" or "response"."""

    kind: str
    method: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.path}: {self.message}"


class _SharedFormatChecker(SchemaValidatorsFactory):
    """Builds each schema's validator once instead of on every exchange.

    openapi-core deep-copies the format checker and rebuilds the jsonschema validator for every
    schema it checks; with no extra formats registered nothing mutates either, so one validator per
    schema location (kept for the life of the process) is safe and cuts the cost per exchange.
    """

    def __init__(self, schema_validator_cls: Any) -> None:
        super().__init__(schema_validator_cls)
        self._built: dict[tuple[Any, ...], Any] = {}

    def get_format_checker(self, format_validators: Any = None, extra_format_validators: Any = None) -> Any:
        if format_validators is None and extra_format_validators is None:
            return self.format_checker
        return super().get_format_checker(format_validators, extra_format_validators)

    def create(  # noqa: PLR0917 - the signature of the method it overrides
        self,
        spec: Any,
        schema: Any,
        format_validators: Any = None,
        extra_format_validators: Any = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> Any:
        key = (
            id(spec.accessor),
            tuple(schema.parts),
            forbid_unspecified_additional_properties,
            enforce_properties_required,
        )
        cacheable = format_validators is None and extra_format_validators is None
        built = self._built.get(key) if cacheable else None
        if built is None:
            built = super().create(
                spec,
                schema,
                format_validators,
                extra_format_validators,
                forbid_unspecified_additional_properties,
                enforce_properties_required,
            )
            if cacheable:
                self._built[key] = built
        return built


class _RequestValidator(V30RequestValidator):
    """openapi-core has no OAuth2 security provider; the emulator's server authenticates instead."""

    schema_validators_factory = _SharedFormatChecker(OAS30WriteValidator)

    def _get_security(self, parameters: Any, operation: Any) -> None:
        return None


class _ResponseValidator(V30ResponseValidator):
    schema_validators_factory = _SharedFormatChecker(OAS30ReadValidator)


class _CachingPathFinder(APICallPathFinder):
    """openapi-core matches every path template on every call (a third of the validation time).

    `_Request` hands over the template it already matched, so the finder sees a small, fixed set of
    URLs and can remember the answer for each.
    """

    def __init__(self, spec: Any, base_url: str | None = None) -> None:
        super().__init__(spec, base_url=base_url)
        self._found: dict[tuple[str, str], Any] = {}

    def find(self, method: str, name: str) -> Any:
        key = (method, name)
        found = self._found.get(key)
        if found is None:
            found = super().find(method, name)
            self._found[key] = found
        return found


class _Templates:
    """The spec's path templates as regexes, literal paths first (e.g. /sale/offers before /sale/{x})."""

    def __init__(self, paths: list[str]) -> None:
        ordered = sorted(paths, key=lambda p: (p.count("{"), -len(p)))
        self._compiled = [
            (
                template,
                re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"),
            )
            for template in ordered
        ]

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        for template, pattern in self._compiled:
            found = pattern.match(path)
            if found is not None:
                return template, found.groupdict()
        return None


class _Request:
    """An EmulatorRequest seen through openapi-core's Request protocol."""

    def __init__(self, request: EmulatorRequest, templates: _Templates | None = None) -> None:
        attachment_upload = request.method == "PUT" and request.path.startswith("/sale/offer-attachments/")
        self.host_url = UPLOAD_HOST if request.path in UPLOAD_PATHS or attachment_upload else API_HOST
        self.path = request.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, values in request.query.items() for v in values]),
            header=Headers(list(request.headers.items())),
        )
        matched = templates.match(request.path) if templates is not None else None
        if matched is not None:
            self.path_pattern, self.parameters.path = matched
        self.content_type = request.headers.get("content-type", "")
        self.body: bytes | None = request.raw_body or None


class _Response:
    def __init__(self, response: EmulatorResponse, body: bytes | None) -> None:
        self.status_code = response.status
        self.headers = Headers(list(response.headers.items()))
        self.content_type = next(
            (v for k, v in response.headers.items() if k.lower() == "content-type"), MEDIA_TYPE
        )
        self.data = body


def _describe(exc: BaseException) -> str:
    """Short wording: the schema errors openapi-core keeps in its causes, else the exception itself."""
    schema: list[str] = []
    plain: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for error in getattr(current, "schema_errors", None) or []:
            where = "/".join(str(p) for p in getattr(error, "absolute_path", []))
            schema.append(f"{where or '<root>'}: {getattr(error, 'message', error)}")
        nested = [e for e in getattr(current, "errors", None) or [] if isinstance(e, BaseException)]
        stack.extend(nested)
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if not nested and current.__cause__ is None:
            plain.append(str(current) or type(current).__name__)
    lines = schema or plain or [str(exc)]
    return f"{type(exc).__name__}: " + "; ".join(dict.fromkeys(lines))


def _schema(document: dict[str, Any], name: str) -> dict[str, Any] | None:
    schema = document.get("components", {}).get("schemas", {}).get(name)
    return schema if isinstance(schema, dict) else None


def apply_spec_errata(document: dict[str, Any]) -> None:
    """Correct the few places where Allegro's spec contradicts Allegro's API, so validation stays strict.

    Applied when a spec is loaded (the trimmed contract and the full spec alike); the files stay faithful
    copies. Each erratum names what the real API does:
    - `CheckoutForms.count`/`totalCount` say `minimum: 1`, yet a search that finds no order answers
      `{"checkoutForms": [], "count": 0, "totalCount": 0}`: the gap scan meets that every quiet day.
    - `OfferAutomaticPricingCommand.modification` is a `oneOf` of `{set}` and `{remove}` with neither key
      required, so every body matches both branches and `oneOf` can never pass; each branch requires its key.
    - `TaskWithSubjectReport.tasks` (the bulk price/stock command) is a `oneOf` of two identical task shapes
      (price and stock subject), so no task can ever match exactly one; it is read as `anyOf`.
    - `MessageRequest` (a message in a post-purchase issue, issue 15 item 4) requires `attachment`, a property
      it does not have (it has `attachments`, and says "text or attachment fields or both"): no body could
      pass; `text` and `type` stay required.
    """
    message_request = _schema(document, "MessageRequest")
    if message_request is not None and "attachment" in message_request.get("required", []):
        message_request["required"] = [r for r in message_request["required"] if r != "attachment"]
    report = _schema(document, "TaskWithSubjectReport")
    items = report.get("properties", {}).get("tasks", {}).get("items", {}) if report else {}
    if isinstance(items, dict) and "oneOf" in items:
        items["anyOf"] = items.pop("oneOf")
    forms = _schema(document, "CheckoutForms")
    if forms:
        for field_name in ("count", "totalCount"):
            prop = forms.get("properties", {}).get(field_name)
            if isinstance(prop, dict) and prop.get("minimum") == 1:
                prop["minimum"] = 0
    for name, key in (
        ("OfferAutomaticPricingModificationSet", "set"),
        ("OfferAutomaticPricingModificationRemove", "remove"),
    ):
        branch = _schema(document, name)
        if branch is not None and key in branch.get("properties", {}):
            branch["required"] = sorted({*branch.get("required", []), key})


class SpecValidator:
    """Validates requests and responses against one OpenAPI document (thread-safe, stateless)."""

    def __init__(self, spec_path: Path = CONTRACT_PATH, *, check_spec: bool = True) -> None:
        """`check_spec=False` skips openapi-core's 8-second check of a document we trust (Allegro's own)."""
        self.spec_path = spec_path
        with spec_path.open("rb") as handle:
            document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        apply_spec_errata(document)
        skip_check: dict[str, Any] = {} if check_spec else {"spec_validator_cls": None}
        self._templates = _Templates(list(document.get("paths", {})))
        self._openapi = OpenAPI.from_dict(
            document,
            config=Config(
                **skip_check,
                request_validator_cls=_RequestValidator,
                path_finder_cls=_CachingPathFinder,
                response_validator_cls=_ResponseValidator,
                # Allegro's vendor media type is JSON; openapi-core only knows it by the +json suffix rule.
                extra_media_type_deserializers={MEDIA_TYPE: _json, BETA_MEDIA_TYPE: _json},
            ),
        )

    def request_errors(self, request: EmulatorRequest) -> list[Violation]:
        return [
            Violation("request", request.method, request.path, _describe(exc))
            for exc in self._iter(
                lambda: self._openapi.iter_request_errors(_Request(request, self._templates))
            )
        ]

    def response_errors(
        self, request: EmulatorRequest, response: EmulatorResponse, body: bytes | None
    ) -> list[Violation]:
        """Errors of a response; an undocumented error status only needs Allegro's error envelope."""
        found: list[Violation] = []
        for exc in self._iter(
            lambda: self._openapi.iter_response_errors(
                _Request(request, self._templates), _Response(response, body)
            )
        ):
            if isinstance(exc, ResponseFinderError) and response.status >= 400 and _is_error_envelope(body):
                continue
            found.append(Violation("response", request.method, request.path, _describe(exc)))
        return found

    def knows(self, request: EmulatorRequest) -> bool:
        """Whether the operation is in the spec at all (unknown paths are reported, not validated)."""
        errors = list(self._openapi.iter_request_errors(_Request(request, self._templates)))
        return not any(isinstance(e, PathError) for e in errors)

    @staticmethod
    def _iter(make: Any) -> Iterator[BaseException]:
        try:
            yield from make()
        except Exception as exc:  # openapi-core may raise instead of yielding on odd input
            yield exc


def _json(data: bytes) -> Any:
    return json.loads(data)


def _is_error_envelope(body: bytes | None) -> bool:
    """Allegro errors are `{"errors": [...]}`, or `{"error", "error_description"}` for 401."""
    if not body:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    if not isinstance(parsed, Mapping):
        return False
    if isinstance(parsed.get("errors"), list):
        return all(isinstance(e, Mapping) and "code" in e and "message" in e for e in parsed["errors"])
    return "error" in parsed


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(spec_path: Path, check_spec: bool) -> SpecValidator:
    return SpecValidator(spec_path, check_spec=check_spec)


def validator_for(spec_path: Path = CONTRACT_PATH, *, check_spec: bool = True) -> SpecValidator:
    """The compiled validator for a spec file, built once per process."""
    with _lock:
        return _load(spec_path.resolve(), check_spec)
