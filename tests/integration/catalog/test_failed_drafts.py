"""A 202 create whose operation fails leaves an INACTIVE draft with our SKU (#11011, #9234): the retry
finishes that draft, and there is never a second offer for one SKU on one account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from allegro_sync.services.publishing.outcomes import RetryLater
from tests.integration.catalog.conftest import ACCOUNT, CatalogStack, upsert

pytestmark = pytest.mark.integration


@pytest.fixture
def failing_operations(stack: CatalogStack) -> Iterator[CatalogStack]:
    """Every create/edit answers 202 and its operation fails, until the test says otherwise."""
    stack.emulator.set_faults(async_offer_share=1.0, offer_operation_failure_rate=1.0)
    try:
        yield stack
    finally:
        stack.emulator.set_faults(async_offer_share=0.0, offer_operation_failure_rate=0.0)


def fail_create(stack: CatalogStack, sku: str) -> str:
    """Publish `sku` while operations fail: the event is to be retried; the id of the draft Allegro kept."""
    with pytest.raises(RetryLater):
        stack.app("catalog_worker").publisher().handle(upsert(sku))
    drafts = stack.offers(sku)
    assert [o["publication"]["status"] for o in drafts] == ["INACTIVE"]
    stack.emulator.set_faults(offer_operation_failure_rate=0.0)
    return str(drafts[0]["id"])


def test_the_retry_finishes_the_draft_a_failed_create_left(failing_operations: CatalogStack) -> None:
    stack = failing_operations
    draft_id = fail_create(stack, "DRAFT-01")

    stack.app("catalog_worker").publisher().handle(upsert("DRAFT-01"))  # SQS delivers the event again

    offers = stack.offers("DRAFT-01")
    assert [o["id"] for o in offers] == [draft_id]  # the draft, not a second offer
    assert offers[0]["publication"]["status"] == "ACTIVE"
    assert offers[0]["stock"]["available"] == 7
    link = stack.catalog.link("DRAFT-01", ACCOUNT)
    assert link is not None
    assert link.status is LinkStatus.PUBLISHED


def test_a_failed_link_without_the_draft_id_finds_the_draft_by_sku(failing_operations: CatalogStack) -> None:
    stack = failing_operations
    draft_id = fail_create(stack, "DRAFT-02")
    link = stack.catalog.link("DRAFT-02", ACCOUNT)
    assert link is not None
    # The link lost the id (an older release, a refusal recorded without it): only the SKU is left.
    stack.catalog.save_link(replace(link, offer_id=None, status=LinkStatus.FAILED, applied_key=""))

    stack.app("catalog_worker").publisher().handle(upsert("DRAFT-02"))

    assert [o["id"] for o in stack.offers("DRAFT-02")] == [draft_id]
    assert stack.offers("DRAFT-02")[0]["publication"]["status"] == "ACTIVE"
