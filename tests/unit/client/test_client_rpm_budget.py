"""The topology's Allegro budget: every caller capped, and the worst case well under Allegro's limit."""

from __future__ import annotations

import pytest

from allegro_sync.topology import (
    ALLEGRO_CLIENT_RPM_LIMIT,
    ALLEGRO_RPM_BUDGET_ENV,
    TOPOLOGY,
    Function,
    Topology,
)


def test_topology_worst_case_stays_under_80_percent_of_allegro_limit() -> None:
    assert TOPOLOGY.allegro_rpm_total() <= 0.8 * ALLEGRO_CLIENT_RPM_LIMIT


def test_every_allegro_caller_has_its_budget_in_its_static_environment() -> None:
    for function in TOPOLOGY.functions:
        if function.allegro_rpm:
            assert function.environment[ALLEGRO_RPM_BUDGET_ENV] == str(function.allegro_rpm)
            assert function.reserved_concurrency, function.name


def test_budget_lands_in_environment_next_to_other_settings() -> None:
    function = Function("w", "x", reserved_concurrency=3, allegro_rpm=500, environment={"A": "1"})
    assert function.environment == {"A": "1", ALLEGRO_RPM_BUDGET_ENV: "500"}
    assert function.allegro_rpm_at_full_concurrency == 1500


def test_function_without_allegro_calls_gets_no_budget_entry() -> None:
    assert ALLEGRO_RPM_BUDGET_ENV not in Function("h", "x").environment


def test_an_uncapped_allegro_caller_is_refused() -> None:
    topology = Topology((), (), (), (Function("w", "x", allegro_rpm=100),))
    with pytest.raises(ValueError, match="reserved_concurrency"):
        topology.allegro_rpm_total()


def test_over_budget_topology_is_detected() -> None:
    hungry = Function("w", "x", reserved_concurrency=10, allegro_rpm=800)
    assert Topology((), (), (), (hungry,)).allegro_rpm_total() > 0.8 * ALLEGRO_CLIENT_RPM_LIMIT


def test_negative_budget_is_rejected() -> None:
    with pytest.raises(ValueError, match="allegro_rpm"):
        Function("w", "x", allegro_rpm=-1)
