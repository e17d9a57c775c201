"""A small HTTP API (payload format 2.0) in front of the in-process handlers, on 127.0.0.1.

It matches requests against the topology's RouteTriggers, builds the event API Gateway would send,
and writes the handler's answer back, including API Gateway's own answers: 404 for a request no
route matches, 413 for a body over the limit, 500 when the handler raises.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from allegro_sync.local.events import (
    HttpRequest,
    HttpResponse,
    http_api_v2_event,
    http_api_v2_response,
    json_error,
)
from allegro_sync.topology import Function, RouteTrigger

logger = logging.getLogger(__name__)

DEFAULT_BODY_LIMIT = 1024 * 1024  # 1 MiB: far below API Gateway's 10 MB, plenty for webhooks.

Invoke = Callable[[Function, dict[str, Any]], Any]


@dataclass(frozen=True)
class Route:
    trigger: RouteTrigger
    function: Function
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.trigger.method} {self.trigger.path}"


def compile_path(template: str) -> re.Pattern[str]:
    """`/oauth/{step}` -> one segment per parameter; `{proxy+}` swallows the rest of the path."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            regex += f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def match(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request; exact paths win over parameterised ones, as in API Gateway."""
    candidates = []
    for route in routes:
        if route.trigger.method != method:
            continue
        found = route.pattern.match(path)
        if found:
            candidates.append((route.trigger.path.count("{"), route, found.groupdict()))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[0])
    return candidates[0][1], candidates[0][2]


class HttpGateway:
    def __init__(
        self,
        routes: list[tuple[RouteTrigger, Function]],
        invoke: Invoke,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        body_limit: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self.routes = [Route(t, f, compile_path(t.path)) for t, f in routes]
        self._invoke = invoke
        self._body_limit = body_limit
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The whole gateway decision for one request, independent of the HTTP server."""
        found = match(self.routes, request.method, request.path)
        if found is None:
            return json_error(404, "Not Found")
        if len(request.body) > self._body_limit:
            return json_error(413, "Request Entity Too Large")
        route, params = found
        event = http_api_v2_event(request, route_key=route.key, path_parameters=params)
        try:
            result = self._invoke(route.function, event)
        except Exception:
            logger.exception("%s raised on %s", route.function.name, route.key)
            return json_error(500, "Internal Server Error")
        return http_api_v2_response(result)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        length = request.content_length
        if length is not None and length > self._body_limit:
            response = json_error(413, "Request Entity Too Large")
        else:
            body = request.stream.read(self._body_limit + 1)
            response = self.handle(
                HttpRequest(
                    method=request.method,
                    path=request.path,
                    raw_query=request.query_string.decode("latin-1"),
                    headers=[*request.headers.items(), *self._forwarded(request.remote_addr)],
                    body=body,
                    source_ip=request.remote_addr or "127.0.0.1",
                    protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                    host=request.host.split(":")[0],
                )
            )
        return Response(response.body, status=response.status, headers=response.headers)(
            environ, start_response
        )

    def _forwarded(self, client_ip: str | None) -> list[tuple[str, str]]:
        """The headers API Gateway adds (X-Forwarded-For is appended to, like a proxy chain)."""
        return [
            ("x-forwarded-for", client_ip or "127.0.0.1"),
            ("x-forwarded-port", str(self._server.port)),
            ("x-forwarded-proto", "http"),
        ]

    def start(self) -> str:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="gateway"
            )
            self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
