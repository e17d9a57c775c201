"""Requests per second the Allegro emulator sustains on 127.0.0.1, with spec validation on and off.

Two calls the system makes most: GET /sale/categories (read) and PUT a quantity-change command
(write with a JSON body). N client threads, each with its own keep-alive connection, send a bounded
number of requests; the rate limit is lifted so nothing is refused. Also prints the in-process
cost of validating one request/response pair, the share the spec check adds per call.

Run: .venv/bin/python -m bench.emulator_throughput [requests_per_case] [threads]   (defaults 1000 8)
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse
from allegro_sync.emulator.validation import MEDIA_TYPE, validator_for
from bench._results import record

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

Call = Callable[[httpx.Client], httpx.Response]


def categories(http: httpx.Client) -> httpx.Response:
    return http.get("/sale/categories")


def quantity_command(http: httpx.Client) -> httpx.Response:
    body = {
        "modification": {"changeType": "FIXED", "value": 5},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": "1000000001"}]}],
    }
    return http.put(
        f"/sale/offer-quantity-change-commands/{uuid.uuid4()}",
        content=json.dumps(body),
        headers={"Content-Type": MEDIA_TYPE},
    )


def run(emulator: Emulator, token: str, call: Call, total: int, threads: int) -> tuple[float, dict[int, int]]:
    """Requests per second over `total` calls spread across `threads`, and the status counts."""
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE, **UA}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    per_thread = total // threads

    def worker() -> None:
        with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
            for _ in range(per_thread):
                status = call(http).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return per_thread * threads / elapsed, statuses


def validation_cost_ms(repeats: int = 300) -> float:
    """Median milliseconds to check one GET request and its 200 answer in-process."""
    validator = validator_for()
    request = EmulatorRequest("GET", "/sale/categories", {}, {"accept": MEDIA_TYPE})
    body = {"categories": [{"id": "1", "name": "Elektronika", "leaf": False}]}
    response = EmulatorResponse(200, body, {"Content-Type": MEDIA_TYPE})
    raw = json.dumps(body).encode()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        validator.request_errors(request)
        validator.response_errors(request, response, raw)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    print(f"{total} requests per case, {threads} threads, 127.0.0.1")
    figures: dict[str, float] = {}
    for validate in (True, False):
        with Emulator(validate=validate, rate_limit=10**9) as emulator:
            emulator.create_seller("bench")
            token = str(emulator.issue_tokens("bench")["access_token"])
            for name, call in (
                ("GET /sale/categories", categories),
                ("PUT quantity command", quantity_command),
            ):
                run(emulator, token, call, threads * 5, threads)  # warm-up: connections, caches
                rate, statuses = run(emulator, token, call, total, threads)
                mode = "validation on " if validate else "validation off"
                print(f"{mode}  {name:<22} {rate:8.0f} req/s   statuses {dict(sorted(statuses.items()))}")
                figures[f"{mode.strip()}: {name}"] = round(rate)
            if emulator.violations:
                print(f"  ({len(emulator.violations)} spec violations seen, first: {emulator.violations[0]})")
    validation_ms = validation_cost_ms()
    print(f"in-process validation of one request+response pair: {validation_ms:.2f} ms (median)")
    record("emulator_throughput", {"requests_per_s": figures, "validation_ms": round(validation_ms, 3)})


if __name__ == "__main__":
    main()
