"""A cold start imports what the function uses: httpx, Powertools' idempotency utility and the batch
utility are imported where they are used, never by a handler module just for being imported.

Each handler is imported in a fresh interpreter (this process has long imported everything) and its
`sys.modules` is read there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from allegro_sync.topology import TOPOLOGY, Function, QueueTrigger

ROOT = Path(__file__).resolve().parents[3]
# Imported on first use only: httpx by the clients that call Allegro or a shop; nh3 by the description
# cleaner; Powertools' idempotency utility by nothing the functions ship today (a handler adopting it
# imports it where it is used).
# The shop platforms' webhook adapters: one seller uses one platform, so each route imports its platform's
# adapter when it parses (adapters/shop/platforms.py names what the handlers need before that).
PLATFORM_ADAPTERS = tuple(
    f"allegro_sync.adapters.shop.{name}" for name in ("generic", "woocommerce", "shopify", "prestashop")
)
NEVER_AT_IMPORT = ("httpx", "nh3", "aws_lambda_powertools.utilities.idempotency", *PLATFORM_ADAPTERS)
# Powertools' batch utility: a queue consumer builds its processor at import, nothing else needs it.
BATCH = "aws_lambda_powertools.utilities.batch"


# One fresh interpreter imports every handler in turn, those that consume no queue first, and reports after
# each import which watched packages are loaded: a package appears first after the handler that pulled it in.
PROBE = """
import json, sys
watched = json.loads(sys.argv[1])
for module in sys.argv[2:]:
    __import__(module)
    loaded = [w for w in watched if any(m == w or m.startswith(w + ".") for m in sys.modules)]
    print(json.dumps([module, loaded]))
"""


def _first_importers(
    order: list[Function] | None = None, watched_names: tuple[str, ...] = (*NEVER_AT_IMPORT, BATCH)
) -> dict[str, set[str]]:
    """handler name -> watched packages loaded once it was imported (after the handlers before it)."""
    order = order or sorted(TOPOLOGY.functions, key=_consumes_a_queue)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    watched = json.dumps(watched_names)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE, watched, *(f.module for f in order)],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return {module.rsplit(".", 1)[-1]: set(loaded) for module, loaded in lines}


def _consumes_a_queue(function: Function) -> bool:
    return any(isinstance(t, QueueTrigger) for t in function.triggers)


def test_handler_modules_import_only_what_their_cold_start_needs() -> None:
    loaded = _first_importers()
    assert set(loaded) == {f.name for f in TOPOLOGY.functions}  # the probe imported every handler
    problems = {name: sorted(packages & set(NEVER_AT_IMPORT)) for name, packages in loaded.items()}
    assert {name: p for name, p in problems.items() if p} == {}
    # Queue consumers are imported last, so batch loaded before them came from a handler with no queue.
    quiet = [f.name for f in TOPOLOGY.functions if not _consumes_a_queue(f)]
    assert quiet, "the topology has handlers that consume no queue"
    assert [name for name in quiet if BATCH in loaded[name]] == []


# Built on first use, never at a cold start: every pydantic model of the package (`defer_build=True`, and
# no model instance or TypeAdapter use at import), and Powertools' parser models (queue records are parsed
# with `adapters/sqs_records.QueueRecord`; Powertools' batch imports its parser's Kinesis, DynamoDB and
# Kafka models when pydantic is loaded before it, so a consumer must load the batch utility first).
BUILT_PROBE = """
import sys
for module in sys.argv[1:]:
    __import__(module)
from pydantic import BaseModel
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
complete = [c for c in subclasses(BaseModel) if c.__dict__.get("__pydantic_complete__")]
built = {f"{c.__module__}.{c.__qualname__}" for c in complete}
parser = sorted(m for m in sys.modules if m.startswith("aws_lambda_powertools.utilities.parser"))
print(" ".join(sorted(built) + parser[:1]))
"""


def _built_at_import(*modules: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", BUILT_PROBE, *modules],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return result.stdout.split()


def test_no_handler_builds_a_model_of_the_package_at_import() -> None:
    built = _built_at_import(*(f.module for f in TOPOLOGY.functions))
    assert [name for name in built if name.startswith("allegro_sync.")] == []


def test_queue_consumers_do_not_load_powertools_parser_models() -> None:
    consumers = [f for f in TOPOLOGY.functions if _consumes_a_queue(f)]
    assert consumers, "the topology has queue consumers"
    assert {f.name: found for f in consumers if (found := _built_at_import(f.module))} == {}


# Allegro's request and response models (contracts/allegro.py, about a third of `import boto3`): built at
# import only by the handlers listed, whose every run calls Allegro with them. The stock ledger once pulled
# them into every function that books stock, through the returns' restock statuses
# (contracts/return_status.py now).
ALLEGRO_MODELS = "allegro_sync.contracts.allegro"
ALLEGRO_MODELS_AT_IMPORT = {"repricer"}


def test_allegro_models_are_imported_only_by_handlers_whose_every_run_calls_allegro() -> None:
    order = sorted(TOPOLOGY.functions, key=lambda f: f.name in ALLEGRO_MODELS_AT_IMPORT)  # those last
    loaded = _first_importers(order, (ALLEGRO_MODELS,))
    assert set(loaded) >= ALLEGRO_MODELS_AT_IMPORT, "the allowed handlers are in the topology"
    assert [name for name, found in loaded.items() if found and name not in ALLEGRO_MODELS_AT_IMPORT] == []


# A delivery on one platform's route imports that platform's adapter and no other's.
ROUTE_PROBE = """
import json, sys, types
from allegro_sync.handlers import shop_webhook
from allegro_sync.adapters.shop import http_request as http
route = getattr(http, sys.argv[1])
secrets = types.SimpleNamespace(generic=["s"], woocommerce=["s"], secrets=["s"])  # Shopify's: `secrets`
try:
    route.parse({}, b"{}", secrets, 0.0, 300, lambda: None)
except Exception as exc:  # unsigned: refused, after its adapter was imported
    refused = type(exc).__name__
print(json.dumps([refused, sorted(m for m in sys.modules if m in json.loads(sys.argv[2]))]))
"""


def test_a_webhook_route_imports_only_its_own_platforms_adapter() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    loaded = {}
    for route in ("GENERIC", "WOOCOMMERCE", "SHOPIFY"):
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", ROUTE_PROBE, route, json.dumps(PLATFORM_ADAPTERS)],
            env=env, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        loaded[route] = json.loads(result.stdout)
    shop = "allegro_sync.adapters.shop"
    assert loaded == {
        "GENERIC": ["WebhookRejected", [f"{shop}.generic"]],
        "WOOCOMMERCE": ["WebhookRejected", [f"{shop}.woocommerce"]],
        "SHOPIFY": ["WebhookRejected", [f"{shop}.shopify"]],
    }
