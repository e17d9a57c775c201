"""How every command prints: one table style, `--json` for scripts, one way to fail.

Every command's tables come from `table()`, so the CLI looks the same throughout; listing commands take
`--json` (`JsonOption`) and print `print_json(rows)` instead, one JSON document on stdout and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

console = Console(width=160)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the rows as one JSON document (for scripts) instead of a table.")
]


def table(*columns: str, title: str | None = None, show_lines: bool = False, **options: Any) -> Table:
    """A table in the CLI's one style: rich's default box, bold left title, bold header, long cells fold."""
    built = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        header_style="bold",
        show_lines=show_lines,
        **options,
    )
    for column in columns:
        built.add_column(column, overflow="fold")
    return built


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    found = table(*columns, title=title)
    for row in rows:
        found.add_row(*row)
    console.print(found)


def print_json(data: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> None:
    """One JSON document on stdout (decimals and dates as strings), nothing else."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    """One red line on stderr and a non-zero exit: what went wrong and what to do."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)
