"""ProductDelete: the product's offers end on every account (once; the ledger unlinks them)."""

from __future__ import annotations

from dataclasses import replace

from allegro_sync.contracts.allegro_requests import OfferChanges
from allegro_sync.contracts.catalog import LinkStatus, OfferLink
from allegro_sync.contracts.messages import ProductDelete
from allegro_sync.services.publishing.context import Context

DELETED = "product deleted in the shop"


class Ends:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def apply(self, account: str, link: OfferLink, event: ProductDelete, key: str) -> OfferLink:
        assert link.offer_id is not None
        if link.status is not LinkStatus.ENDED:
            self._ctx.client(account).update_offer(link.offer_id, OfferChanges(publication="ENDED"))
            self._ctx.record(
                account,
                event,
                link.offer_id,
                "end",
                {"publication.status": {"old": link.status.value, "new": "ENDED"}},
                reason=DELETED,
            )
        return replace(
            link,
            status=LinkStatus.ENDED,
            reasons=(DELETED,),
            applied_key=key,
            updated_at=self._ctx.timestamp(),
        )
