"""`allegro-sync status`: one screen answering "is my sync healthy, and if not, what do I do?".

The AWS reads live here (the edge); what each line means is `services.status`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import typer
from boto3.dynamodb.conditions import Attr
from rich.console import Console

from allegro_sync.adapters.dynamodb.accounts import DynamoAccountRegistry
from allegro_sync.adapters.dynamodb.orders import CURSOR_PK, CURSOR_SK
from allegro_sync.adapters.dynamodb.rate_limit import DynamoBlockedUntilStore
from allegro_sync.adapters.dynamodb.repricing import PAUSE_PK
from allegro_sync.bootstrap import Application
from allegro_sync.cli import output
from allegro_sync.cli.deployment import StackOption, application
from allegro_sync.contracts.accounts import AccountProfile
from allegro_sync.services.dlq import DlqSummary
from allegro_sync.services.status import (
    RECONCILE_REASON_PREFIX,
    OrderCursor,
    QueueDepth,
    ReconcileChange,
    Section,
    build_status,
    cursor_from_item,
    reconcile_changes_from_items,
)
from allegro_sync.topology import TOPOLOGY

console = Console(width=160)
# The change log grows with every push; the status reads at most this many pages of it for the drift line.
CHANGE_LOG_PAGES = 5


class AwsStatusSource:
    """`StatusSource` over the deployment's tables and queues (those its application's settings name)."""

    def __init__(self, app: Application) -> None:
        self._app = app

    def _table(self, logical: str) -> Any:
        if logical not in self._app.settings.tables:
            raise LookupError(f"table {logical!r} not found in this deployment")
        return self._app.table(logical)

    def accounts(self) -> list[AccountProfile]:
        return DynamoAccountRegistry(self._table("control")).all()

    def order_cursor(self, account: str) -> OrderCursor | None:
        item = self._table("control").get_item(Key={"pk": CURSOR_PK + account, "sk": CURSOR_SK}).get("Item")
        return cursor_from_item(item)

    def queue_depths(self) -> list[QueueDepth]:
        depths = []
        sqs = self._app.aws_client("sqs")
        for queue in TOPOLOGY.queues:
            url = self._app.settings.queues.get(queue.name)
            if not url:
                continue
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths.append(
                QueueDepth(
                    queue.name,
                    int(attrs.get("ApproximateNumberOfMessages", 0)),
                    int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                )
            )
        return depths

    def dead_letters(self) -> list[DlqSummary]:
        return self._app.dead_letters().summaries()

    def blocked_until(self) -> float:
        # A plain client: the resource's client would re-serialize the store's low-level attribute values.
        control = self._table("control").name
        return DynamoBlockedUntilStore(control, client=self._app.aws_client("dynamodb")).read_blocked_until()

    def reconcile_changes(self) -> list[ReconcileChange]:
        table = self._table("changes")
        kwargs: dict[str, Any] = {"FilterExpression": Attr("reason").begins_with(RECONCILE_REASON_PREFIX)}
        items: list[dict[str, Any]] = []
        for _ in range(CHANGE_LOG_PAGES):
            page = table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return reconcile_changes_from_items(items)

    def repricing_pause(self, account: str) -> tuple[datetime, str] | None:
        item = self._table("control").get_item(Key={"pk": PAUSE_PK, "sk": account}).get("Item")
        if not item:
            return None
        return datetime.fromisoformat(str(item["until"])), str(item.get("reason", ""))


def render(sections: list[Section]) -> None:
    for section in sections:
        if section.unavailable:
            console.print(f"[bold]{section.title}[/]: ", end="")
            console.print(section.unavailable, markup=False, highlight=False, style="yellow")
            continue
        title = section.title + (f"  ({section.warnings} need attention)" if section.warnings else "")
        table = output.table(*section.columns, title=title)
        for row in section.rows:
            table.add_row(*row)
        console.print(table)


def status(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """Accounts, order polling, queues, DLQs, last drift repair, Allegro block, repricing pauses.

    Exit code 0: nothing needs you; 3: something needs attention; 1: no deployment found.
    """
    sections = build_status(AwsStatusSource(application(stack)), time.time())
    if as_json:
        output.print_json(
            [
                {
                    "section": s.title,
                    "needs_attention": s.warnings,
                    "unavailable": s.unavailable,
                    "rows": [dict(zip(s.columns, row, strict=False)) for row in s.rows],
                }
                for s in sections
            ]
        )
    else:
        render(sections)
    if any(s.warnings for s in sections):
        raise typer.Exit(3)  # scripts (cron, CI) can alert on "something needs attention"
