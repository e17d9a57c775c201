"""The emulated Allegro marketplace: catalogue, offers, commands, price automation, orders and pricing.

The HTTP server (routing, OAuth, rate limits, spec validation) hands every authenticated request to
`Marketplace.handle`; `None` means "not a marketplace route" so the server can answer 404 itself.
The rules live in `market/*` modules over one `MarketState`; this class owns the lock (the server is
threaded), the routing table and who may call what: a client_credentials token (no seller) reaches
public data only and gets 403 elsewhere; only company accounts may manage offers (#11003).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from allegro_sync.emulator.market import (
    attachments,
    automation,
    bulk,
    campaigns,
    catalogue,
    commands,
    gpsr,
    invoices,
    marketplaces,
    messaging,
    offers,
    orders,
    pricing,
    refunds,
    returns,
    shipments,
)
from allegro_sync.emulator.market.catalogue import Catalogue
from allegro_sync.emulator.market.common import BASE_MARKETPLACE, Reject, ok, parse_decimal
from allegro_sync.emulator.market.offers import offer_view
from allegro_sync.emulator.market.state import Faults, MarketState, Seller
from allegro_sync.emulator.types import Clock, EmulatorRequest, EmulatorResponse

__all__ = ["Faults", "Marketplace"]

Handler = Callable[..., EmulatorResponse]
PUBLIC, USER, COMPANY = "public", "user", "company"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    access: str


def _route(method: str, template: str, handler: Handler, access: str) -> Route:
    regex = re.sub(r"\{[^}]+\}", r"([^/]+)", template)
    return Route(method, re.compile(f"^{regex}$"), handler, access)


def _kind(handler: Callable[..., EmulatorResponse], kind: str) -> Handler:
    def bound(st: MarketState, request: EmulatorRequest, command_id: str) -> EmulatorResponse:
        return handler(st, request, kind, command_id)

    return bound


def _me(st: MarketState, request: EmulatorRequest) -> EmulatorResponse:
    assert request.seller_id is not None
    seller = st.sellers[request.seller_id]
    body: dict[str, Any] = {
        "id": seller.id,
        "login": seller.login,
        "firstName": "Jan",
        "lastName": "Sprzedawca",
        "email": f"{seller.login}@example.com",
        "baseMarketplace": {"id": BASE_MARKETPLACE},
        "features": [],
    }
    if seller.company:
        body["company"] = {"name": f"{seller.login} sp. z o.o.", "taxId": "5250000000"}
    return ok(body)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/me", _me, USER),
    # catalogue (public data: an app token is enough, FACTS "client_credentials")
    _route("GET", "/sale/categories", catalogue.list_categories, PUBLIC),
    _route("GET", "/sale/categories/{id}", catalogue.get_category, PUBLIC),
    _route("GET", "/sale/categories/{id}/parameters", catalogue.category_parameters, PUBLIC),
    _route("GET", "/sale/matching-categories", catalogue.matching_categories, PUBLIC),
    _route("GET", "/order/carriers", orders.carriers, PUBLIC),
    _route("GET", "/sale/products", catalogue.search_products, USER),
    _route("GET", "/sale/products/{id}", catalogue.get_product, USER),
    _route("POST", "/sale/images", catalogue.upload_image, COMPANY),
    # offers
    _route("POST", "/sale/product-offers", offers.create_offer, COMPANY),
    _route("GET", "/sale/product-offers/{id}", offers.get_offer, USER),
    _route("PATCH", "/sale/product-offers/{id}", offers.patch_offer, COMPANY),
    _route("GET", "/sale/product-offers/{id}/operations/{op}", offers.get_operation, USER),
    _route("GET", "/sale/offers", offers.list_offers, USER),
    _route("GET", "/sale/offer-events", offers.offer_events, USER),
    # batch commands
    _route("PUT", "/sale/offer-quantity-change-commands/{id}", commands.put_quantity, COMPANY),
    _route("GET", "/sale/offer-quantity-change-commands/{id}", _kind(commands.get_report, "quantity"), USER),
    _route(
        "GET", "/sale/offer-quantity-change-commands/{id}/tasks", _kind(commands.get_tasks, "quantity"), USER
    ),
    _route("PUT", "/sale/offer-price-change-commands/{id}", commands.put_price, COMPANY),
    _route("GET", "/sale/offer-price-change-commands/{id}", _kind(commands.get_report, "price"), USER),
    _route("GET", "/sale/offer-price-change-commands/{id}/tasks", _kind(commands.get_tasks, "price"), USER),
    _route("PUT", "/sale/offer-publication-commands/{id}", commands.put_publication, COMPANY),
    _route("GET", "/sale/offer-publication-commands/{id}", _kind(commands.get_report, "publication"), USER),
    _route(
        "GET", "/sale/offer-publication-commands/{id}/tasks", _kind(commands.get_tasks, "publication"), USER
    ),
    # price automation
    _route("GET", "/sale/price-automation/rules", automation.list_rules, USER),
    _route("POST", "/sale/price-automation/rules", automation.create_rule, COMPANY),
    _route("GET", "/sale/price-automation/rules/{id}", automation.get_rule, USER),
    _route("GET", "/sale/price-automation/offers/{id}/rules", automation.offer_rules, USER),
    _route("POST", "/sale/offer-price-automation-commands", automation.post_command, COMPANY),
    _route("GET", "/sale/offer-price-automation-commands/{id}", automation.get_command, USER),
    _route("GET", "/sale/offer-price-automation-commands/{id}/tasks", automation.get_command_tasks, USER),
    _route("POST", "/pricing/offer-fee-preview", pricing.fee_preview, USER),
    # orders
    _route("GET", "/order/events", orders.list_events, USER),
    _route("GET", "/order/event-stats", orders.event_stats, USER),
    _route("GET", "/order/checkout-forms", orders.list_forms, USER),
    _route("GET", "/order/checkout-forms/{id}", orders.get_form, USER),
    _route("PUT", "/order/checkout-forms/{id}/fulfillment", orders.put_fulfillment, USER),
    _route("GET", "/order/checkout-forms/{id}/shipments", orders.list_shipments, USER),
    _route("POST", "/order/checkout-forms/{id}/shipments", orders.add_shipment, USER),
    # campaigns (issue 14, item 7): the only place the API shows a campaign price
    _route("GET", "/sale/badges", campaigns.list_badges, USER),
    # EU product safety (issue 16, item 2): each seller's own responsible producers and persons
    _route("GET", "/sale/responsible-producers", gpsr.list_producers, USER),
    _route("POST", "/sale/responsible-producers", gpsr.create_producer, USER),
    _route("GET", "/sale/responsible-producers/{id}", gpsr.get_producer, USER),
    _route("GET", "/sale/responsible-persons", gpsr.list_persons, USER),
    _route("POST", "/sale/responsible-persons", gpsr.create_person, USER),
    # issue 16 (gpsr2): offer attachments and the bulk price/stock command
    _route("POST", "/sale/offer-attachments", attachments.create, COMPANY),
    _route("PUT", "/sale/offer-attachments/{id}", attachments.upload, COMPANY),
    _route("GET", "/sale/offer-attachments/{id}", attachments.get, USER),
    _route("POST", "/sale/offer-bulk-modification-commands", bulk.post_command, COMPANY),
    _route("GET", "/sale/offer-bulk-modification-commands/{id}", bulk.get_report, USER),
    _route("GET", "/sale/offer-bulk-modification-commands/{id}/tasks", bulk.get_tasks, USER),
    # foreign marketplaces (issue 16, item 1): allegro.cz, .sk and .hu from the same offers
    _route("GET", "/marketplaces", marketplaces.list_marketplaces, PUBLIC),
    # issue 15, item 3: customer returns (BETA media type), payment refunds, commission refund claims
    _route("GET", "/order/customer-returns", returns.list_returns, USER),
    _route("GET", "/order/customer-returns/{id}", returns.get_return, USER),
    _route("POST", "/order/customer-returns/{id}/rejection", returns.reject_return, USER),
    _route("POST", "/payments/refunds", refunds.initiate, USER),
    _route("GET", "/payments/refunds", refunds.list_refunds, USER),
    _route("POST", "/order/refund-claims", refunds.create_claim, USER),
    _route("GET", "/order/refund-claims", refunds.list_claims, USER),
    _route("GET", "/order/refund-claims/{id}", refunds.get_claim, USER),
    # Ship with Allegro (issue 15, item 1): shipments, labels, cancellations, pickups
    _route("GET", "/shipment-management/delivery-services", shipments.delivery_services, USER),
    _route("POST", "/shipment-management/shipments/create-commands", shipments.create_shipment, USER),
    _route("GET", "/shipment-management/shipments/create-commands/{id}", shipments.create_status, USER),
    _route("POST", "/shipment-management/shipments/cancel-commands", shipments.cancel_shipment, USER),
    _route("GET", "/shipment-management/shipments/cancel-commands/{id}", shipments.cancel_status, USER),
    _route("GET", "/shipment-management/shipments/{id}", shipments.get_shipment, USER),
    _route("POST", "/shipment-management/label", shipments.label, USER),
    _route("POST", "/shipment-management/protocol", shipments.protocol, USER),
    _route("POST", "/shipment-management/pickup-proposals", shipments.pickup_proposals, USER),
    _route("POST", "/shipment-management/pickups/create-commands", shipments.create_pickup, USER),
    _route("GET", "/shipment-management/pickups/create-commands/{id}", shipments.pickup_status, USER),
    _route("GET", "/shipment-management/pickups/{id}", shipments.get_pickup, USER),
    # seller invoices on orders (issue 15, item 2)
    _route("GET", "/order/checkout-forms/{id}/invoices", invoices.list_invoices, USER),
    _route("POST", "/order/checkout-forms/{id}/invoices", invoices.add_invoice, USER),
    _route("PUT", "/order/checkout-forms/{id}/invoices/{invoice}/file", invoices.upload_file, USER),
    # buyer messages and post-purchase issues (issue 15, item 4)
    _route("GET", "/messaging/threads", messaging.list_threads, USER),
    _route("GET", "/messaging/threads/{id}", messaging.get_thread, USER),
    _route("PUT", "/messaging/threads/{id}/read", messaging.mark_read, USER),
    _route("GET", "/messaging/threads/{id}/messages", messaging.list_messages, USER),
    _route("POST", "/messaging/threads/{id}/messages", messaging.reply_in_thread, USER),
    _route("POST", "/messaging/messages", messaging.new_message, USER),
    _route("GET", "/sale/issues", messaging.list_issues, USER),
    _route("GET", "/sale/issues/{id}", messaging.get_issue, USER),
    _route("GET", "/sale/issues/{id}/chat", messaging.issue_chat, USER),
    _route("POST", "/sale/issues/{id}/message", messaging.issue_message, USER),
)


class Marketplace:
    """All marketplace state behind one lock; the buyer side and the clock are driven by tests/demo."""

    def __init__(self, clock: Clock, *, rng: random.Random | None = None, seed: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.state = MarketState(clock=clock, rng=rng or random.Random(0), catalogue=Catalogue(seed))

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def faults(self) -> Faults:
        """Fault knobs; set attributes directly or through the emulator's `set_faults`."""
        return self.state.faults

    # ------------------------------------------------------------------ API

    def handle(self, request: EmulatorRequest) -> EmulatorResponse | None:
        """Answer one API request, or None when the route is not the marketplace's."""
        for route in ROUTES:
            match = route.pattern.match(request.path)
            if match is None or route.method != request.method.upper():
                continue
            with self._lock:
                self.state.run_due()
                try:
                    self._authorize(request, route.access)
                    return route.handler(self.state, request, *match.groups())
                except Reject as rejected:
                    return rejected.response()
        return None

    def _authorize(self, request: EmulatorRequest, access: str) -> None:
        if access == PUBLIC:
            return
        if request.seller_id is None:
            raise Reject.one(
                403,
                "ACCESS_DENIED",
                "This resource needs a user token: a client_credentials token reaches public data only",
            )
        seller = self.state.sellers.get(request.seller_id)
        if seller is None:  # a seller the server authenticated but nobody registered here
            seller = self.state.sellers[request.seller_id] = Seller(
                request.seller_id, True, request.seller_id
            )
        if access == COMPANY and not seller.company:
            raise Reject.one(
                403, "ACCESS_DENIED", "Only company accounts may manage offers (#11003)", path="seller"
            )

    # ------------------------------------------------------------ test & demo side

    def add_seller(self, seller_id: str, *, company: bool = True, login: str | None = None) -> None:
        with self._lock:
            self.state.sellers[seller_id] = Seller(seller_id, company, login or seller_id)

    def buy(
        self,
        offer_id: str,
        quantity: int = 1,
        *,
        buyer_login: str = "kupujacy-1",
        marketplace: str = "allegro-pl",
    ) -> str:
        """A buyer purchases `quantity` items on `marketplace` (in its currency): returns the checkout form id
        (KeyError/ValueError if not)."""
        with self._lock:
            self.state.run_due()
            return orders.buy(self.state, offer_id, quantity, buyer_login, marketplace)

    def pay(self, checkout_form_id: str) -> None:
        with self._lock:
            self.state.run_due()
            orders.pay(self.state, checkout_form_id)

    def pay_together(self, *checkout_form_ids: str) -> list[str]:
        """A combined payment: one NEW form replaces the purchases (#1111); returns the paid form id(s)."""
        with self._lock:
            self.state.run_due()
            return orders.pay_together(self.state, list(checkout_form_ids))

    def modify(self, checkout_form_id: str, *, city: str = "Kraków") -> None:
        """The buyer edits the delivery address (BUYER_MODIFIED), before or after payment (#3730)."""
        with self._lock:
            self.state.run_due()
            orders.modify(self.state, checkout_form_id, city=city)

    def surcharge(self, checkout_form_id: str, amount: str) -> None:
        """A paid order gets a surcharge: a second READY_FOR_PROCESSING for the same form (#2087)."""
        with self._lock:
            self.state.run_due()
            orders.surcharge(self.state, checkout_form_id, Decimal(amount))

    def cancel(self, checkout_form_id: str, *, auto: bool = False) -> None:
        with self._lock:
            self.state.run_due()
            orders.cancel(self.state, checkout_form_id, auto=auto)

    def offer(self, offer_id: str) -> dict[str, Any]:
        """The offer as GET product-offers shows it (archived ones too: this is the back door)."""
        with self._lock:
            self.state.run_due()
            found = self.state.offers.get(offer_id)
            if found is None:
                raise KeyError(f"offer {offer_id} not found")
            return offer_view(self.state, found)

    def add_visits(self, offer_id: str, visits: int, watchers: int = 0) -> None:
        """Shoppers looking at an offer: feeds the 30-day `stats` of `GET /sale/offers`."""
        if visits < 0 or watchers < 0:
            raise ValueError("visits and watchers must be >= 0")
        with self._lock:
            found = self.state.offers.get(offer_id)
            if found is None:
                raise KeyError(f"offer {offer_id} not found")
            found.visits += visits
            found.watchers += watchers

    # --- issue 14, items 6-7 (allegro-misc): what Allegro does on its own ------------------------------

    def return_parcel(self, checkout_form_id: str) -> None:
        """The parcel came back: Allegro sets RETURNED itself (a seller cannot)."""
        with self._lock:
            orders.return_parcel(self.state, checkout_form_id)

    def start_campaign(
        self, offer_id: str, amount: str, *, campaign_id: str = "SUBSIDY", name: str = "Allegro Ceny"
    ) -> None:
        """Allegro puts the offer into a campaign: buyers pay `amount`, price rules pause (#13617, #9578)."""
        with self._lock:
            found = self.state.offers.get(offer_id)
            if found is None:
                raise KeyError(f"offer {offer_id} not found")
            parsed = parse_decimal(amount)
            if parsed is None:
                raise ValueError(f"price {amount!r} is not an amount")
            campaigns.start(self.state, found, parsed, campaign_id, name)

    def end_campaign(self, offer_id: str) -> None:
        with self._lock:
            found = self.state.offers.get(offer_id)
            if found is None:
                raise KeyError(f"offer {offer_id} not found")
            campaigns.finish(self.state, found)

    def add_responsible(self, seller_id: str, kind: str, name: str) -> str:
        """A producer ("responsibleProducers") or person ("responsiblePersons") the seller set up in Sales
        Center; answers its id."""
        with self._lock:
            return gpsr.add(self.state, seller_id, kind, name)

    def responsible(self, seller_id: str, kind: str) -> list[dict[str, Any]]:
        """The seller's producers or persons, as `GET /sale/responsible-producers|persons` lists them."""
        with self._lock:
            return gpsr.listed(self.state, seller_id, kind)

    # --- issue 15, item 3 (returns): the buyer sends items back -----------------------------------------

    def open_return(
        self, checkout_form_id: str, items: dict[str, int], *, reason: str = "DONT_LIKE_IT"
    ) -> str:
        """The buyer registers a return of `items` (line item id -> quantity); answers the return id."""
        with self._lock:
            return returns.open_return(self.state, checkout_form_id, items, reason)

    def advance_return(self, return_id: str, status: str) -> None:
        """The returned parcel moves on: DISPATCHED, IN_TRANSIT, DELIVERED (at the seller), FINISHED, ..."""
        with self._lock:
            returns.advance_return(self.state, return_id, status)

    def refunds_of(self, checkout_form_id: str) -> list[dict[str, Any]]:
        """Every payment refund of the order, as `GET /payments/refunds` shows them."""
        with self._lock:
            self.state.run_due()
            return [
                refunds._shown(r) for r in self.state.refunds.values() if r["order"]["id"] == checkout_form_id
            ]

    def want_invoice(self, checkout_form_id: str) -> None:
        """The buyer asks for an invoice (issue 15, item 2): the form's `invoice.required` is true."""
        with self._lock:
            self.state.checkout_forms[checkout_form_id].invoice_required = True

    # --- issue 15, item 4 (messages): the buyer writes, opens a dispute or claim ---

    def buyer_writes(self, checkout_form_id: str, text: str) -> tuple[str, str]:
        """The order's buyer writes to the seller: (thread id, message id)."""
        with self._lock:
            return messaging.buyer_writes(self.state, checkout_form_id, text)

    def open_issue(self, checkout_form_id: str, text: str, *, kind: str = "DISPUTE") -> str:
        with self._lock:
            return messaging.open_issue(self.state, checkout_form_id, kind, text)

    def buyer_writes_in_issue(self, issue_id: str, text: str) -> str:
        with self._lock:
            return messaging.buyer_writes_in_issue(self.state, issue_id, text)

    def close_issue(self, issue_id: str) -> None:
        with self._lock:
            messaging.close_issue(self.state, issue_id)

    def thread(self, thread_id: str) -> dict[str, Any]:
        """A thread as the seller's panel shows it: its read flag and every message (oldest first)."""
        with self._lock:
            found = self.state.inbox.threads[thread_id]
            return {
                "id": found.id,
                "read": found.read,
                "messages": [messaging._shown(m) for m in found.messages],
            }

    def process_due(self) -> None:
        """Finish asynchronous work (operations, command tasks, delayed events) whose time has come."""
        with self._lock:
            self.state.run_due()

    def snapshot(self) -> dict[str, Any]:
        """Counts for the emulator's admin `/state` page."""
        with self._lock:
            st = self.state
            return {
                "sellers": len(st.sellers),
                "offers": len(st.offers),
                "checkout_forms": len(st.checkout_forms),
                "order_events": len(st.order_events),
                "commands": len(st.commands),
                "pending_work": st.pending(),
            }
