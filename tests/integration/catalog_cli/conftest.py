"""The catalogue's operator commands against the local runtime (moto) and the Allegro emulator.

The CLI runs in-process through typer's CliRunner and finds the deployment as an operator's laptop does
(`AWS_ENDPOINT_URL` set, no stack: the local runtime's names). Waiting for the worker drains the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner, Result

from allegro_sync.adapters.dynamodb.catalog import DynamoCatalog
from allegro_sync.adapters.dynamodb.mappings import DynamoMappings
from allegro_sync.cli import catalog_cmd
from allegro_sync.cli.main import app
from allegro_sync.emulator import Emulator
from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.local.moto_server import reset
from tests.fixtures.emulator import checked_emulator, connect_sellers
from tests.fixtures.stack import unpaced_application

ACCOUNT = "shop1"
SELLER = "seller-one"
DEMO = Path(__file__).resolve().parents[3] / "demo"


@dataclass
class Stack:
    runtime: LocalRuntime
    emulator: Emulator
    catalog: DynamoCatalog
    mappings: DynamoMappings

    def cli(self, *args: str) -> Result:
        """One `allegro-sync ...` invocation; the environment it fills in is forgotten afterwards."""
        with mock.patch.dict(os.environ):
            return CliRunner().invoke(app, list(args), catch_exceptions=False)

    def queued(self) -> int:
        """Messages still on `shop-events` (visible or in flight)."""
        attributes = self.runtime.client("sqs").get_queue_attributes(
            QueueUrl=self.runtime.wiring.queues["shop-events"].url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


@contextmanager
def running_stack(moto_endpoint: str) -> Iterator[Stack]:
    """A fresh runtime + emulator with `shop1` connected through the real device flow."""
    with checked_emulator() as emulator:
        reset(moto_endpoint)
        runtime = LocalRuntime(
            aws_endpoint=moto_endpoint,
            allegro_urls=AllegroUrls.single(emulator.base_url),
            make_application=unpaced_application,
        )
        saved = (catalog_cmd.sleep,)
        try:
            runtime.start()
            connect_sellers(emulator, runtime, {ACCOUNT: SELLER})
            # Waiting for the worker = letting the local runtime drain `shop-events`.
            catalog_cmd.sleep = lambda seconds: runtime.drain(timeout=30)
            worker = runtime.application("catalog_worker")
            yield Stack(
                runtime=runtime,
                emulator=emulator,
                catalog=DynamoCatalog(worker.table("catalog")),
                mappings=DynamoMappings(worker.table("mappings")),
            )
        finally:
            (catalog_cmd.sleep,) = saved
            runtime.stop()


@pytest.fixture
def stack(moto_endpoint: str) -> Iterator[Stack]:
    with running_stack(moto_endpoint) as built:
        yield built
