"""The Allegro REST API client: one seller account, Allegro's headers, retries, rate limits, async helpers.

Retry policy (why each rule exists):
- connection failures before the request left: always retried (nothing reached Allegro);
- timeouts and 5xx: retried only for idempotent calls (GET/PUT/PATCH and explicitly safe POSTs), because a
  retried `POST /sale/product-offers` could list the same product twice;
- 401: the token source is told once (`token_rejected`) and the call is repeated once with the new token;
- 409 on `PATCH /sale/product-offers/{id}`: the previous edit is still processing, retried later;
- 429: the Client ID is blocked and calling extends the block, so the block is recorded for every process
  and nothing is retried; other 4xx are never retried.
Back-off is exponential with full jitter; `sleep` is injectable so tests (and the emulator clock) never wait.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from aws_lambda_powertools import Logger
from pydantic import BaseModel

from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.contracts.accounts import TokenSource
from allegro_sync.contracts.allegro import (
    AddShipment,
    AutomaticPricingModification,
    Carrier,
    Carriers,
    Categories,
    Category,
    CategoryParameter,
    CategoryParameters,
    CategorySuggestion,
    CheckoutForm,
    CheckoutForms,
    CommandReport,
    CommandTask,
    FeePreview,
    FulfillmentStatus,
    FulfillmentUpdate,
    IdRefIn,
    MatchingCategories,
    Me,
    OfferAutomaticPricingCommand,
    OfferCommandResult,
    OfferCriterion,
    OfferEvents,
    OfferListing,
    OfferRuleConfiguration,
    OfferRules,
    OffersPage,
    OrderEvent,
    OrderEvents,
    OrderEventStats,
    PriceAutomationRule,
    PriceAutomationRuleRequest,
    PriceAutomationRules,
    PriceChangeCommand,
    PriceIn,
    PriceModification,
    PriceRange,
    Product,
    ProductOffer,
    ProductOfferOperation,
    ProductsPage,
    PublicationChangeCommand,
    PublicationModification,
    QuantityChangeCommand,
    QuantityModification,
    RuleRemoveEntry,
    RuleSetEntry,
    Shipment,
    ShipmentLineItem,
    Shipments,
    TaskReport,
    UploadedImage,
)
from allegro_sync.contracts.allegro_errors import (
    TRACE_ID_HEADER,
    AllegroError,
    AllegroOperationPending,
    AllegroRateLimited,
    AllegroUnavailable,
    InvalidCommand,
    error_for,
)

logger = Logger(child=True)

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
USER_AGENT = "allegro-sync/0.1 (+https://github.com/allegro-sync)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})
# Allegro's per-command and per-page maximum.
COMMAND_CHUNK = 1000
PAGE_LIMIT = 1000
MAX_EXTERNAL_IDS = 100
CHECKOUT_FORMS_LIMIT = 100
DEFAULT_BLOCK_SECONDS = 60.0

CommandKind = Literal[
    "offer-quantity-change-commands",
    "offer-price-change-commands",
    "offer-publication-commands",
    "offer-price-automation-commands",
]
_Model = TypeVar("_Model", bound=BaseModel)


class AllegroClient:
    """Typed access to the Allegro operations the project uses, for one seller account."""

    def __init__(
        self,
        environment: AllegroEnvironment,
        tokens: TokenSource,
        *,
        account: str,
        rate_guard: RateGuard | None = None,
        http: httpx.Client | None = None,
        accept_language: str = "pl-PL",
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_conflict_retries: int = 5,
        max_wait_seconds: float = 20.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.environment = environment
        self.account = account
        self._tokens = tokens
        # Without a shared store a client still remembers its own 429, so it never extends a block itself.
        self._guard = rate_guard or RateGuard(InMemoryBlockedUntilStore())
        self._http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        self._accept_language = accept_language
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_conflict_retries = max_conflict_retries
        self._max_wait = max_wait_seconds
        self._jitter = jitter
        self._trusted_origins = {_origin(environment.api_url), _origin(environment.upload_url)}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AllegroClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- transport ---------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        host: Literal["api", "upload"] = "api",
        idempotent: bool | None = None,
        retry_conflict: bool = False,
        conflict_after_retry_ok: bool = False,
        language: str | None = None,
    ) -> httpx.Response:
        """One logical call with Allegro's headers and the retry policy of this module's docstring.

        `conflict_after_retry_ok`: a 409 after a possibly delivered attempt means our own earlier attempt
        succeeded (a command id is single-use), so the 409 response is returned instead of raised.
        `language` overrides Accept-Language for operations whose spec allows only one language.
        """
        method = method.upper()
        url = self._url(path, host)
        log_path = urlsplit(url).path
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            content_type = MEDIA_TYPE
        query = _query(params)
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        token = self._tokens.access_token()
        token_renewed = False
        attempt = 0
        conflicts = 0
        maybe_delivered = False
        while True:
            attempt += 1
            try:
                response = self._send(
                    method,
                    url,
                    query=query,
                    content=content,
                    token=token,
                    content_type=content_type,
                    language=language or self._accept_language,
                    log_path=log_path,
                    attempt=attempt,
                )
            except httpx.TransportError as error:
                not_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                maybe_delivered = maybe_delivered or not not_sent
                if (not_sent or safe_to_repeat) and attempt < self._max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise AllegroUnavailable(
                    f"Allegro unreachable: {method} {log_path} failed with {type(error).__name__} "
                    f"after {attempt} attempt(s)"
                ) from error
            status = response.status_code
            if status == 401 and not token_renewed:
                token_renewed = True
                attempt -= 1  # an expired token is not Allegro failing
                token = self._tokens.token_rejected(token)
                continue
            if status == 429:
                until = self._guard.record_block(_retry_after(response))
                raise AllegroRateLimited(
                    until, method=method, path=log_path, trace_id=response.headers.get(TRACE_ID_HEADER)
                )
            if status >= 500:
                maybe_delivered = True
                if safe_to_repeat and attempt < self._max_attempts:
                    self._sleep(self._backoff(attempt))
                    continue
            if status == 409:
                if conflict_after_retry_ok and maybe_delivered:
                    return response
                if retry_conflict and conflicts < self._max_conflict_retries:
                    conflicts += 1
                    self._sleep(self._backoff(conflicts, base=1.0, cap=15.0))
                    continue
            if status >= 400:
                trace_id = response.headers.get(TRACE_ID_HEADER)
                raise error_for(status, response.content, trace_id=trace_id, method=method, path=log_path)
            return response

    def _send(
        self,
        method: str,
        url: str,
        *,
        query: httpx.QueryParams | None,
        content: bytes | None,
        token: str,
        content_type: str | None,
        language: str,
        log_path: str,
        attempt: int,
    ) -> httpx.Response:
        """One HTTP exchange: admission by the rate guard, then the request, then one log line."""
        wait = self._guard.admit(method, log_path)
        if wait > 0:
            self._sleep(wait)
        started = time.perf_counter()
        try:
            response = self._http.request(
                method,
                url,
                params=query,
                content=content,
                headers=self._headers(token, content_type, language),
            )
        except httpx.TransportError as error:
            self._log_failure(method, log_path, error, started, attempt)
            raise
        self._log_response(method, log_path, response, started, attempt)
        return response

    def _get(self, path: str, model: type[_Model], params: Mapping[str, Any] | None = None) -> _Model:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _url(self, path: str, host: Literal["api", "upload"]) -> str:
        base = self.environment.upload_url if host == "upload" else self.environment.api_url
        if path.startswith(("http://", "https://")):
            # A Location header: the bearer token may only ever travel to Allegro's own hosts.
            if _origin(path) not in self._trusted_origins:
                raise AllegroError(f"refusing to send the token to untrusted host {_origin(path)}")
            return path
        return base + "/" + path.lstrip("/")

    def _headers(self, token: str, content_type: str | None, language: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": MEDIA_TYPE,
            "Accept-Language": language,
            "User-Agent": USER_AGENT,
        }
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def _backoff(self, attempt: int, *, base: float | None = None, cap: float | None = None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))] so retries of many callers spread."""
        ceiling = min(cap or self._backoff_cap, (base or self._backoff_base) * 2.0 ** (attempt - 1))
        return self._jitter() * ceiling

    def _log_response(
        self, method: str, path: str, response: httpx.Response, started: float, attempt: int
    ) -> None:
        fields = {
            "allegro_method": method,
            "allegro_path": path,
            "allegro_status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "trace_id": response.headers.get(TRACE_ID_HEADER),
            "account": self.account,
            "attempt": attempt,
        }
        if response.status_code >= 400:
            logger.warning("Allegro call failed", extra=fields)
        else:
            # INFO, not DEBUG: with the correlation id the logger carries, this line closes the chain from a
            # webhook or order event to Allegro at CloudWatch's default level. Never the token or body.
            logger.info("Allegro call", extra=fields)

    def _log_failure(self, method: str, path: str, error: Exception, started: float, attempt: int) -> None:
        logger.warning(
            "Allegro unreachable",
            extra={
                "allegro_method": method,
                "allegro_path": path,
                "error": type(error).__name__,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "account": self.account,
                "attempt": attempt,
            },
        )

    # ---- account -----------------------------------------------------------------------------------------

    def me(self) -> Me:
        return self._get("/me", Me)

    # ---- product offers ----------------------------------------------------------------------------------

    def create_product_offer(self, body: Mapping[str, Any], *, wait: bool = True) -> ProductOffer:
        """POST /sale/product-offers; when Allegro answers 202, follow the operation until it is done.

        Not retried on timeouts or 5xx (a repeat could list the product twice): the caller's reconciliation
        finds the offer by `external.id` instead.
        """
        response = self.request("POST", "/sale/product-offers", json_body=dict(body))
        return self._settle_offer(response, wait=wait)

    def patch_product_offer(
        self, offer_id: str, body: Mapping[str, Any], *, wait: bool = True
    ) -> ProductOffer:
        """PATCH /sale/product-offers/{id}; 409 (previous edit still processing) is retried later."""
        response = self.request(
            "PATCH", f"/sale/product-offers/{_segment(offer_id)}", json_body=dict(body), retry_conflict=True
        )
        return self._settle_offer(response, wait=wait, offer_id=offer_id)

    def get_product_offer(self, offer_id: str) -> ProductOffer:
        return self._get(f"/sale/product-offers/{_segment(offer_id)}", ProductOffer)

    def product_offer_operation(self, offer_id: str, operation_id: str) -> ProductOfferOperation | None:
        """GET .../operations/{operationId}: the operation while running, None once done (303)."""
        path = f"/sale/product-offers/{_segment(offer_id)}/operations/{_segment(operation_id)}"
        response = self.request("GET", path)
        return ProductOfferOperation.model_validate(response.json()) if response.status_code == 202 else None

    def _settle_offer(
        self, response: httpx.Response, *, wait: bool, offer_id: str | None = None
    ) -> ProductOffer:
        body: Any = response.json() if response.content else {}
        if response.status_code != 202:
            return ProductOffer.model_validate(body)
        # A 202 body may be partial; the offer id is also the second segment of the operation's Location.
        location = response.headers.get("location")
        offer_id = (body.get("id") if isinstance(body, dict) else None) or offer_id or _offer_id_in(location)
        if not offer_id:
            raise AllegroOperationPending("Allegro answered 202 without an offer id or Location")
        if not wait:
            return ProductOffer.model_validate({**(body if isinstance(body, dict) else {}), "id": offer_id})
        if not location:
            raise AllegroOperationPending("Allegro answered 202 without Location", offer_id=offer_id)
        waited = 0.0
        poll = 0
        delay = _retry_after(response)
        while True:
            delay = min(delay if delay is not None else self._poll_delay(poll), self._max_wait)
            if waited + delay > self._max_wait:
                raise AllegroOperationPending(
                    f"offer {offer_id} still processing after {waited:.0f} s",
                    offer_id=offer_id,
                    location=location,
                )
            self._sleep(delay)
            waited += delay
            poll += 1
            status = self.request("GET", location)
            if status.status_code != 202:  # 303 (done; httpx does not follow it) or a plain 200
                return self.get_product_offer(offer_id)
            delay = _retry_after(status)

    def _poll_delay(self, poll: int) -> float:
        """Polling pace for asynchronous results: 0.5 s, 1 s, 2 s, then every 4 s."""
        return min(4.0, 0.5 * 2.0**poll)

    # ---- own offers --------------------------------------------------------------------------------------

    def list_offers(
        self,
        *,
        external_ids: Sequence[str] = (),
        offer_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        name: str | None = None,
        offset: int = 0,
        limit: int = PAGE_LIMIT,
    ) -> OffersPage:
        """GET /sale/offers: the seller's own offers, with 30-day stats (`stats`, `stock.sold`)."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise InvalidCommand(f"limit must be 1..{PAGE_LIMIT}, got {limit}")
        if len(external_ids) > MAX_EXTERNAL_IDS:
            raise InvalidCommand(f"Allegro filters by at most {MAX_EXTERNAL_IDS} external ids per request")
        params: dict[str, Any] = {
            "external.id": list(external_ids),
            "offer.id": list(offer_ids),
            "publication.status": list(statuses),
            "name": name,
            "offset": offset,
            "limit": limit,
        }
        return self._get("/sale/offers", OffersPage, params)

    def iter_offers(
        self,
        *,
        external_ids: Sequence[str] = (),
        statuses: Sequence[str] = (),
        page_size: int = PAGE_LIMIT,
    ) -> Iterator[OfferListing]:
        """Every matching offer, page by page (offset pagination); any number of external ids, sent 100
        per request because Allegro filters by at most 100 at once."""
        ids = list(dict.fromkeys(external_ids))
        groups = [ids[i : i + MAX_EXTERNAL_IDS] for i in range(0, len(ids), MAX_EXTERNAL_IDS)] or [[]]
        for group in groups:
            offset = 0
            while True:
                page = self.list_offers(external_ids=group, statuses=statuses, offset=offset, limit=page_size)
                yield from page.offers
                offset += len(page.offers)
                if len(page.offers) < page_size or offset >= page.total_count:
                    break

    # ---- batch commands ----------------------------------------------------------------------------------

    def put_command(self, kind: CommandKind, command_id: str, body: BaseModel) -> CommandReport:
        """PUT /sale/{kind}/{commandId}; a retried PUT whose first attempt landed answers 409: success."""
        response = self.request(
            "PUT",
            f"/sale/{kind}/{_segment(command_id)}",
            json_body=_dump(body),
            conflict_after_retry_ok=True,
        )
        return (
            CommandReport.model_validate(response.json()) if response.status_code < 300 else CommandReport()
        )

    def get_command(self, kind: CommandKind, command_id: str) -> CommandReport:
        return self._get(f"/sale/{kind}/{_segment(command_id)}", CommandReport)

    def command_tasks(
        self, kind: CommandKind, command_id: str, *, limit: int = COMMAND_CHUNK, offset: int = 0
    ) -> TaskReport:
        return self._get(
            f"/sale/{kind}/{_segment(command_id)}/tasks", TaskReport, {"limit": limit, "offset": offset}
        )

    def change_quantity(
        self, offer_ids: Iterable[str], change_type: Literal["FIXED", "GAIN"], value: int
    ) -> list[OfferCommandResult]:
        """Set (FIXED) or shift (GAIN) stock of many offers; one result per offer."""
        if change_type == "FIXED" and value < 1:
            raise InvalidCommand(
                f"Allegro cannot set stock to {value} with a quantity command (INCORRECT_QUANTITY_VALUE); "
                "to sell out an offer use patch_product_offer(offer_id, {'stock': {'available': 0}})"
            )
        modification = QuantityModification(change_type=change_type, value=value)
        return self._run_commands(
            "offer-quantity-change-commands",
            offer_ids,
            lambda criteria: QuantityChangeCommand(modification=modification, offer_criteria=criteria),
        )

    def change_price(
        self, offer_ids: Iterable[str], modification: PriceModification
    ) -> list[OfferCommandResult]:
        """Change buy-now prices of many offers the same way (fixed price, by amount or by percentage)."""
        return self._run_commands(
            "offer-price-change-commands",
            offer_ids,
            lambda criteria: PriceChangeCommand(modification=modification, offer_criteria=criteria),
        )

    def change_publication(
        self,
        offer_ids: Iterable[str],
        action: Literal["ACTIVATE", "END"],
        *,
        scheduled_for: str | None = None,
    ) -> list[OfferCommandResult]:
        """Activate or end many offers. Confirm a stock raise first: Allegro may reorder them (#10251)."""
        publication = PublicationModification(action=action, scheduled_for=scheduled_for)
        return self._run_commands(
            "offer-publication-commands",
            offer_ids,
            lambda criteria: PublicationChangeCommand(publication=publication, offer_criteria=criteria),
        )

    def _run_commands(
        self,
        kind: CommandKind,
        offer_ids: Iterable[str],
        build: Callable[[list[OfferCriterion]], BaseModel],
        *,
        post: bool = False,
    ) -> list[OfferCommandResult]:
        ids = list(dict.fromkeys(offer_ids))
        if not ids or any(not isinstance(i, str) or not i.strip() for i in ids):
            raise InvalidCommand("a command needs at least one offer id, each a non-empty string")
        results: list[OfferCommandResult] = []
        for start in range(0, len(ids), COMMAND_CHUNK):
            chunk = ids[start : start + COMMAND_CHUNK]
            criteria = [OfferCriterion(offers=[IdRefIn(id=i) for i in chunk])]
            command_id = str(uuid.uuid4())  # single-use: Allegro answers 409 to a reused id (#5455)
            body = build(criteria)
            try:
                results.extend(self._run_one_command(kind, command_id, body, chunk, post=post))
            except AllegroError as error:
                error.completed = tuple(results)
                raise
        return results

    def _run_one_command(
        self, kind: CommandKind, command_id: str, body: BaseModel, chunk: list[str], *, post: bool
    ) -> list[OfferCommandResult]:
        if post:
            self.request(
                "POST",
                f"/sale/{kind}",
                json_body={**_dump(body), "id": command_id},
                idempotent=True,  # the id in the body makes a repeat harmless
                conflict_after_retry_ok=True,
            )
        else:
            self.put_command(kind, command_id, body)
        return self._await_tasks(kind, command_id, chunk)

    def _await_tasks(self, kind: CommandKind, command_id: str, chunk: list[str]) -> list[OfferCommandResult]:
        """Poll the tasks until every offer is SUCCESS or FAIL; the list is often empty at first (#6260)."""
        final: dict[str, CommandTask] = {}
        waited = 0.0
        poll = 0
        while True:
            for task in self.command_tasks(kind, command_id).tasks:
                if task.offer and task.status in ("SUCCESS", "FAIL"):
                    final[task.offer.id] = task
            if all(offer_id in final for offer_id in chunk):
                break
            delay = self._poll_delay(poll)
            if waited + delay > self._max_wait:
                logger.warning(
                    "Allegro command still running",
                    extra={"command": kind, "command_id": command_id, "pending": len(chunk) - len(final)},
                )
                break
            self._sleep(delay)
            waited += delay
            poll += 1
        return [_result(offer_id, final.get(offer_id), command_id) for offer_id in chunk]

    # ---- price automation --------------------------------------------------------------------------------

    def price_automation_rules(self) -> list[PriceAutomationRule]:
        return self._get("/sale/price-automation/rules", PriceAutomationRules).rules

    def price_automation_rule(self, rule_id: str) -> PriceAutomationRule:
        return self._get(f"/sale/price-automation/rules/{_segment(rule_id)}", PriceAutomationRule)

    def create_price_automation_rule(self, rule: PriceAutomationRuleRequest) -> PriceAutomationRule:
        response = self.request("POST", "/sale/price-automation/rules", json_body=_dump(rule))
        return PriceAutomationRule.model_validate(response.json())

    def offer_price_automation_rules(self, offer_id: str) -> OfferRules:
        return self._get(f"/sale/price-automation/offers/{_segment(offer_id)}/rules", OfferRules)

    def assign_price_automation(
        self,
        offer_ids: Iterable[str],
        rule_id: str,
        *,
        min_price: PriceIn,
        max_price: PriceIn,
        marketplace_id: str = "allegro-pl",
    ) -> list[OfferCommandResult]:
        """Let Allegro follow the competition for these offers, never leaving [min_price, max_price]."""
        if min_price.currency != max_price.currency or float(min_price.amount) > float(max_price.amount):
            raise InvalidCommand(f"price range {min_price.amount}..{max_price.amount} is not a valid range")
        entry = RuleSetEntry(
            marketplace=IdRefIn(id=marketplace_id),
            rule=IdRefIn(id=rule_id),
            configuration=OfferRuleConfiguration(
                price_range=PriceRange(min_price=min_price, max_price=max_price)
            ),
        )
        return self._price_automation_command(offer_ids, AutomaticPricingModification(set=[entry]))

    def remove_price_automation(
        self, offer_ids: Iterable[str], *, marketplace_id: str = "allegro-pl"
    ) -> list[OfferCommandResult]:
        modification = AutomaticPricingModification(
            remove=[RuleRemoveEntry(marketplace=IdRefIn(id=marketplace_id))]
        )
        return self._price_automation_command(offer_ids, modification)

    def _price_automation_command(
        self, offer_ids: Iterable[str], modification: AutomaticPricingModification
    ) -> list[OfferCommandResult]:
        return self._run_commands(
            "offer-price-automation-commands",
            offer_ids,
            lambda criteria: OfferAutomaticPricingCommand(modification=modification, offer_criteria=criteria),
            post=True,
        )

    # ---- categories, products, images --------------------------------------------------------------------

    def get_categories(self, parent_id: str | None = None) -> list[Category]:
        return self._get("/sale/categories", Categories, {"parent.id": parent_id}).categories

    def get_category(self, category_id: str) -> Category:
        return self._get(f"/sale/categories/{_segment(category_id)}", Category)

    def get_category_parameters(self, category_id: str) -> list[CategoryParameter]:
        path = f"/sale/categories/{_segment(category_id)}/parameters"
        return self._get(path, CategoryParameters).parameters

    def matching_categories(self, name: str) -> list[CategorySuggestion]:
        if not name.strip():
            raise InvalidCommand("matching categories needs a product name")
        return self._get("/sale/matching-categories", MatchingCategories, {"name": name}).matching_categories

    def upload_image(
        self, *, url: str | None = None, data: bytes | None = None, content_type: str = "image/jpeg"
    ) -> UploadedImage:
        """POST /sale/images on the upload host, by URL (Allegro downloads it) or as raw bytes."""
        if (url is None) == (data is None):
            raise InvalidCommand("upload_image takes exactly one of url= or data=")
        if data is not None and content_type not in ("image/jpeg", "image/png", "image/webp"):
            raise InvalidCommand(f"Allegro accepts image/jpeg, image/png or image/webp, not {content_type}")
        response = self.request(
            "POST",
            "/sale/images",
            host="upload",
            json_body={"url": url} if url is not None else None,
            content=data,
            content_type=content_type if data is not None else None,
            idempotent=True,  # an extra uploaded copy is harmless; a lost upload is not
        )
        return UploadedImage.model_validate(response.json())

    def search_products(
        self,
        phrase: str,
        *,
        mode: Literal["GTIN", "MPN"] | None = "GTIN",
        category_id: str | None = None,
        page_id: str | None = None,
    ) -> ProductsPage:
        """GET /sale/products. One GTIN can match several products (#8081): the caller must not guess."""
        params = {"phrase": phrase, "mode": mode, "category.id": category_id, "page.id": page_id}
        return self._get("/sale/products", ProductsPage, params)

    def iter_products(
        self, phrase: str, *, mode: Literal["GTIN", "MPN"] | None = "GTIN", max_pages: int = 10
    ) -> Iterator[Product]:
        """All pages of a product search (page.id cursor), bounded so a broad phrase cannot run away."""
        page_id: str | None = None
        for _ in range(max_pages):
            page = self.search_products(phrase, mode=mode, page_id=page_id)
            yield from page.products
            page_id = page.next_page.id if page.next_page else None
            if not page_id or not page.products:
                return

    def get_product(self, product_id: str) -> Product:
        return self._get(f"/sale/products/{_segment(product_id)}", Product)

    # ---- events and orders -------------------------------------------------------------------------------

    def offer_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> OfferEvents:
        """GET /sale/offer-events (the last 24 hours only)."""
        params = {"from": from_id, "limit": limit, "type": list(types)}
        response = self.request(
            "GET", "/sale/offer-events", params=params, language="en-US"
        )  # spec: en-US only
        return OfferEvents.model_validate(response.json())

    def order_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> list[OrderEvent]:
        """GET /order/events after `from_id`, oldest first (there are no webhooks: poll this)."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise InvalidCommand(f"limit must be 1..{PAGE_LIMIT}, got {limit}")
        params = {"from": from_id, "limit": limit, "type": list(types)}
        return self._get("/order/events", OrderEvents, params).events

    def iter_order_events(self, from_id: str | None = None, *, max_pages: int = 10) -> Iterator[OrderEvent]:
        """Events after `from_id`, a page of 1000 at a time; bounded so one run cannot loop forever."""
        for _ in range(max_pages):
            events = self.order_events(from_id, limit=PAGE_LIMIT)
            yield from events
            if len(events) < PAGE_LIMIT:
                return
            from_id = events[-1].id

    def order_event_stats(self) -> OrderEventStats:
        return self._get("/order/event-stats", OrderEventStats)

    def checkout_forms(
        self,
        *,
        status: str | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        offset: int = 0,
        limit: int = CHECKOUT_FORMS_LIMIT,
    ) -> CheckoutForms:
        """GET /order/checkout-forms (up to 100 per page): back-fills orders whose events were missed."""
        params = {
            "status": status,
            "updatedAt.gte": updated_at_gte,
            "updatedAt.lte": updated_at_lte,
            "offset": offset,
            "limit": limit,
        }
        return self._get("/order/checkout-forms", CheckoutForms, params)

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]:
        """All orders changed since `updated_at_gte` (the back-fill for missed events), 100 per page."""
        offset = 0
        for _ in range(max_pages):
            page = self.checkout_forms(
                status=status, updated_at_gte=updated_at_gte, offset=offset, limit=CHECKOUT_FORMS_LIMIT
            )
            yield from page.checkout_forms
            offset += len(page.checkout_forms)
            if len(page.checkout_forms) < CHECKOUT_FORMS_LIMIT or offset >= page.total_count:
                return

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return self._get(f"/order/checkout-forms/{_segment(checkout_form_id)}", CheckoutForm)

    def carriers(self) -> list[Carrier]:
        return self._get("/order/carriers", Carriers).carriers

    def set_fulfillment(
        self, checkout_form_id: str, status: FulfillmentStatus, *, revision: str | None = None
    ) -> None:
        """PUT .../fulfillment; with `revision`, a stale order answers 409 (AllegroConflict) instead."""
        self.request(
            "PUT",
            f"/order/checkout-forms/{_segment(checkout_form_id)}/fulfillment",
            params={"checkoutForm.revision": revision},
            json_body=_dump(FulfillmentUpdate(status=status)),
            language="en-US",  # the spec allows only en-US here
        )

    def add_shipment(
        self,
        checkout_form_id: str,
        *,
        carrier_id: str,
        waybill: str,
        carrier_name: str | None = None,
        line_item_ids: Sequence[str] = (),
    ) -> Shipment:
        body = AddShipment(
            carrier_id=carrier_id,
            waybill=waybill,
            carrier_name=carrier_name,
            line_items=[ShipmentLineItem(id=i) for i in line_item_ids] or None,
        )
        response = self.request(
            "POST", f"/order/checkout-forms/{_segment(checkout_form_id)}/shipments", json_body=_dump(body)
        )
        return Shipment.model_validate(response.json())

    def shipments(self, checkout_form_id: str) -> list[Shipment]:
        return self._get(f"/order/checkout-forms/{_segment(checkout_form_id)}/shipments", Shipments).shipments

    def offer_fee_preview(self, body: Mapping[str, Any]) -> FeePreview:
        """POST /pricing/offer-fee-preview: read-only, so safe to repeat."""
        response = self.request("POST", "/pricing/offer-fee-preview", json_body=dict(body), idempotent=True)
        return FeePreview.model_validate(response.json())


# ---- helpers --------------------------------------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _query(params: Mapping[str, Any] | None) -> httpx.QueryParams | None:
    """Drop unset filters; repeat a key for list values (Allegro's `a=1&a=2` convention)."""
    if not params:
        return None
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return httpx.QueryParams(pairs)


def _segment(value: str) -> str:
    """A path segment from an id; ids with '/', '?' or '#' would address a different resource."""
    if not value or any(ch in value for ch in "/?#") or value in (".", ".."):
        raise InvalidCommand(f"not a valid Allegro id: {value!r}")
    return value


def _offer_id_in(location: str | None) -> str | None:
    """`.../sale/product-offers/{offerId}/operations/{operationId}` -> offerId."""
    parts = urlsplit(location or "").path.strip("/").split("/")
    if len(parts) == 5 and parts[:2] == ["sale", "product-offers"] and parts[3] == "operations":
        return parts[2]
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _result(offer_id: str, task: CommandTask | None, command_id: str) -> OfferCommandResult:
    if task is None:
        return OfferCommandResult(offer_id=offer_id, status="PENDING", command_id=command_id)
    message = task.message
    if task.errors:
        reasons = "; ".join(e.user_message or e.message or e.code or "" for e in task.errors)
        message = f"{message}: {reasons}" if message else reasons
    status: Literal["SUCCESS", "FAIL"] = "SUCCESS" if task.status == "SUCCESS" else "FAIL"
    return OfferCommandResult(offer_id=offer_id, status=status, message=message, command_id=command_id)
