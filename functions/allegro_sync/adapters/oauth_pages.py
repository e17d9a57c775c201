"""What the seller's browser sees of the OAuth routes: the callback address and small answer pages.

Neither the event nor any query string is logged by these helpers: they carry the code and the state.
"""

from __future__ import annotations

import html
import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def callback_url(event: APIGatewayProxyEventV2, configured: str | None) -> str:
    """Where Allegro must send the seller back: `configured` (a custom domain), else this API's callback."""
    if configured:
        return configured
    host = event.headers.get("host") or event.request_context.domain_name
    local = host.startswith(("127.0.0.1", "localhost"))
    scheme = event.headers.get("x-forwarded-proto") or ("http" if local else "https")
    return f"{scheme}://{host}/oauth/callback"


def query(event: APIGatewayProxyEventV2) -> dict[str, str]:
    return {k: v for k, v in (event.query_string_parameters or {}).items() if v is not None}


def page(event: APIGatewayProxyEventV2, status: int, title: str, message: str) -> Response[str]:
    """A small page for the seller's browser, or JSON for a client that asks for it."""
    accept = event.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        body = json.dumps({"status": "ok" if status < 400 else "error", "title": title, "message": message})
        return Response(status, "application/json", body, {"Cache-Control": "no-store"})
    text = (
        "<!doctype html><html><head><meta charset='utf-8'><title>allegro-sync</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return Response(status, "text/html; charset=utf-8", text, {"Cache-Control": "no-store"})


def redirect(location: str) -> Response[str]:
    return Response(302, "text/plain", "", {"Location": location, "Cache-Control": "no-store"})
