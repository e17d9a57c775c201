"""Orders: the order event journal (Allegro has no webhooks: it is polled), checkout forms, carriers,
fulfillment status and shipments."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from allegro_sync.adapters.allegro.core import PAGE_LIMIT, AllegroCore, _dump, _segment
from allegro_sync.contracts.allegro import (
    AddShipment,
    Carrier,
    Carriers,
    CheckoutForm,
    CheckoutForms,
    FulfillmentStatus,
    FulfillmentUpdate,
    OrderEvent,
    OrderEvents,
    OrderEventStats,
    Shipment,
    Shipments,
)
from allegro_sync.contracts.allegro_errors import InvalidCommand

# Allegro's maximum page of GET /order/checkout-forms.
CHECKOUT_FORMS_LIMIT = 100


class OrdersApi(AllegroCore):
    """/order/events, /order/event-stats, /order/checkout-forms (+ fulfillment, shipments), carriers."""

    def order_events(
        self, from_id: str | None = None, *, limit: int = 100, types: Sequence[str] = ()
    ) -> list[OrderEvent]:
        """GET /order/events after `from_id`, oldest first (there are no webhooks: poll this)."""
        if not 1 <= limit <= PAGE_LIMIT:
            raise InvalidCommand(f"limit must be 1..{PAGE_LIMIT}, got {limit}")
        params = {"from": from_id, "limit": limit, "type": list(types)}
        return self._get("/order/events", OrderEvents, params).events

    def iter_order_events(self, from_id: str | None = None, *, max_pages: int = 10) -> Iterator[OrderEvent]:
        """Events after `from_id`, a page of 1000 at a time; bounded so one run cannot loop forever."""
        for _ in range(max_pages):
            events = self.order_events(from_id, limit=PAGE_LIMIT)
            yield from events
            if len(events) < PAGE_LIMIT:
                return
            from_id = events[-1].id

    def order_event_stats(self) -> OrderEventStats:
        return self._get("/order/event-stats", OrderEventStats)

    def checkout_forms(
        self,
        *,
        status: str | None = None,
        updated_at_gte: str | None = None,
        updated_at_lte: str | None = None,
        offset: int = 0,
        limit: int = CHECKOUT_FORMS_LIMIT,
    ) -> CheckoutForms:
        """GET /order/checkout-forms (up to 100 per page): back-fills orders whose events were missed."""
        params = {
            "status": status,
            "updatedAt.gte": updated_at_gte,
            "updatedAt.lte": updated_at_lte,
            "offset": offset,
            "limit": limit,
        }
        return self._get("/order/checkout-forms", CheckoutForms, params)

    def iter_checkout_forms(
        self, *, status: str | None = None, updated_at_gte: str | None = None, max_pages: int = 50
    ) -> Iterator[CheckoutForm]:
        """All orders changed since `updated_at_gte` (the back-fill for missed events), 100 per page."""
        offset = 0
        for _ in range(max_pages):
            page = self.checkout_forms(
                status=status, updated_at_gte=updated_at_gte, offset=offset, limit=CHECKOUT_FORMS_LIMIT
            )
            yield from page.checkout_forms
            offset += len(page.checkout_forms)
            if len(page.checkout_forms) < CHECKOUT_FORMS_LIMIT or offset >= page.total_count:
                return

    def checkout_form(self, checkout_form_id: str) -> CheckoutForm:
        return self._get(f"/order/checkout-forms/{_segment(checkout_form_id)}", CheckoutForm)

    def carriers(self) -> list[Carrier]:
        return self._get("/order/carriers", Carriers).carriers

    def set_fulfillment(
        self, checkout_form_id: str, status: FulfillmentStatus, *, revision: str | None = None
    ) -> None:
        """PUT .../fulfillment; with `revision`, a stale order answers 409 (AllegroConflict) instead."""
        self.request(
            "PUT",
            f"/order/checkout-forms/{_segment(checkout_form_id)}/fulfillment",
            params={"checkoutForm.revision": revision},
            json_body=_dump(FulfillmentUpdate(status=status)),
            language="en-US",  # the spec allows only en-US here
        )

    def add_shipment(self, checkout_form_id: str, shipment: AddShipment) -> Shipment:
        response = self.request(
            "POST", f"/order/checkout-forms/{_segment(checkout_form_id)}/shipments", json_body=_dump(shipment)
        )
        return Shipment.model_validate(response.json())

    def shipments(self, checkout_form_id: str) -> list[Shipment]:
        return self._get(f"/order/checkout-forms/{_segment(checkout_form_id)}/shipments", Shipments).shipments
