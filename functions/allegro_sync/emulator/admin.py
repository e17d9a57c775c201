"""The emulator's admin API (`/__emulator/...`, JSON, never recorded nor spec-checked) and its client.

The demo and the CLI run the emulator in another process; this is how they play the seller in the
browser, the buyer and the clock without reaching into its memory.

Routes (JSON in and out; 400 with {"error", "message"} on bad input, which changes nothing):
  GET  /__emulator/ (this list) | /health | /state | /violations | /faults | /offers/{id} | /refreshes/{login}
  POST /__emulator/sellers {login, company?} | /seed {sellers: [...]} | /tokens {login, client_id?}
       /sign-in {login} | /clock/advance {seconds} | /rate-limit/reset
       /device/approve {user_code, login} | /device/deny {user_code} | /authorize/approve {login, request_id?}
       /disconnect {login} | /buy {offer_id, quantity?, buyer_login?, marketplace?} | /pay {checkout_form_id}
       /cancel {checkout_form_id, auto?} | /pay-together {checkout_form_ids}
       /modify {checkout_form_id, city?}
       /visits {offer_id, visits, watchers?}
       /campaigns {offer_id, price, campaign_id?, name?} | /campaigns/end {offer_id}
       /return-parcel {checkout_form_id}
       /customer-returns {checkout_form_id, items: {line_item_id: quantity}, reason?} -> {id}
       /customer-returns/advance {return_id, status}
       /buyer-messages {checkout_form_id, text} -> {thread_id, message_id}
       /issues {checkout_form_id, text, type?} -> {id} | /issues/message {issue_id, text} -> {id}
       /issues/close {issue_id}
  GET  /__emulator/threads/{id} (read flag and messages, as the seller's panel shows them)
  PUT  /__emulator/faults {name: value, ...}
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse

if TYPE_CHECKING:
    from allegro_sync.emulator import Emulator

PREFIX = "/__emulator"


def _ok(body: Any, status: int = 200) -> EmulatorResponse:
    return EmulatorResponse(status, body, {"Content-Type": "application/json"})


def _done(action: Callable[[], object]) -> EmulatorResponse:
    action()
    return _ok({"ok": True})


def _field(body: dict[str, Any], name: str, kind: type = str) -> Any:
    if name not in body:
        raise KeyError(f"missing field {name!r}")
    value = body[name]
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise TypeError(f"field {name!r} must be {kind.__name__}")
    return value


def _ids(body: dict[str, Any], name: str) -> list[str]:
    value = _field(body, name, list)
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"field {name!r} must be a list of strings")
    return list(value)


class AdminApi:
    """Routes admin requests to the `Emulator` handle; bad input answers 400 and changes nothing."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        route = request.path[len(PREFIX) :].rstrip("/")
        body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
        if request.method == "GET" and route == "":
            return _ok(self.index())
        action = self._routes().get((request.method, route))
        if action is not None:
            return action(body)
        for (method, prefix), prefixed in self._prefix_routes().items():
            if request.method == method and route.startswith(prefix) and len(route) > len(prefix):
                return prefixed(route.removeprefix(prefix))
        return EmulatorResponse(
            404, {"error": "not_found", "message": f"no admin route {request.method} {route}"}
        )

    def _routes(self) -> dict[tuple[str, str], Callable[[dict[str, Any]], EmulatorResponse]]:
        em = self.emulator
        return {
            ("GET", "/health"): lambda _: _ok({"ok": True}),
            ("GET", "/state"): lambda _: _ok(self.state()),
            ("GET", "/violations"): lambda _: _ok([v.__dict__ for v in em.violations]),
            ("POST", "/sellers"): self._create_seller,
            ("POST", "/seed"): self._seed,
            ("POST", "/tokens"): lambda b: _ok(
                em.issue_tokens(_field(b, "login"), b.get("client_id", em.default_app.client_id))
            ),
            ("POST", "/sign-in"): lambda b: _done(lambda: em.sign_in(_field(b, "login"))),
            ("POST", "/clock/advance"): self._advance,
            ("GET", "/faults"): lambda _: _ok(em.faults()),
            ("PUT", "/faults"): lambda b: _ok(em.set_faults(**b)),
            ("PATCH", "/faults"): lambda b: _ok(em.set_faults(**b)),
            ("POST", "/rate-limit/reset"): lambda _: _done(em.reset_rate_limit),
            ("POST", "/device/approve"): lambda b: _done(
                lambda: em.approve_device(_field(b, "user_code"), _field(b, "login"))
            ),
            ("POST", "/device/deny"): lambda b: _done(lambda: em.deny_device(_field(b, "user_code"))),
            ("POST", "/authorize/approve"): lambda b: _ok(
                {"location": em.approve_authorization(_field(b, "login"), b.get("request_id"))}
            ),
            ("POST", "/disconnect"): lambda b: _done(lambda: em.disconnect(_field(b, "login"))),
            ("POST", "/buy"): self._buy,
            ("POST", "/visits"): lambda b: _done(
                lambda: em.marketplace.add_visits(
                    _field(b, "offer_id"), int(b.get("visits", 0)), int(b.get("watchers", 0))
                )
            ),
            ("POST", "/pay"): lambda b: _done(lambda: em.marketplace.pay(_field(b, "checkout_form_id"))),
            ("POST", "/pay-together"): lambda b: _ok(
                {"checkout_form_ids": em.marketplace.pay_together(*_ids(b, "checkout_form_ids"))}
            ),
            ("POST", "/modify"): lambda b: _done(
                lambda: em.marketplace.modify(
                    _field(b, "checkout_form_id"), city=str(b.get("city", "Kraków"))
                )
            ),
            ("POST", "/cancel"): lambda b: _done(
                lambda: em.marketplace.cancel(_field(b, "checkout_form_id"), auto=bool(b.get("auto", False)))
            ),
            # issue 14, items 6-7 (allegro-misc)
            ("POST", "/campaigns"): lambda b: _done(
                lambda: em.marketplace.start_campaign(
                    _field(b, "offer_id"),
                    _field(b, "price"),
                    campaign_id=str(b.get("campaign_id", "SUBSIDY")),
                    name=str(b.get("name", "Allegro Ceny")),
                )
            ),
            ("POST", "/campaigns/end"): lambda b: _done(
                lambda: em.marketplace.end_campaign(_field(b, "offer_id"))
            ),
            ("POST", "/return-parcel"): lambda b: _done(
                lambda: em.marketplace.return_parcel(_field(b, "checkout_form_id"))
            ),
            # issue 15, item 3 (returns): the buyer sends items back, the parcel travels
            ("POST", "/customer-returns"): lambda b: _ok(
                {
                    "id": em.marketplace.open_return(
                        _field(b, "checkout_form_id"),
                        {str(k): int(v) for k, v in _field(b, "items", dict).items()},
                        reason=str(b.get("reason", "DONT_LIKE_IT")),
                    )
                }
            ),
            ("POST", "/customer-returns/advance"): lambda b: _done(
                lambda: em.marketplace.advance_return(_field(b, "return_id"), _field(b, "status"))
            ),
            # issue 15, item 4 (messages): the buyer writes, opens a dispute or claim
            ("POST", "/buyer-messages"): lambda b: _ok(
                dict(
                    zip(
                        ("thread_id", "message_id"),
                        em.marketplace.buyer_writes(_field(b, "checkout_form_id"), _field(b, "text")),
                        strict=True,
                    )
                )
            ),
            ("POST", "/issues"): lambda b: _ok(
                {
                    "id": em.marketplace.open_issue(
                        _field(b, "checkout_form_id"), _field(b, "text"), kind=str(b.get("type", "DISPUTE"))
                    )
                }
            ),
            ("POST", "/issues/message"): lambda b: _ok(
                {"id": em.marketplace.buyer_writes_in_issue(_field(b, "issue_id"), _field(b, "text"))}
            ),
            ("POST", "/issues/close"): lambda b: _done(
                lambda: em.marketplace.close_issue(_field(b, "issue_id"))
            ),
        }

    def _prefix_routes(self) -> dict[tuple[str, str], Callable[[str], EmulatorResponse]]:
        em = self.emulator
        return {
            ("GET", "/offers/"): lambda offer_id: _ok(em.marketplace.offer(offer_id)),
            ("GET", "/refreshes/"): lambda login: _ok(em.refresh_counters(login).__dict__),
            ("GET", "/threads/"): lambda thread_id: _ok(em.marketplace.thread(thread_id)),  # issue 15, item 4
        }

    def index(self) -> dict[str, Any]:
        """GET /__emulator/: every admin route, so a developer finds them without reading this file."""
        fixed = [f"{method} {PREFIX}{path}" for method, path in self._routes()]
        prefixed = [f"{method} {PREFIX}{path}{{id}}" for method, path in self._prefix_routes()]
        return {
            "routes": sorted(fixed + prefixed),
            "default_client_id": self.emulator.default_app.client_id,
            "help": "JSON in and out; bad input answers 400 and changes nothing",
        }

    def _create_seller(self, body: dict[str, Any]) -> EmulatorResponse:
        login = _field(body, "login")
        seller_id = self.emulator.create_seller(login, company=bool(body.get("company", True)))
        return _ok({"login": login, "seller_id": seller_id}, 201)

    def _seed(self, body: dict[str, Any]) -> EmulatorResponse:
        sellers = body.get("sellers", [])
        if not isinstance(sellers, list) or not all(isinstance(s, dict) for s in sellers):
            raise TypeError("sellers must be a list of {login, company}")
        logins = [_field(s, "login") for s in sellers]
        if len(set(logins)) != len(logins):
            raise ValueError("duplicate logins")
        ids = [self.emulator.create_seller(s["login"], company=bool(s.get("company", True))) for s in sellers]
        return _ok({"seller_ids": ids})

    def _advance(self, body: dict[str, Any]) -> EmulatorResponse:
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        self.emulator.advance(float(seconds))
        return _ok({"now": self.emulator.clock.now().isoformat()})

    def _buy(self, body: dict[str, Any]) -> EmulatorResponse:
        quantity = body.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValueError("quantity must be an integer >= 1")
        form_id = self.emulator.marketplace.buy(
            _field(body, "offer_id"),
            quantity,
            buyer_login=str(body.get("buyer_login", "kupujacy-1")),
            marketplace=str(body.get("marketplace", "allegro-pl")),
        )
        return _ok({"checkout_form_id": form_id}, 201)

    def state(self) -> dict[str, Any]:
        em = self.emulator
        state: dict[str, Any] = {
            "now": em.clock.now().isoformat(),
            "base_url": em.base_url,
            "requests": em.app.request_count,
            "violations": len(em.violations),
            "faults": em.faults(),
            "default_client_id": em.default_app.client_id,
        }
        snapshot = getattr(em.marketplace, "snapshot", None)
        if callable(snapshot):
            state["marketplace"] = snapshot()
        return state


class EmulatorAdminError(Exception):
    """The admin API refused a request (bad input or unknown object)."""


class EmulatorAdmin:
    """A small client for the admin API, for the CLI, the demo and tests in another process."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=10)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"{PREFIX}{path}", json=body)
        if response.status_code >= 400:
            raise EmulatorAdminError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def health(self) -> bool:
        return bool(self._call("GET", "/health")["ok"])

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/state"))

    def create_seller(self, login: str, *, company: bool = True) -> str:
        return str(self._call("POST", "/sellers", {"login": login, "company": company})["seller_id"])

    def issue_tokens(self, login: str, client_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"login": login}
        if client_id:
            body["client_id"] = client_id
        return dict(self._call("POST", "/tokens", body))

    def sign_in(self, login: str) -> None:
        self._call("POST", "/sign-in", {"login": login})

    def advance(self, seconds: float) -> datetime:
        return datetime.fromisoformat(self._call("POST", "/clock/advance", {"seconds": seconds})["now"])

    def faults(self) -> dict[str, Any]:
        return dict(self._call("GET", "/faults"))

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        return dict(self._call("PUT", "/faults", changes))

    def reset_rate_limit(self) -> None:
        self._call("POST", "/rate-limit/reset")

    def approve_device(self, user_code: str, login: str) -> None:
        self._call("POST", "/device/approve", {"user_code": user_code, "login": login})

    def deny_device(self, user_code: str) -> None:
        self._call("POST", "/device/deny", {"user_code": user_code})

    def approve_authorization(self, login: str, request_id: str | None = None) -> str:
        body: dict[str, Any] = {"login": login}
        if request_id:
            body["request_id"] = request_id
        return str(self._call("POST", "/authorize/approve", body)["location"])

    def disconnect(self, login: str) -> None:
        self._call("POST", "/disconnect", {"login": login})

    def refreshes(self, login: str) -> dict[str, int]:
        return dict(self._call("GET", f"/refreshes/{login}"))

    def buy(self, offer_id: str, quantity: int = 1, **options: str) -> str:
        """`options`: `buyer_login` (kupujacy-1), `marketplace` (allegro-pl)."""
        body = {"offer_id": offer_id, "quantity": quantity, **options}
        return str(self._call("POST", "/buy", body)["checkout_form_id"])

    def pay(self, checkout_form_id: str) -> None:
        self._call("POST", "/pay", {"checkout_form_id": checkout_form_id})

    def pay_together(self, *checkout_form_ids: str) -> list[str]:
        body = {"checkout_form_ids": list(checkout_form_ids)}
        return [str(i) for i in self._call("POST", "/pay-together", body)["checkout_form_ids"]]

    def modify(self, checkout_form_id: str, *, city: str = "Kraków") -> None:
        self._call("POST", "/modify", {"checkout_form_id": checkout_form_id, "city": city})

    def cancel(self, checkout_form_id: str, *, auto: bool = False) -> None:
        self._call("POST", "/cancel", {"checkout_form_id": checkout_form_id, "auto": auto})

    def offer(self, offer_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/offers/{offer_id}"))

    def add_visits(self, offer_id: str, visits: int, watchers: int = 0) -> None:
        self._call("POST", "/visits", {"offer_id": offer_id, "visits": visits, "watchers": watchers})

    def start_campaign(self, offer_id: str, price: str, *, campaign_id: str = "SUBSIDY") -> None:
        self._call("POST", "/campaigns", {"offer_id": offer_id, "price": price, "campaign_id": campaign_id})

    def end_campaign(self, offer_id: str) -> None:
        self._call("POST", "/campaigns/end", {"offer_id": offer_id})

    def violations(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/violations"))

    # --- issue 15, item 3 (returns) ---
    def open_return(
        self, checkout_form_id: str, items: dict[str, int], *, reason: str = "DONT_LIKE_IT"
    ) -> str:
        body = {"checkout_form_id": checkout_form_id, "items": items, "reason": reason}
        return str(self._call("POST", "/customer-returns", body)["id"])

    def advance_return(self, return_id: str, status: str) -> None:
        self._call("POST", "/customer-returns/advance", {"return_id": return_id, "status": status})

    # --- issue 15, item 4 (messages) ---
    def buyer_writes(self, checkout_form_id: str, text: str) -> tuple[str, str]:
        """The order's buyer writes to the seller: (thread id, message id)."""
        body = self._call("POST", "/buyer-messages", {"checkout_form_id": checkout_form_id, "text": text})
        return str(body["thread_id"]), str(body["message_id"])

    def open_issue(self, checkout_form_id: str, text: str, *, kind: str = "DISPUTE") -> str:
        body = {"checkout_form_id": checkout_form_id, "text": text, "type": kind}
        return str(self._call("POST", "/issues", body)["id"])

    def buyer_writes_in_issue(self, issue_id: str, text: str) -> str:
        return str(self._call("POST", "/issues/message", {"issue_id": issue_id, "text": text})["id"])

    def thread(self, thread_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/threads/{thread_id}"))
