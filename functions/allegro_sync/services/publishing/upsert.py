"""ProductUpsert: the shop's product becomes (or updates) an offer on one account.

A new offer is created once: the link is marked before the create, so a crash between Allegro's answer and
the saved link makes the retry adopt the offer found by its SKU instead of listing the product twice. An
existing offer gets only the fields whose fingerprint changed. An offer Allegro archived (ended more than 60
days ago: 404, #10743) is replaced by a new one.

A 202 create whose operation fails leaves an INACTIVE draft with our SKU in `external.id` (#11011): its id
is kept on the link and the event retried, so the retry finishes that draft (content, stock, activation)
instead of listing a second offer; a link that failed without the id looks the draft up by SKU first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from allegro_sync.contracts.allegro import PriceIn
from allegro_sync.contracts.allegro_errors import (
    AllegroNotFound,
    AllegroOperationFailed,
    AllegroOperationPending,
    AllegroValidationError,
)
from allegro_sync.contracts.allegro_requests import (
    CatalogueProduct,
    NewOffer,
    NewProduct,
    OfferChanges,
)
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, StoredMapping
from allegro_sync.contracts.messages import ProductUpsert
from allegro_sync.domain.description import parse_shop_html
from allegro_sync.domain.pricing import PriceDecision
from allegro_sync.domain.product_checks import product_problems
from allegro_sync.services.publishing.context import Context
from allegro_sync.services.publishing.listing import Listing, build_listing
from allegro_sync.services.publishing.outcomes import Waiting
from allegro_sync.services.publishing.ports import AllegroPort
from allegro_sync.services.publishing.stock import stock_patch


class ReplacedMeanwhile(RuntimeError):
    """Another worker replaced the archived offer since this event read its link: retried on the new one."""


class Upserts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def apply(
        self,
        account: str,
        link: OfferLink | None,
        event: ProductUpsert,
        key: str,
        *,
        price: Decimal | None,
    ) -> OfferLink:
        """`price`: the catalogue's newest (a PriceSet may be newer than this upsert)."""
        ctx = self._ctx
        # What the ledger lets this offer show (shop level minus sales not counted yet), not the raw one.
        stock = ctx.ledger_quantity(event.sku, link.offer_id if link is not None else None)
        event = event.model_copy(
            update={"stock": stock, "price": price if price is not None else event.price}
        )
        base = link or OfferLink(sku=event.sku, account=account, status=LinkStatus.WAITING)
        refused = product_problems(event)
        if refused:
            # Nothing reaches Allegro; an offer already there keeps what it had, and says why it stopped.
            status = LinkStatus.WAITING if base.offer_id is None else base.status
            return replace(
                base,
                status=status,
                reasons=tuple(f"refused, {p}" for p in refused),
                candidates=(),
                applied_key=key,
                updated_at=ctx.timestamp(),
            )
        client = ctx.client(account)
        try:
            mapping = ctx.mapping_for(account, event)
            # A draft a failed create left (its content, stock and activation never synced) is finished
            # like a new offer: find its catalogue product.
            unfinished = base.offer_id is not None and not base.synced
            linking = base.offer_id is None or unfinished
            adopted = None
            # A redelivery: the first attempt created offers without a mark (below), and may have died.
            redelivered = ctx.delivery is not None and ctx.delivery > 1
            if linking and (base.creating_since or base.status is LinkStatus.FAILED or redelivered):
                # An earlier attempt was creating the offer and never recorded the answer, or failed after
                # Allegro had made a draft: it may exist.
                if redelivered and not base.creating_since:  # marked now: a replay from the DLQ looks too
                    ctx.catalog.save_link(replace(base, creating_since=ctx.timestamp()))
                adopted = _find_existing_offer(client, event.sku)
                if adopted is not None:
                    base = replace(base, offer_id=adopted, synced={}, images={}, creating_since="")
            listing = build_listing(ctx, client, account, base, event, mapping=mapping, linking=linking)
        except Waiting as waiting:
            return replace(
                base,
                status=LinkStatus.WAITING,
                reasons=tuple(waiting.reasons),
                candidates=waiting.candidates,
                last_error=None,
                applied_key=key,
                updated_at=ctx.timestamp(),
            )
        if base.offer_id is None:
            return self._create(client, account, base, event=event, listing=listing, key=key)
        try:
            return self._update(
                client,
                account,
                base,
                event=event,
                listing=listing,
                key=key,
                adopted=adopted is not None or unfinished,
            )
        except AllegroNotFound:
            return self._replace_archived(client, account, base, event=event, mapping=mapping, key=key)

    def _replace_archived(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        *,
        event: ProductUpsert,
        mapping: StoredMapping,
        key: str,
    ) -> OfferLink:
        """Ended more than 60 days ago, the offer is archived: a new one is needed (#10743). Claimed first,
        on the archived id: the stock propagator may be replacing the same offer (`recreate`) since this
        event read the link, and a second create would list the product twice."""
        fresh = replace(link, offer_id=None, synced={}, images={})
        assert link.offer_id is not None
        if not self._ctx.catalog.replace_link(
            replace(fresh, status=LinkStatus.WAITING), offer_id=link.offer_id
        ):
            raise ReplacedMeanwhile(f"offer {link.offer_id} is being replaced already; the event is retried")
        listing = build_listing(self._ctx, client, account, fresh, event, mapping=mapping, linking=True)
        return self._create(client, account, fresh, event=event, listing=listing, key=key)

    def _create(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        *,
        event: ProductUpsert,
        listing: Listing,
        key: str,
    ) -> OfferLink:
        ctx = self._ctx
        images = _upload(client, listing.image_sources, link.images)
        description = parse_shop_html(listing.description_html).to_allegro(images)
        # A cut description is already among the listing's warnings (it says so on every update too).
        warnings = listing.warnings + [
            w.message for w in description.warnings if w.code not in ("empty", "truncated")
        ]
        active = (listing.stock or 0) > 0
        offer = NewOffer(
            name=listing.title,
            category_id=listing.category_id,
            product=(
                CatalogueProduct(listing.product_id, listing.product_parameters)
                if listing.product_id is not None
                else NewProduct(listing.title, listing.category_id, listing.product_parameters)
            ),
            parameters=listing.offer_parameters,
            price=_price(listing.price),
            stock=listing.stock or 0,
            images=[images[s] for s in listing.image_sources],
            external_id=event.sku,
            active=active,
            description=description.description,
            safety=listing.safety,
            defaults=ctx.settings.offer_defaults,
            markets=listing.markets.to_request(),
        )
        # Marked first: should the process die after Allegro created the offer but before the link is saved,
        # the retry looks the offer up by its SKU instead of listing the product twice. A first SQS delivery
        # needs no mark: its redelivery is the retry, and looks up (and marks) by itself (above).
        if ctx.delivery != 1:
            ctx.catalog.save_link(replace(link, creating_since=ctx.timestamp()))
        try:
            try:
                offer_id = client.create_offer(offer).id
            except AllegroValidationError as error:
                if not (images and image_refused(error)):
                    raise
                images = _upload(client, listing.image_sources, {})  # Allegro does not say which: all
                again = parse_shop_html(listing.description_html).to_allegro(images).description
                offer = replace(offer, images=[images[s] for s in listing.image_sources], description=again)
                offer_id = client.create_offer(offer).id
            note = ""
        except AllegroOperationPending as pending:
            if pending.offer_id is None:
                raise
            offer_id, note = pending.offer_id, "Allegro was still processing the new offer"
        except AllegroOperationFailed as failed:
            # Allegro keeps the failed offer as a draft: remember it, so the retry finishes it.
            ctx.catalog.save_link(
                replace(
                    link,
                    creating_since="",
                    offer_id=failed.offer_id,
                    status=LinkStatus.WAITING,
                    reasons=(f"Allegro could not finish the new offer; retrying with its draft: {failed}",),
                    synced={},
                    images=images,
                    updated_at=ctx.timestamp(),
                )
            )
            raise
        fingerprints = listing.fingerprints()
        ctx.record(
            account,
            event,
            offer_id,
            "create",
            {
                name: {"old": None, "new": fingerprints.get(name, "0")}
                for name in ("name", "category", "price", "stock")
            },
            reason=f"new shop product; price: {listing.price.explanation}"
            + (f"; marketplaces: {listing.markets.explanation()}" if listing.markets.prices else ""),
            rule=listing.price.rule,
        )
        reasons = [r for r in [note, *warnings] if r]
        if listing.stock is None:
            reasons.insert(0, "the shop has not said how many are in stock: the offer stays inactive")
        elif not active:
            reasons.insert(0, "stock is 0 in the shop: the offer stays inactive until stock arrives")
        return replace(
            link,
            creating_since="",
            offer_id=offer_id,
            product_id=listing.product_id,
            status=LinkStatus.PUBLISHED if active else LinkStatus.WAITING,
            reasons=tuple(reasons),
            candidates=(),
            last_error=None,
            synced=fingerprints,
            images=images,
            price=listing.price.allegro_amount,
            applied_key=key,
            updated_at=ctx.timestamp(),
        )

    def _update(
        self,
        client: AllegroPort,
        account: str,
        link: OfferLink,
        *,
        event: ProductUpsert,
        listing: Listing,
        key: str,
        adopted: bool = False,
    ) -> OfferLink:
        """Send the fields that changed. Live stock is the propagator's job, except on an `adopted` offer:
        its create never finished, so its stock (and activation) are finished here, as a create would."""
        assert link.offer_id is not None
        ctx = self._ctx
        wanted = listing.fingerprints(with_stock=adopted)
        changed = [name for name, value in wanted.items() if link.synced.get(name) != value]
        repriced = "price" in changed and ctx.repriced(account, link.sku, listing.category_id)
        if repriced:
            changed.remove("price")  # the repricer sets this price; the new list price moves its bounds
        reactivate = link.status is LinkStatus.ENDED and (listing.stock or 0) > 0
        if not changed and not reactivate:
            if repriced:
                return replace(
                    link,
                    price=listing.price.allegro_amount,
                    synced={**link.synced, "price": wanted["price"]},
                    applied_key=key,
                    updated_at=ctx.timestamp(),
                )
            return replace(link, applied_key=key, updated_at=ctx.timestamp())
        images = dict(link.images)
        if "images" in changed or "description" in changed:
            images = _upload(client, listing.image_sources, link.images)
        changes = self._content_changes(listing, changed, images)
        status, reasons = link.status, list(listing.warnings)
        if listing.stock is not None and ("stock" in changed or reactivate):
            stock, status, stock_reason = stock_patch(listing.stock, link.status)
            changes = replace(changes, stock=stock.stock, publication=stock.publication)
            reasons = [r for r in [stock_reason, *reasons] if r]
        elif link.status is LinkStatus.FAILED:
            status = LinkStatus.PUBLISHED
        try:
            client.update_offer(link.offer_id, changes)
        except AllegroValidationError as error:
            if not (changes.images or changes.description) or not image_refused(error):
                raise
            images = _upload(client, listing.image_sources, {})  # Allegro does not say which: all again
            fresh = self._content_changes(listing, sorted({*changed, "images"}), images)
            client.update_offer(
                link.offer_id, replace(fresh, stock=changes.stock, publication=changes.publication)
            )
        ctx.record(
            account,
            event,
            link.offer_id,
            "update",
            {name: {"old": link.synced.get(name), "new": wanted[name]} for name in changed},
            reason=f"shop product changed ({', '.join(changed) or 'stock back'})"
            + (f"; price: {listing.price.explanation}" if "price" in changed else "")
            + (f"; marketplaces: {listing.markets.explanation()}" if "markets" in changed else ""),
            rule=listing.price.rule if "price" in changed else "",
        )
        return replace(
            link,
            status=status,
            reasons=tuple(reasons),
            candidates=(),
            last_error=None,
            synced={**link.synced, **wanted},
            images=images,
            price=listing.price.allegro_amount,
            applied_key=key,
            updated_at=ctx.timestamp(),
        )

    def _content_changes(
        self, listing: Listing, changed: list[str], images: Mapping[str, str]
    ) -> OfferChanges:
        """The changed content fields only (stock and publication are added apart)."""
        product = None
        # The GPSR data travels in `productSet[]`, with the product it belongs to.
        if {"parameters", "gpsr"} & set(changed) and listing.product_id is not None:
            product = CatalogueProduct(listing.product_id, listing.product_parameters)
        return OfferChanges(
            name=listing.title if "name" in changed else None,
            category_id=listing.category_id if "category" in changed else None,
            price=_price(listing.price) if "price" in changed else None,
            parameters=listing.offer_parameters if "parameters" in changed else None,
            product=product,
            safety=listing.safety,
            markets=listing.markets.to_request() if "markets" in changed else None,
            images=[images[s] for s in listing.image_sources] if "images" in changed else None,
            # A shop description emptied to nothing has no sections: the client leaves the last one on
            # Allegro (which refuses zero sections) rather than failing the whole update.
            description=(
                parse_shop_html(listing.description_html).to_allegro(images).description
                if "description" in changed
                else None
            ),
        )


def _find_existing_offer(client: AllegroPort, sku: str) -> str | None:
    """An offer already carrying this SKU (a crash after Allegro created it, before we saved it)."""
    page = client.list_offers(external_ids=[sku], statuses=["ACTIVE", "INACTIVE", "ACTIVATING"], limit=10)
    found = [o.id for o in page.offers if o.external is not None and o.external.id == sku]
    return found[0] if found else None


def _upload(client: AllegroPort, sources: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    """Source URL -> Allegro location; images this offer already uses are not uploaded again."""
    uploaded = {s: known[s] for s in sources if s in known}
    for source in sources:
        if source not in uploaded:
            uploaded[source] = client.upload_image(url=source).location
    return uploaded


def image_refused(error: AllegroValidationError) -> bool:
    """Allegro's answer to an image location it deleted (6 h TTL, #2584): a generic VALIDATION_ERROR
    "Provided image address is incorrect", naming neither which image nor why (#1946, #7889)."""
    return any("image address" in (e.message or "").lower() for e in error.errors)


def _price(decision: PriceDecision) -> PriceIn:
    return PriceIn(amount=decision.allegro_amount, currency=decision.currency)
