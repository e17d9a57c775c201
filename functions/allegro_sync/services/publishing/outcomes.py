"""What applying an event tells its caller: a report, a retry, or why a product waits or was refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from aws_lambda_powertools import Logger

from allegro_sync.contracts.allegro_errors import AllegroApiError
from allegro_sync.contracts.catalog import LinkStatus, OfferLink, Outcome
from allegro_sync.contracts.messages import ShopEvent

logger = Logger(child=True)


class RetryLater(Exception):
    """At least one account hit a transient Allegro failure; the event must be delivered again.

    Accounts that succeeded recorded the event's key on their link, so the redelivery skips them.
    """

    def __init__(self, sku: str, failures: dict[str, Exception]) -> None:
        self.failures = failures
        detail = "; ".join(f"{account}: {type(e).__name__}: {e}" for account, e in failures.items())
        super().__init__(f"SKU {sku}: retry later ({detail})")


@dataclass
class EventReport:
    """What one event did, for logs and tests."""

    sku: str
    outcome: Outcome
    links: dict[str, LinkStatus] = field(default_factory=dict)


class Waiting(Exception):
    """The product cannot be published yet; the message says what the seller must do."""

    def __init__(self, reasons: list[str], candidates: Sequence[dict[str, str]] = ()) -> None:
        self.reasons = reasons
        self.candidates = tuple(candidates)
        super().__init__("; ".join(reasons))


def rejected(
    account: str, link: OfferLink | None, event: ShopEvent, key: str, error: AllegroApiError, *, at: str
) -> OfferLink:
    """Allegro refused the content: the link says why, in words, and the same thing is not retried."""
    reasons = [
        _readable(detail.user_message or detail.message or detail.code, detail.metadata, detail.path)
        for detail in error.errors
    ]
    logger.warning(
        "Allegro rejected the offer",
        extra={"sku": event.sku, "account": account, "status": error.status, "codes": error.codes},
    )
    base = link or OfferLink(sku=event.sku, account=account, status=LinkStatus.FAILED)
    return replace(
        base,
        creating_since="",
        status=LinkStatus.FAILED,
        reasons=tuple(reasons) or (str(error),),
        last_error={
            "status": error.status,
            "trace_id": error.trace_id,
            "errors": [
                {
                    "code": d.code,
                    "message": d.message,
                    "userMessage": d.user_message,
                    "path": d.path,
                    "metadata": d.metadata,
                }
                for d in error.errors
            ],
        },
        applied_key=key,
        updated_at=at,
    )


def _readable(message: str, metadata: Mapping[str, str], path: str | None) -> str:
    where = f" (at {path})" if path else ""
    extra = f" [{', '.join(f'{k}={v}' for k, v in sorted(metadata.items()))}]" if metadata else ""
    return f"{message}{where}{extra}"
