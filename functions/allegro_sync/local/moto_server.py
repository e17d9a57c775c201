"""moto's server on 127.0.0.1, on a free port, quiet, resettable between tests."""

from __future__ import annotations

import logging

import httpx
from moto.server import ThreadedMotoServer


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the moto server is not running")
        return self._endpoint

    def start(self) -> str:
        if self._endpoint is None:
            # moto logs every request through werkzeug; the runtime's own logs are what matter.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self._endpoint = f"http://{host}:{port}"
        return self._endpoint

    def reset(self) -> None:
        """Forget every resource: a fresh AWS account, without the cost of a new server."""
        reset(self.endpoint)

    def stop(self) -> None:
        if self._endpoint is not None:
            self._server.stop()
            self._endpoint = None


def reset(endpoint: str) -> None:
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
