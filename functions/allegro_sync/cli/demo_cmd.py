"""`allegro-sync demo`: run the whole system locally, end to end, and print what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

DEFAULT_SPEC = Path("..") / "shared" / "allegro-api" / "openapi.yaml"


def demo(
    record: Annotated[
        Path | None, typer.Option(help="Append every Allegro exchange to this JSON-lines file (masked).")
    ] = None,
    spec: Annotated[
        Path, typer.Option(help="Allegro's full official spec, to validate the recording against.")
    ] = DEFAULT_SPEC,
    shop: Annotated[
        str,
        typer.Option(
            help="The shop the story tells: woocommerce, shopify (in WooCommerce's place) "
            "or prestashop (added after WooCommerce)."
        ),
    ] = "woocommerce",
) -> None:
    """Run moto + the Allegro emulator + every handler on 127.0.0.1 and narrate a day of selling."""
    from allegro_sync.local.demo import Demo, DemoFailure  # only when run: it starts the whole system

    console = Console(width=110)
    if record is not None and record.exists():
        record.unlink()  # one run per recording, so the audit speaks of this run only
    try:
        if shop not in ("woocommerce", "shopify", "prestashop"):
            raise typer.BadParameter(
                f"unknown shop {shop!r}: woocommerce, shopify or prestashop", param_hint="--shop"
            )
        Demo(console, record=record, spec=spec, shop_kind=shop).run()
    except DemoFailure as failure:
        console.print(f"[bold red]demo failed:[/] {failure}")
        raise typer.Exit(1) from None
