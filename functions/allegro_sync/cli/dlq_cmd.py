"""`allegro-sync dlq`: see what failed for good, and send it back once the cause is fixed.

Thin: finds the deployment (cli/deployment.py) and renders what `services.dlq` returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from allegro_sync.cli import output
from allegro_sync.cli.deployment import StackOption, application
from allegro_sync.services.dlq import DeadLetters, UnknownQueue
from allegro_sync.services.status import duration
from allegro_sync.topology import TOPOLOGY, QueueTrigger

dlq_app = typer.Typer(help="Dead-letter queues: list, show, replay.", no_args_is_help=True)
console = Console(width=160)

QueueArg = Annotated[str, typer.Argument(help="Topology queue name, e.g. orders or shop-events.")]
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="At most this many messages.")]


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _dead_letters(stack: str | None) -> DeadLetters:
    return application(stack).dead_letters()


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else duration(seconds)


@dlq_app.command("list")
def list_(stack: StackOption = None, as_json: output.JsonOption = False) -> None:
    """Every DLQ with its message count and the age of its oldest message."""
    letters = _dead_letters(stack)
    if not letters.queues:
        raise _fail("no dead-letter queue found in this deployment")
    if as_json:
        output.print_json(
            [
                {
                    "queue": s.queue,
                    "messages": s.messages,
                    "in_flight": s.in_flight,
                    "oldest_age_seconds": s.oldest_age_seconds,
                }
                for s in letters.summaries()
            ]
        )
        return
    table = output.table("queue", "messages", "in flight", "oldest", title="Dead-letter queues")
    for s in letters.summaries():
        style = "red" if s.messages else ""
        table.add_row(s.queue, str(s.messages), str(s.in_flight), _age(s.oldest_age_seconds), style=style)
    console.print(table)


@dlq_app.command()
def show(
    queue: QueueArg, limit: LimitOption = 10, stack: StackOption = None, as_json: output.JsonOption = False
) -> None:
    """The messages of QUEUE's DLQ (left in place: showing never deletes)."""
    letters = _dead_letters(stack)
    try:
        messages = letters.peek(queue, limit)
    except UnknownQueue as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        why_json = _reasons(stack, queue)
        output.print_json(
            [
                {
                    "message_id": m.message_id,
                    "receive_count": m.receive_count,
                    "first_seen": datetime.fromtimestamp(m.first_seen, UTC).isoformat(timespec="seconds"),
                    "group_id": m.group_id,
                    "why": why_json(m.body),
                    "body": m.body,
                }
                for m in messages
            ]
        )
        return
    if not messages:
        console.print(f"DLQ of {queue} is empty.")
        return
    why = _reasons(stack, queue)
    for m in messages:
        seen = datetime.fromtimestamp(m.first_seen, UTC).isoformat(timespec="seconds")
        group = f"  group={m.group_id}" if m.group_id else ""
        console.print(f"[bold]{m.message_id}[/]  receives={m.receive_count}  first-seen={seen}{group}")
        console.print(f"why it failed: {why(m.body)}", markup=False, highlight=False)
        console.print(m.pretty_body(), markup=False, highlight=False)
    console.print(
        f"{len(messages)} message(s) shown, none deleted "
        "(receive counts include earlier looks by list/show/status)."
    )


def _reasons(stack: str | None, queue: str) -> Callable[[str], str]:
    """Why a message of `queue` failed: the shop notifier records each order delivery's last failure; the
    other consumers' reasons are in their function's log under the message's correlation id."""
    consumer = next(
        (
            f.name
            for f in TOPOLOGY.functions
            for t in f.triggers
            if isinstance(t, QueueTrigger) and t.queue == queue
        ),
        "its consumer",
    )
    elsewhere = f"not recorded: see the {consumer} function's log for this message's correlation id"
    if queue != "shop-outbox":
        return lambda _: elsewhere
    deliveries = application(stack, function="shop_notifier").shop_deliveries()

    def why(body: str) -> str:
        try:
            message_id = str(json.loads(body)["message_id"])
        except (ValueError, KeyError, TypeError):
            return "the message is not an order change (its body could not be read)"
        failure = deliveries.failure(message_id)
        return f"{failure.reason} (last try {failure.failed_at})" if failure else elsewhere

    return why


@dlq_app.command()
def replay(
    queue: QueueArg,
    limit: LimitOption = 10,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be moved.")] = False,
    stack: StackOption = None,
) -> None:
    """Send QUEUE's dead letters back to QUEUE (sent first, then deleted; FIFO keeps group + dedup id)."""
    letters = _dead_letters(stack)
    try:
        moved = letters.replay(queue, limit, dry_run=dry_run)
    except UnknownQueue as exc:
        raise _fail(str(exc), 2) from None
    verb = "would move" if dry_run else "moved"
    for r in moved:
        group = f" group={r.group_id}" if r.group_id else ""
        console.print(f"{verb} {r.message_id}{group} -> {queue}", markup=False, highlight=False)
    console.print(f"{len(moved)} message(s) {verb} from the DLQ of {queue}.")
