"""GET /oauth/start and GET /oauth/callback: connect a seller account through the browser (code + PKCE).

Thin: the checks (signed single-use start link, single-use state, PKCE) live in `services.accounts`.
Neither the event nor any query string is logged: they carry the code and the state.
"""

from __future__ import annotations

import html
import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.bootstrap import application
from allegro_sync.services.accounts import InvalidAccountName, LinkRejected, OAuthError, OAuthUnavailable
from allegro_sync.services.tokens import TokenStoreCorrupt

logger = Logger()
app = APIGatewayHttpResolver()


def callback_url() -> str:
    """The address Allegro must send the seller back to: this API's /oauth/callback."""
    # Set when the API sits behind a custom domain; otherwise derived from the request.
    configured = application().settings.oauth_redirect_uri
    if configured:
        return configured
    event = app.current_event
    host = event.headers.get("host") or event.request_context.domain_name
    local = host.startswith(("127.0.0.1", "localhost"))
    scheme = event.headers.get("x-forwarded-proto") or ("http" if local else "https")
    return f"{scheme}://{host}/oauth/callback"


def _query() -> dict[str, str]:
    return {k: v for k, v in (app.current_event.query_string_parameters or {}).items() if v is not None}


def _page(status: int, title: str, message: str) -> Response[str]:
    """A small page for the seller's browser, or JSON for a client that asks for it."""
    accept = app.current_event.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        body = json.dumps({"status": "ok" if status < 400 else "error", "title": title, "message": message})
        return Response(status, "application/json", body, {"Cache-Control": "no-store"})
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>allegro-sync</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return Response(status, "text/html; charset=utf-8", page, {"Cache-Control": "no-store"})


@app.get("/oauth/start")
def start() -> Response[str]:
    try:
        built = application().custody()
        key = built.app_credentials.read().link_signing_key
        if not key:
            raise LookupError("the app credentials have no link key")
        location = built.accounts().start(_query(), redirect_uri=callback_url(), signing_key=key.encode())
    except (LookupError, TokenStoreCorrupt) as exc:
        logger.error("OAuth start without configured app credentials", extra={"reason": str(exc)})
        return _page(503, "Not configured yet", f"{exc}. Run: allegro-sync accounts set-app CLIENT_ID")
    except (LinkRejected, InvalidAccountName) as exc:
        logger.warning("rejected an OAuth start link", extra={"reason": str(exc)})
        return _page(400, "This link cannot be used", str(exc))
    return Response(302, "text/plain", "", {"Location": location, "Cache-Control": "no-store"})


@app.get("/oauth/callback")
def callback() -> Response[str]:
    try:
        profile = application().custody().accounts().callback(_query(), redirect_uri=callback_url())
    except LinkRejected as exc:
        logger.warning("rejected an OAuth callback", extra={"reason": str(exc)})
        return _page(400, "This login cannot be used", str(exc))
    except (LookupError, TokenStoreCorrupt) as exc:
        logger.error("OAuth callback without configured app credentials", extra={"reason": str(exc)})
        return _page(503, "Not configured yet", f"{exc}. Nothing was stored.")
    except OAuthUnavailable as exc:
        logger.error("Allegro OAuth failed during the callback", extra={"error": exc.error})
        return _page(502, "Allegro did not answer", f"{exc.description} Nothing was stored; try again.")
    except OAuthError as exc:
        logger.warning("Allegro refused the authorization", extra={"error": exc.error})
        return _page(400, "Allegro refused the connection", f"{exc}. Nothing was stored.")
    logger.info("seller account connected", extra={"account": profile.name, "seller_id": profile.seller_id})
    who = f" as {profile.login}" if profile.login else ""
    return _page(200, "Account connected", f"Allegro account '{profile.name}' is connected{who}.")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
