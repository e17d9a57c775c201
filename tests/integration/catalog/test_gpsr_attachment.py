"""GPSR safety information as a file the shop gives (a URL in the product's attributes): uploaded once per
account through /sale/offer-attachments and named on the offer; a file that cannot be used, and a product
with no safety information at all, wait with their own reason in `products status`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from allegro_sync.contracts.catalog import LinkStatus
from tests.integration.catalog.conftest import ACCOUNT, SELLER, CatalogStack, upsert

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.4 instrukcja bezpieczenstwa"


@pytest.fixture(scope="module")
def catalog_env() -> dict[str, str]:
    return {"OFFER_SETTINGS": json.dumps({"require_responsible_producer": True})}


@pytest.fixture
def shop_files() -> Iterator[tuple[str, list[str]]]:
    """The shop's files on 127.0.0.1: /safety.pdf is a PDF, /photo.txt is not; every GET is counted."""
    served: list[str] = []

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            body = {"/safety.pdf": PDF, "/photo.txt": b"just text"}.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", served
    server.shutdown()


def _producer(stack: CatalogStack) -> None:
    stack.emulator.marketplace.add_responsible(
        stack.emulator.seller_id(SELLER), "responsibleProducers", "Zelmer"
    )


def test_a_safety_file_from_the_shop_goes_on_the_offer_as_an_attachment_uploaded_once(
    stack: CatalogStack, shop_files: tuple[str, list[str]]
) -> None:
    base, served = shop_files
    _producer(stack)
    attributes = {"Stan": "Nowy", "Producent": "Zelmer", "Safety information file": f"{base}/safety.pdf"}

    stack.publish(upsert("GPSR-FILE-1", attributes=attributes), upsert("GPSR-FILE-2", attributes=attributes))

    attachments = {
        k: a
        for k, a in stack.emulator.marketplace.state.attachments.items()
        if a["file"]["name"] == "safety.pdf"
    }
    assert len(attachments) == 1
    assert served == ["/safety.pdf"]
    (ident,) = attachments
    for sku in ("GPSR-FILE-1", "GPSR-FILE-2"):
        link = stack.catalog.link(sku, ACCOUNT)
        assert link is not None
        assert link.status is LinkStatus.PUBLISHED, link
        shown = stack.offer(sku)["productSet"][0]["safetyInformation"]
        assert shown == {"type": "ATTACHMENTS", "attachments": [{"id": ident}]}
    assert attachments[ident]["file"]["name"] == "safety.pdf"
    assert stack.emulator.violations == []


def test_a_safety_file_that_is_gone_or_not_a_document_waits_with_that_reason(
    stack: CatalogStack, shop_files: tuple[str, list[str]]
) -> None:
    base, _ = shop_files
    _producer(stack)

    stack.publish(
        upsert(
            "GPSR-GONE",
            attributes={
                "Stan": "Nowy",
                "Producent": "Zelmer",
                "Safety information file": f"{base}/missing.pdf",
            },
        ),
        upsert(
            "GPSR-TEXT",
            attributes={"Stan": "Nowy", "Producent": "Zelmer", "Safety information": f"{base}/photo.txt"},
        ),
    )

    gone = " ".join(stack.cli("products", "status", "GPSR-GONE").output.split())
    text = " ".join(stack.cli("products", "status", "GPSR-TEXT").output.split())
    assert "cannot be used: the shop answered 404" in gone
    assert "cannot be used: not a PDF, JPEG or PNG file" in text
    assert not stack.offers("GPSR-GONE")
    assert not stack.offers("GPSR-TEXT")
    uploaded = {a["file"]["name"] for a in stack.emulator.marketplace.state.attachments.values()}
    assert not uploaded & {"missing.pdf", "photo.txt"}  # nothing uploaded for them


def test_a_product_with_a_producer_but_no_safety_information_waits_with_its_own_reason(
    stack: CatalogStack,
) -> None:
    _producer(stack)

    stack.publish(upsert("GPSR-NO-SAFETY", attributes={"Stan": "Nowy", "Producent": "Zelmer"}))

    shown = " ".join(stack.cli("products", "status", "GPSR-NO-SAFETY").output.split())
    assert "no safety information (add a 'Safety information' attribute in the shop" in shown
    assert "no responsible producer" not in shown
    assert not stack.offers("GPSR-NO-SAFETY")
    waiting = stack.catalog.link("GPSR-NO-SAFETY", ACCOUNT)
    assert waiting is not None
    assert waiting.status is LinkStatus.WAITING
