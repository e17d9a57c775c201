"""Per-call overhead of AllegroClient: headers, rate guard, retries bookkeeping, logging, pydantic parsing.

Two measurements, each against a bare httpx.Client doing the same request:
- in-process MockTransport (pure client overhead, no network);
- the local emulator on 127.0.0.1 (what a call costs end to end, validation off so the server is cheap).

Run: .venv/bin/python -m bench.client_overhead [calls]   (default 2000; the emulator run uses calls/10)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import httpx

from allegro_sync.adapters.allegro.client import MEDIA_TYPE, AllegroClient
from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.rate_guard import InMemoryBlockedUntilStore, RateGuard
from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator
from bench._results import record
from bench._seller import IssuedToken

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

ME_BODY = b'{"id":"1","login":"bench","firstName":"B","lastName":"C","email":"b@example.com"}'


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e6


def compare(
    bare: Callable[[], object], client: Callable[[], object], calls: int
) -> tuple[float, float, float]:
    """Interleaved rounds (bare, client, bare, client...) so load from other processes hits both alike.

    Returns medians of: bare us/call, client us/call, and the per-round difference.
    """
    for _ in range(min(200, calls)):
        bare()
        client()
    rounds = [(per_call_us(bare, calls), per_call_us(client, calls)) for _ in range(7)]
    return (
        statistics.median(b for b, _ in rounds),
        statistics.median(c for _, c in rounds),
        statistics.median(c - b for b, c in rounds),
    )


def mock_transport(calls: int) -> tuple[float, float, float]:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ME_BODY, headers={"content-type": MEDIA_TYPE, "trace-id": "t"})

    env = AllegroEnvironment("https://api.bench", "https://upload.bench", "https://site.bench")
    raw = httpx.Client(transport=httpx.MockTransport(handler))
    headers = {"Authorization": "Bearer x", "Accept": MEDIA_TYPE}
    client = AllegroClient(
        env,
        IssuedToken("x"),
        account="bench",
        rate_guard=RateGuard(InMemoryBlockedUntilStore(), rpm_budget=10**9),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    return compare(lambda: raw.get("https://api.bench/me", headers=headers).json(), client.me, calls)


def emulator(calls: int) -> tuple[float, float, float]:
    with Emulator(port=0, validate=False) as emu:
        emu.create_seller("bench")
        token = str(emu.issue_tokens("bench")["access_token"])
        env = AllegroEnvironment(emu.base_url, emu.base_url, emu.base_url)
        raw = httpx.Client()
        headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE, **UA}
        client = AllegroClient(
            env,
            IssuedToken(token),
            account="bench",
            rate_guard=RateGuard(InMemoryBlockedUntilStore(), rpm_budget=10**9),
        )
        emu.set_faults(requests_per_minute=10**9)
        return compare(lambda: raw.get(f"{emu.base_url}/me", headers=headers).json(), client.me, calls)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    figures: dict[str, dict[str, float]] = {}
    for name, run, n in (
        ("MockTransport", mock_transport, calls),
        ("emulator 127.0.0.1", emulator, calls // 10),
    ):
        bare, client, overhead = run(n)
        print(
            f"{name:<20} bare httpx {bare:8.1f} us/call   AllegroClient {client:8.1f} us/call   "
            f"overhead {overhead:7.1f} us/call  (median of 7 interleaved rounds x {n} calls)"
        )
        figures[name] = {
            "bare_us": round(bare, 1),
            "client_us": round(client, 1),
            "overhead_us": round(overhead, 1),
        }
    record("client_overhead", figures)


if __name__ == "__main__":
    main()
