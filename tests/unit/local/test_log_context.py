"""Functions running side by side in the local runtime log under their own names, as each Lambda does."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import threading
from typing import Any

from aws_lambda_powertools import Logger

from allegro_sync.local.invoker import LocalLambdaContext, own_log_context


def test_a_function_logs_under_its_own_name_while_another_starts_beside_it() -> None:
    out = io.StringIO()
    logger = Logger(service="log-context-test", logger_handler=logging.StreamHandler(out))
    first_started, second_started = threading.Event(), threading.Event()

    @logger.inject_lambda_context
    def first(event: Any, context: Any) -> None:
        first_started.set()
        second_started.wait(10)  # the other function's decorator has appended its keys meanwhile
        logger.info("from the first")

    @logger.inject_lambda_context
    def second(event: Any, context: Any) -> None:
        second_started.set()
        logger.info("from the second")

    def invoke(handler: Any, name: str) -> None:
        context = LocalLambdaContext(
            function_name=name, memory_limit_in_mb=256, timeout_seconds=60, region="x"
        )

        def run() -> None:
            own_log_context(context)  # what the invoker does in each invocation's own context
            handler({}, context)

        contextvars.copy_context().run(run)

    threads = [threading.Thread(target=invoke, args=(first, "first-fn"))]
    threads[0].start()
    first_started.wait(10)
    invoke(second, "second-fn")
    threads[0].join(10)

    lines = {json.loads(line)["message"]: json.loads(line) for line in out.getvalue().splitlines()}
    assert lines["from the first"]["function_name"] == "first-fn"
    assert lines["from the second"]["function_name"] == "second-fn"
    assert lines["from the first"]["function_request_id"] != lines["from the second"]["function_request_id"]
