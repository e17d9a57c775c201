"""moto's server on 127.0.0.1, on a free port, quiet, resettable: one per process, or in a process of its own.

In AWS, DynamoDB, SQS and Secrets Manager do not run on the functions' interpreter. In one process moto
does: under load (the soak) moto's request handling was in about a third of that interpreter's sampled
stacks and its HTTP serving in a fifth more, so every function waited for AWS's own work. `MotoProcess`
runs the same patched server beside the runtime, on the machine's other core.
"""

from __future__ import annotations

import atexit
import logging
import subprocess
import sys
import threading

import httpx
from moto.server import ThreadedMotoServer

from allegro_sync.local import moto_patches


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
            moto_patches.apply()  # atomic requests, transactions without whole-table copies (see the module)
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


class MotoProcess:
    """moto's patched server in a child process; it ends when this process closes its stdin (or dies)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    def start(self) -> MotoProcess:
        paths = [p for p in sys.path if p]  # the child imports this package as this process does
        code = (
            f"import sys; sys.path[:0] = {paths!r}; from allegro_sync.local.moto_server import serve; serve()"
        )
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter, our own code
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.endpoint = self._process.stdout.readline().strip()
        if not self.endpoint.startswith("http://"):
            self.stop()
            raise RuntimeError("moto's server process did not start")
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.stdin is not None:
            process.stdin.close()  # the child's signal to stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve() -> None:
    """The child's side of `MotoProcess`: serve on a free port, say where, stop when stdin closes."""
    server = MotoServer()
    print(server.start(), flush=True)
    sys.stdin.read()  # EOF: the parent stopped us, or died
    server.stop()


def reset(endpoint: str) -> None:
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()


class _Shared:
    """Holder of the process's one moto server (a class attribute instead of a `global`)."""

    server: MotoServer | None = None
    lock = threading.Lock()


def shared_server(port: int = 0) -> MotoServer:
    """The moto server every LocalRuntime of this process uses, started on first use.

    One endpoint per process matters: handler modules create boto3 clients at import time and
    keep the endpoint they saw, so a second server on another port would strand them.
    """
    with _Shared.lock:
        if _Shared.server is None:
            server = MotoServer(port=port)
            server.start()
            atexit.register(server.stop)
            _Shared.server = server
        elif port and not _Shared.server.endpoint.endswith(f":{port}"):
            raise RuntimeError(
                f"moto already runs at {_Shared.server.endpoint} in this process, not on port {port}"
            )
        return _Shared.server
