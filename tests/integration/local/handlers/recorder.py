"""Records every event and the settings it ran with; answers what the event asks for.

For HTTP: `GET /plain` returns a bare dict (API Gateway's JSON shortcut), `/boom` raises, anything
else returns the event itself in a structured response with a header and a cookie.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from allegro_sync.bootstrap import application

CALLS: list[dict[str, Any]] = []
_called = threading.Condition()


def wait_for_calls(count: int, timeout: float) -> bool:
    """Block until the handler has run `count` times (for background loops); False on timeout."""
    with _called:
        return _called.wait_for(lambda: len(CALLS) >= count, timeout)


def handler(event: dict[str, Any], context: Any) -> Any:
    CALLS.append(
        {
            "event": event,
            "settings": application().settings,
            "function_name": context.function_name,
            "memory": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "request_id": context.aws_request_id,
        }
    )
    with _called:
        _called.notify_all()
    path = event.get("rawPath")
    if path is None:
        return {"seen": len(CALLS)}
    if path == "/plain":
        return {"hello": "world"}
    if path == "/boom":
        raise RuntimeError("handler bug")
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "cookies": ["session=abc; HttpOnly", "theme=dark"],
        "body": json.dumps(event),
    }
