"""The deployment lookup knows every DLQ; the functions' variables alone still find a deployment."""

from __future__ import annotations

import pytest

from allegro_sync.cli.deployment import find_environment, resource_variables
from allegro_sync.topology import TOPOLOGY, dlq_env


def test_every_queue_has_a_dlq_variable_matching_the_stack_output_key() -> None:
    names = resource_variables()
    for queue in TOPOLOGY.queues:
        assert dlq_env(queue.name) in names
    assert dlq_env("shop-events") == "QUEUE_SHOP_EVENTS_DLQ_URL"
    assert dlq_env("shop-events").replace("_", "") == "QUEUESHOPEVENTSDLQURL"  # infra/naming dlq_output_key


def test_function_variables_alone_still_find_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    for i, name in enumerate(resource_variables()):
        if name.endswith("_DLQ_URL"):
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, f"value-{i}")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "none")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "none")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "http://127.0.0.1:9")  # no stack readable
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    found = find_environment()

    assert found["TABLE_CONTROL"].startswith("value-")
    assert not any(name.endswith("_DLQ_URL") for name in found)
