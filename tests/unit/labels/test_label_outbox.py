"""Issue 15, item 1: a stored label goes to the shop outbox under one message id, whatever crashes."""

from __future__ import annotations

import pytest

from allegro_sync.contracts.messages import OrderLabel
from allegro_sync.services.labels import Labels
from tests.unit.labels.test_labels import FORM, RULE, Crash, FakeAllegro, FakeBook, FakeFiles, FakeTracking


class Outbox:
    def __init__(self) -> None:
        self.sent: list[OrderLabel] = []

    def publish_label(self, message: OrderLabel) -> None:
        self.sent.append(message)


@pytest.mark.parametrize("dies_after", [None, "ordering", "bought", "stored", "tracked"])
def test_the_shop_is_told_of_the_label_under_one_message_id(dies_after: str | None) -> None:
    api, book, files, outbox = FakeAllegro(), FakeBook(), FakeFiles(), Outbox()
    labels = Labels(api, book, files, FakeTracking(), account="acc-1", sleep=lambda _: None, outbox=outbox)
    book.crash_after_state = dies_after

    if dies_after is not None:
        with pytest.raises(Crash):
            labels.ship(FORM, RULE)
    labels.ship(FORM, RULE)
    labels.ship(FORM, RULE)  # a duplicate delivery of the shop's status

    assert {m.message_id for m in outbox.sent} == {f"label:{FORM}:1"}  # the notifier delivers an id once
    assert outbox.sent[0].label_key == f"labels/{FORM}/1.pdf"
    assert outbox.sent[0].waybill == "W-s-1"
    assert len(outbox.sent) <= 2  # sent again only when the crash came between the send and `stored`
