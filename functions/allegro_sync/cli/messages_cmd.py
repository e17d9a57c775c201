"""Issue 15, item 4: buyer messages and disputes from the CLI.

- `messages list [--account A]`: Message Center threads (newest first, `*` = unread) and open disputes/claims
  (`*` = the buyer or Allegro wrote last).
- `messages show ID`: a thread's or an issue's messages, oldest first; a thread is then marked read, as the
  seller has now seen it (the follower never marks anything read).
- `messages reply ID TEXT`: the seller's answer (a thread: Message Center; an issue: its chat).

An id that no connected account has is a clear error; nothing is sent. The text is printed for the seller,
never logged. They run with the `message_follower`'s access (its Allegro tokens).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.console import Console

from allegro_sync.adapters.allegro.client import AllegroClient
from allegro_sync.cli import deployment, output
from allegro_sync.contracts.allegro_errors import AllegroApiError, AllegroNotFound, InvalidCommand
from allegro_sync.contracts.buyer_messages import Issue, Thread

FUNCTION = "message_follower"
UNREAD_ISSUE = ("NEW", "BUYER_REPLIED", "ALLEGRO_ADVISOR_REPLIED")
messages_app = typer.Typer(help="Buyer messages and disputes: list, show, reply.", no_args_is_help=True)
StackOption = Annotated[str | None, typer.Option(help="CloudFormation stack name (env ALLEGRO_SYNC_STACK).")]
IdArgument = Annotated[str, typer.Argument(metavar="ID", help="A thread id or a dispute/claim id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(messages_app, name="messages")


def _clients(stack: str | None) -> dict[str, AllegroClient]:
    app = deployment.application(stack, function=FUNCTION, needed=deployment.function_variables(FUNCTION))
    return dict(sorted(app.connected_clients().items()))


def _find(clients: dict[str, AllegroClient], ident: str) -> tuple[str, AllegroClient, Thread | Issue]:
    """The account and the thread or issue `ident` names; a clear error when no account has it."""
    for name, client in clients.items():
        # An issue id is a UUID (spec); a thread id is not: never send Allegro an id of the wrong shape.
        for look in (client.thread, client.issue) if _is_uuid(ident) else (client.thread,):
            try:
                return name, client, look(ident)
            except (AllegroNotFound, InvalidCommand):
                continue
            except AllegroApiError as error:
                if error.status in (400, 403, 422):  # not an id of this kind (Allegro's answer varies)
                    continue
                raise
    raise output.fail(f"no connected account has a message thread or dispute {ident!r} (see: messages list)")


def _is_uuid(ident: str) -> bool:
    try:
        uuid.UUID(ident)
    except ValueError:
        return False
    return True


@messages_app.command("list")
def list_messages(
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None, stack: StackOption = None
) -> None:
    """Threads (newest first) and open disputes/claims; `*` marks what the seller has not seen."""
    table = output.table("", "account", "kind", "id", "with", "last message", "order", title="Buyer messages")
    for name, client in _clients(stack).items():
        if account is not None and name != account:
            continue
        for thread in client.threads():
            who = thread.interlocutor.login if thread.interlocutor else ""
            mark = "" if thread.read else "*"
            table.add_row(mark, name, "thread", thread.id, who, thread.last_message_date_time or "", "")
        for issue in client.open_issues():
            last = issue.chat.last_message if issue.chat else None
            mark = "*" if last is not None and last.status in UNREAD_ISSUE else ""
            form = issue.checkout_form.id if issue.checkout_form else ""
            who = (issue.buyer.login if issue.buyer else None) or ""
            table.add_row(
                mark, name, issue.type.lower(), issue.id, who, last.created_at if last else "", form
            )
    Console(width=200).print(table)


@messages_app.command("show")
def show(ident: IdArgument, stack: StackOption = None) -> None:
    """Print every message, oldest first; a thread is marked read afterwards (the seller has seen it)."""
    show_in(_clients(stack), ident)


def show_in(clients: dict[str, AllegroClient], ident: str) -> None:
    """`messages show` over these accounts' clients (the demo passes its local ones)."""
    name, client, found = _find(clients, ident)
    if isinstance(found, Thread):
        messages, offset = [], 0
        while page := client.thread_messages(found.id, offset=offset):
            messages += page
            offset += len(page)
        for message in sorted(messages, key=lambda m: m.created_at):
            who = "buyer" if message.author.is_interlocutor else "you"
            typer.echo(f"[{message.created_at}] {who} ({message.author.login}): {message.text}")
        client.mark_thread_read(found.id)
        typer.echo(f"thread {found.id} on {name}: marked read")
        return
    for item in client.issue_chat(found.id):
        role = (item.author.role if item.author else None) or ""
        typer.echo(f"[{item.created_at}] {role.lower()}: {item.text or ''}")
    form = found.checkout_form.id if found.checkout_form else "-"
    typer.echo(f"{found.type.lower()} {found.id} on {name} (order {form})")


@messages_app.command("reply")
def reply(
    ident: IdArgument,
    text: Annotated[
        str, typer.Argument(help="Your answer (a thread: 1-2,000 characters; an issue: 20,000).")
    ],
    stack: StackOption = None,
) -> None:
    """Answer the buyer in the thread or the dispute's chat (sent once: not repeated after a timeout)."""
    reply_in(_clients(stack), ident, text)


def reply_in(clients: dict[str, AllegroClient], ident: str, text: str) -> None:
    """`messages reply` over these accounts' clients (the demo passes its local ones)."""
    limit = 2000
    name, client, found = _find(clients, ident)
    if isinstance(found, Issue):
        limit = 20000
    if not text.strip() or len(text) > limit:
        output.fail(f"the answer must have 1-{limit} characters; nothing was sent")
    try:
        if isinstance(found, Thread):
            sent = client.reply_in_thread(found.id, text).id
        else:
            sent = client.reply_in_issue(found.id, text).id
    except AllegroApiError as refused:
        output.fail(f"Allegro refused the answer ({refused.status}); nothing was sent")
    typer.echo(f"sent on {name}: message {sent}")
