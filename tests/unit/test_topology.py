from __future__ import annotations

import importlib

import pytest

from allegro_sync.topology import (
    TOPOLOGY,
    VISIBILITY_TIMEOUT_FACTOR,
    QueueTrigger,
    queue_env,
    secret_env,
    table_env,
)


def test_every_function_has_an_importable_handler() -> None:
    for function in TOPOLOGY.functions:
        module = importlib.import_module(function.module)
        assert callable(module.handler), function.name


def test_every_reference_names_a_declared_resource() -> None:
    tables = {t.name for t in TOPOLOGY.tables}
    queues = {q.name for q in TOPOLOGY.queues}
    secrets = {s.name for s in TOPOLOGY.secrets}
    for function in TOPOLOGY.functions:
        assert set(function.tables) <= tables, function.name
        assert set(function.secrets) <= secrets, function.name
        assert set(function.sends_to) <= queues, function.name
        for trigger in function.triggers:
            if isinstance(trigger, QueueTrigger):
                assert trigger.queue in queues, function.name


def test_names_are_unique() -> None:
    for group in (TOPOLOGY.tables, TOPOLOGY.queues, TOPOLOGY.secrets, TOPOLOGY.functions):
        names = [item.name for item in group]
        assert len(names) == len(set(names))


def test_a_queue_has_at_most_one_consumer_and_its_visibility_covers_six_timeouts() -> None:
    for queue in TOPOLOGY.queues:
        consumers = [
            f
            for f in TOPOLOGY.functions
            for t in f.triggers
            if isinstance(t, QueueTrigger) and t.queue == queue.name
        ]
        assert len(consumers) <= 1, queue.name
        if consumers:
            assert (
                TOPOLOGY.visibility_timeout_seconds(queue.name)
                >= VISIBILITY_TIMEOUT_FACTOR * consumers[0].timeout_seconds
            )


def test_environment_names_follow_the_contract() -> None:
    assert table_env("control") == "TABLE_CONTROL"
    assert queue_env("shop-events") == "QUEUE_SHOP_EVENTS_URL"
    assert secret_env("app-credentials") == "SECRET_APP_CREDENTIALS"


def test_unknown_names_fail_loudly() -> None:
    with pytest.raises(KeyError, match="no 'nope'"):
        TOPOLOGY.table("nope")
