"""The client's attachment upload and bulk stock command against the emulator, spec validation on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.contracts.bulk import BulkModification, StockChange
from allegro_sync.contracts.gpsr import SafetyFile
from allegro_sync.emulator import Emulator
from tests.integration.client.test_client_emulator import EmulatorTokens, emulator_client, offer_body

pytestmark = pytest.mark.integration


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AllegroClient]:
    emulator.create_seller("sklep-gpsr2")
    with emulator_client(emulator, EmulatorTokens(emulator, "sklep-gpsr2")) as client:
        yield client


def test_a_safety_manual_is_declared_then_uploaded_to_the_url_allegro_gives(client: AllegroClient) -> None:
    made = client.upload_safety_manual(
        SafetyFile(name="instrukcja.pdf", media_type="application/pdf", data=b"%PDF-1.7 bezpieczenstwo")
    )

    assert made.type == "SAFETY_INFORMATION_MANUAL"
    assert made.file is not None
    assert made.file.url


def test_a_bulk_command_repeated_under_the_same_id_runs_once(
    client: AllegroClient, emulator: Emulator
) -> None:
    first = client.create_product_offer(offer_body("SKU-B1")).id
    second = client.create_product_offer(offer_body("SKU-B2")).id
    command = "0b7f6a6e-4c1d-4f7a-9a0e-0a1b2c3d4e5f"
    mods = [
        BulkModification(offer_id=first, stock=StockChange(value=2)),
        BulkModification(offer_id=second, stock=StockChange(value=7)),
    ]

    done = client.bulk_modify(command, mods)
    emulator.marketplace.buy(first)  # stock 2 -> 1
    again = client.bulk_modify(command, mods)  # a redelivered event: 409, the first run's tasks

    assert [r.status for r in done] == ["SUCCESS", "SUCCESS"]
    assert [r.status for r in again] == ["SUCCESS", "SUCCESS"]
    assert emulator.marketplace.offer(first)["stock"]["available"] == 1  # not set to 2 a second time
    assert emulator.marketplace.offer(second)["stock"]["available"] == 7
