"""Functions running side by side in the local runtime log under their own names, as each Lambda does."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import threading
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from allegro_sync.local.invoker import LocalLambdaContext, name_invocations, own_log_context


@pytest.mark.parametrize("clear_state", [False, True])
def test_a_function_logs_under_its_own_name_while_another_starts_beside_it(clear_state: bool) -> None:
    """With `clear_state=True` (most of our handlers) Powertools also clears the context's log keys when the
    handler starts: keys set there before it did not last, and the soak's lines named other functions."""
    out = io.StringIO()
    logger = Logger(service=f"log-context-test-{clear_state}", logger_handler=logging.StreamHandler(out))
    name_invocations(logger)  # what the invoker does for each handler module's logger
    first_started, second_started = threading.Event(), threading.Event()

    @logger.inject_lambda_context(clear_state=clear_state)
    def first(event: Any, context: Any) -> None:
        first_started.set()
        second_started.wait(10)  # the other function's decorator has appended its keys meanwhile
        logger.thread_safe_append_keys(checkout_form_id="F-1")
        logger.info("from the first")

    @logger.inject_lambda_context(clear_state=clear_state)
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
    assert lines["from the first"]["checkout_form_id"] == "F-1"  # the handler's own keys still count
