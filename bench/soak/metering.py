"""What AWS would bill for a soak run: every AWS API call, by the function (or poller) that made it."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import botocore.client
import httpx

from allegro_sync.local.invoker import Invoker
from allegro_sync.local.poller import POLLER_THREAD_PREFIX


class AwsMeter:
    """Counts every AWS API call made in a function (or by an event-source poller), as AWS bills them."""

    _BATCH_KEYS: ClassVar[dict[str, str]] = {
        "SendMessageBatch": "Entries",
        "DeleteMessageBatch": "Entries",
        "ChangeMessageVisibilityBatch": "Entries",
        "TransactWriteItems": "TransactItems",
        "TransactGetItems": "TransactItems",
    }

    def __init__(
        self, invoker: Invoker, consumers: Mapping[str, str], allegro_url: str | None = None
    ) -> None:
        self._invoker = invoker
        self._allegro = allegro_url  # requests to it are Allegro calls, counted per owner
        self.allegro_by_function: Counter[str] = Counter()
        self._consumers = dict(consumers)  # queue -> the function its event source invokes
        self._local = threading.local()  # `scope` per thread: the event-source poller's calls
        self.calls: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "items": 0})
        self.by_function: dict[str, Counter[str]] = defaultdict(Counter)
        # Items per owner too (issue 21): a BatchGetItem of 100 keys and one of 2 are not the same bill.
        self.items_by_function: dict[str, Counter[str]] = defaultdict(Counter)
        # Items read strongly consistent, per owner (issue 21): DynamoDB bills them twice an eventual read.
        self.consistent_by_function: dict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        self._local.scope = name
        try:
            yield
        finally:
            self._local.scope = None

    def owner(self) -> str | None:
        """Who pays for a call made on this thread now: the function running on it, or the poller's scope."""
        running = self._invoker.running_here()
        if running is not None:
            return running
        thread = threading.current_thread().name
        if thread.startswith(POLLER_THREAD_PREFIX):  # the event source's own receive/delete calls
            queue = thread.removeprefix(POLLER_THREAD_PREFIX).rsplit("-", 1)[0]
            return f"event-source:{self._consumers.get(queue, queue)}"
        return getattr(self._local, "scope", None)

    @contextmanager
    def installed(self) -> Iterator[None]:
        original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            owner = meter.owner()
            if owner is not None:
                key = f"{client.meta.service_model.endpoint_prefix}.{operation}"
                with meter._lock:
                    entry = meter.calls[key]
                    entry["calls"] += 1
                    items = _items(operation, params, meter._BATCH_KEYS)
                    entry["items"] += items
                    meter.by_function[owner][key] += 1
                    meter.items_by_function[owner][key] += items
                    if key.startswith("dynamodb."):
                        meter.consistent_by_function[owner][key] += _consistent(operation, params)
            return original(client, operation, params)

        original_send = httpx.Client.send

        def sent(client: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> httpx.Response:
            owner = meter.owner()
            if owner is not None and meter._allegro and str(request.url).startswith(meter._allegro):
                with meter._lock:
                    meter.allegro_by_function[owner] += 1
            return original_send(client, request, *args, **kwargs)

        botocore.client.BaseClient._make_api_call = metered
        httpx.Client.send = sent  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original
            httpx.Client.send = original_send  # type: ignore[method-assign]


def _items(operation: str, params: dict[str, Any], batch_keys: dict[str, str]) -> int:
    if operation in batch_keys:
        return len(params.get(batch_keys[operation], []))
    if operation == "BatchWriteItem":
        return sum(len(v) for v in params.get("RequestItems", {}).values())
    if operation == "BatchGetItem":
        return sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values())
    return 1


def _consistent(operation: str, params: dict[str, Any]) -> int:
    """Items a DynamoDB read asked for strongly consistent (a transaction always is); 0 for a write."""
    if operation in ("GetItem", "Query", "Scan"):
        return 1 if params.get("ConsistentRead") else 0
    if operation == "BatchGetItem":
        return sum(
            len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values() if v.get("ConsistentRead")
        )
    if operation == "TransactGetItems":
        return len(params.get("TransactItems", []))
    return 0
