"""A small HTTP server on 127.0.0.1 in a background thread, for the stand-ins the local world serves over a
real socket (the demo's shop, the tests' fake shops), so the functions' own httpx clients reach them as they
would reach a real shop: `with Server(...) as server: server.url`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that answers with one body and keeps stderr clean (the callers report for it)."""

    def send_body(
        self, status: int, raw: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], *, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


class Answering(Protocol):
    """A fake remote API: (method, target, headers, body) -> (status, JSON[, headers])."""

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]: ...


class AnswerServer(LoopbackServer):
    """A fake API on a real 127.0.0.1 socket: the Lambda code's own httpx client talks to it."""

    def __init__(self, fake: Answering) -> None:
        class Handler(QuietHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = fake.answer(self.command, self.path, dict(self.headers.items()), body)
                extra = answer[2] if len(answer) > 2 else {}
                self.send_body(answer[0], json.dumps(answer[1]).encode(), "application/json", extra)

            do_GET = do_POST = do_PUT = _serve

        super().__init__(Handler)
