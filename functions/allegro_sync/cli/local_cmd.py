"""`allegro-sync local up` and `allegro-sync invoke`: the system and single handlers on this machine."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from allegro_sync.local import AllegroUrls, LocalRuntime
from allegro_sync.topology import TOPOLOGY, QueueTrigger

local_app = typer.Typer(
    help="Run the system locally: moto for AWS, handlers in-process, queues, schedules and HTTP.",
    no_args_is_help=True,
)

AllegroUrlOption = Annotated[
    str | None,
    typer.Option(help="Base URL of the Allegro emulator (API, upload and OAuth on one host)."),
]


def _urls(allegro_url: str | None) -> AllegroUrls | None:
    return AllegroUrls.single(allegro_url) if allegro_url else None


@local_app.command("up")
def up(
    *,
    port: Annotated[
        int, typer.Option(help="Port of the HTTP API gateway on 127.0.0.1 (0 = any free port).")
    ] = 8080,
    aws_port: Annotated[
        int, typer.Option(help="Port of the moto server (moto's usual 5000; 0 = any free port).")
    ] = 5000,
    time_scale: Annotated[
        float, typer.Option(min=0.001, help="Schedule speed-up: 60 makes a minute pass in a second.")
    ] = 1.0,
    allegro_url: AllegroUrlOption = None,
    emulator: Annotated[
        bool, typer.Option(help="Start the Allegro emulator in-process (unless --allegro-url is given).")
    ] = True,
    emulator_port: Annotated[int, typer.Option(help="Port of the emulator (0 = any free port).")] = 0,
) -> None:
    """Run moto, the Allegro emulator, the HTTP gateway, queue pollers and scheduler until Ctrl-C."""
    with contextlib.ExitStack() as stack:
        if allegro_url is None and emulator:
            from allegro_sync.emulator import Emulator  # only when asked: it loads the API spec

            allegro_url = stack.enter_context(Emulator(port=emulator_port, strict=False)).base_url
        rt = stack.enter_context(
            LocalRuntime(TOPOLOGY, allegro_urls=_urls(allegro_url), time_scale=time_scale, aws_port=aws_port)
        )
        urls = rt.run(http_port=port)
        typer.echo(f"AWS (moto):   {urls.aws}   (AWS_ENDPOINT_URL)")
        typer.echo(f"HTTP API:     {urls.http}")
        typer.echo(f"Allegro:      {allegro_url or 'sandbox hosts (no emulator)'}")
        for trigger, function in rt.topology.routes():
            typer.echo(f"  route       {trigger.method} {urls.http}{trigger.path} -> {function.name}")
        for function in rt.topology.functions:
            for t in function.triggers:
                if isinstance(t, QueueTrigger):
                    typer.echo(f"  queue       {rt.wiring.queues[t.queue].url} -> {function.name}")
        for schedule, function in rt.topology.schedules():
            minutes = schedule.rate_minutes
            typer.echo(f"  schedule    every {minutes} min (x{time_scale} faster) -> {function.name}")
        typer.echo(
            "Other terminals (e.g. `allegro-sync accounts`): export "
            f"AWS_ENDPOINT_URL={urls.aws} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local "
            f"AWS_DEFAULT_REGION={rt.region}"
        )
        typer.echo("Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("stopping")


def invoke(
    function: Annotated[str, typer.Argument(help="Function name from the topology, e.g. health.")],
    event_file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="JSON event, e.g. events/health.json."
        ),
    ],
    allegro_url: AllegroUrlOption = None,
) -> None:
    """Run one handler in-process on a sample event (AWS calls hit a throwaway moto); print the result."""
    names = [f.name for f in TOPOLOGY.functions]
    if function not in names:
        raise typer.BadParameter(f"unknown function {function!r}; the topology has: {', '.join(names)}")
    try:
        event: Any = json.loads(event_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"{event_file} is not valid JSON: {error}") from error
    # Handler logs go to stderr so stdout is only the result (pipe it to jq).
    with (
        contextlib.redirect_stdout(sys.stderr),
        LocalRuntime(TOPOLOGY, allegro_urls=_urls(allegro_url)) as rt,
    ):
        result = rt.invoke(function, event)
    typer.echo(json.dumps(result, indent=2, default=str))


def register(app: typer.Typer) -> None:
    """Attach `local` and `invoke` to the main CLI (one line in cli/main.py)."""
    app.add_typer(local_app, name="local")
    app.command("invoke")(invoke)
