"""`allegro-sync emulator`: run the local Allegro emulator in the foreground.

The local runtime, the demo and a developer's curl all talk to it as to Allegro (API, upload and
OAuth on one base URL) and drive the seller/buyer/clock through its admin API (`EmulatorAdmin`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the emulator (openapi-core, werkzeug) loads only for the command that runs it
    from allegro_sync.emulator import Emulator


def serve(
    emulator: Emulator,
    *,
    sellers: list[str],
    stop: threading.Event,
    echo: Callable[[str], None] = typer.echo,
) -> None:
    """Start, announce, wait for `stop`, shut down; split from the command so tests can drive it."""
    from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    with emulator:
        for login in sellers:
            seller_id = emulator.create_seller(login)
            echo(f"seller {login}: id {seller_id}")
        echo(f"Allegro emulator on {emulator.base_url} (API, upload and OAuth hosts)")
        echo(f"default app: client id {DEFAULT_CLIENT_ID}, client secret {DEFAULT_CLIENT_SECRET}")
        echo(f"admin API: {emulator.base_url}/__emulator/state")
        stop.wait()
        if emulator.violations:
            echo(f"{len(emulator.violations)} spec violation(s) seen:")
            for violation in emulator.violations:
                echo(f"  {violation}")


def parse_faults(items: list[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs; the emulator converts and range-checks the values."""
    faults: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        faults[name.strip()] = value.strip()
    return faults


def emulator(
    *,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8090,
    record: Annotated[
        Path | None, typer.Option(help="Append every exchange as a JSON line (secrets masked) to this file.")
    ] = None,
    rate_limit: Annotated[int, typer.Option(min=1, help="Requests per minute per Client ID.")] = 9000,
    error_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of calls answered 5xx.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(min=0, help="Added latency per slowed call.")] = 0,
    latency_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of calls slowed.")] = 1.0,
    auto_approve: Annotated[
        bool, typer.Option(help="Approve logins and device codes at once, as the signed-in seller.")
    ] = False,
    validate: Annotated[bool, typer.Option(help="Check every exchange against Allegro's spec.")] = True,
    strict: Annotated[bool, typer.Option(help="Refuse requests that break the spec (400/422).")] = True,
    seller: Annotated[
        list[str] | None, typer.Option(help="Create this seller account at start (repeatable).")
    ] = None,
    seed: Annotated[
        Path | None, typer.Option(help="Marketplace catalogue file (default: the built-in one).")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Any other fault knob as NAME=VALUE, e.g. patch_conflict_rate=0.2 (repeatable)."),
    ] = None,
) -> None:
    """Run the Allegro emulator in the foreground until Ctrl-C."""
    from allegro_sync.emulator import Emulator

    instance = Emulator(
        port,
        record=record,
        validate=validate,
        strict=strict,
        seed=seed,
        rate_limit=rate_limit,
        error_rate=error_rate,
        latency_ms=latency_ms,
        latency_rate=latency_rate,
        auto_approve=auto_approve,
    )
    try:
        instance.set_faults(**parse_faults(fault or []))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from exc
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    serve(instance, sellers=seller or [], stop=stop)


def register(app: typer.Typer) -> None:
    """Attach `emulator` to the main CLI (one line in cli/main.py)."""
    app.command("emulator")(emulator)
