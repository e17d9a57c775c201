"""Every boto3 call a benchmark makes, by operation, and the time spent in them (moto's here, the network's
in AWS), so a bench can tell its own code's time from AWS's and count what a run costs."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from botocore.client import BaseClient


class AwsCalls:
    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self.seconds = 0.0
        original = BaseClient._make_api_call

        def counted(client: Any, operation: str, params: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                self.seconds += time.perf_counter() - started
                self.by_operation[operation] += 1

        BaseClient._make_api_call = counted

    @property
    def calls(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()
        self.seconds = 0.0
