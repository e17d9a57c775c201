"""The one place that turns an error an operator can meet into one line saying what to do.

`ErrorsToMessages` is the root command group of `allegro-sync` (cli/main.py): any command that fails with a
known error (no region, no credentials, the local stack or Allegro unreachable, a stack not found) ends with
one red line on stderr and exit code 1, never a traceback. Unknown errors still show their traceback: they
are bugs, and the traceback is what a bug report needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import typer
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from typer._click.core import Context as ClickContext  # the click typer vendors
from typer.core import TyperGroup

from allegro_sync.cli.deployment import DeploymentNotFound
from allegro_sync.contracts.accounts import OAuthUnavailable
from allegro_sync.contracts.allegro_errors import AllegroRateLimited, AllegroUnavailable

LOCAL_HINT = "is `allegro-sync local up` running? (AWS_ENDPOINT_URL points at it)"


def _endpoint(error: EndpointConnectionError) -> str:
    endpoint = str(error.kwargs.get("endpoint_url", "AWS"))
    local = "127.0.0.1" in endpoint or "localhost" in endpoint
    return f"nothing answers at {endpoint}: " + (LOCAL_HINT if local else "check the network and AWS_REGION")


def _refused(error: ClientError) -> str:
    info: dict[str, Any] = error.response.get("Error", {})
    return f"AWS refused {error.operation_name}: {info.get('Code', '?')}: {info.get('Message', '')}".rstrip()


_MESSAGES: tuple[tuple[tuple[type[BaseException], ...], Callable[[Any], str]], ...] = (
    (
        (NoRegionError,),
        lambda e: "no AWS region: set AWS_REGION (e.g. eu-central-1); the local runtime needs one too",
    ),
    (
        (NoCredentialsError, PartialCredentialsError),
        lambda e: (
            "no AWS credentials: configure a profile (aws configure) or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY; for the local runtime any value works (e.g. test/test)"
        ),
    ),
    ((EndpointConnectionError,), _endpoint),
    ((ClientError,), _refused),
    ((DeploymentNotFound,), str),
    (
        (AllegroUnavailable, OAuthUnavailable, httpx.TransportError),
        lambda e: f"Allegro cannot be reached ({_short(e)}): check the network, or the emulator if local",
    ),
    ((AllegroRateLimited,), lambda e: f"Allegro's rate limit: {_short(e)}; try again in a minute"),
)
KNOWN = tuple(kind for kinds, _ in _MESSAGES for kind in kinds)


def describe(error: BaseException) -> str | None:
    """What went wrong and what to do, in one line; None for an error this module does not know."""
    for kinds, message in _MESSAGES:
        if isinstance(error, kinds):
            return message(error)
    return None


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


class ErrorsToMessages(TyperGroup):
    """The root group: known errors of any sub-command become one line and exit code 1."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except KNOWN as error:
            message = describe(error)
            if message is None:  # pragma: no cover - every KNOWN type is described
                raise
            typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
