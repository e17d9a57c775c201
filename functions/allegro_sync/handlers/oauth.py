"""GET /oauth/start and GET /oauth/callback: connect a seller account through the browser (code + PKCE).

Thin: the checks (signed single-use start link, single-use state, PKCE) live in `services.accounts`.
Neither the event nor any query string is logged: they carry the code and the state.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from allegro_sync.adapters import oauth_pages as pages
from allegro_sync.bootstrap import application
from allegro_sync.contracts.accounts import OAuthError, OAuthUnavailable, TokenStoreCorrupt
from allegro_sync.services.accounts import InvalidAccountName, LinkRejected

logger = Logger()
app = APIGatewayHttpResolver()


def _page(status: int, title: str, message: str) -> Response[str]:
    return pages.page(app.current_event, status, title, message)


def _urls() -> tuple[dict[str, str], str]:
    event = app.current_event
    return pages.query(event), pages.callback_url(event, application().settings.oauth_redirect_uri)


@app.get("/oauth/start")
def start() -> Response[str]:
    try:
        built = application().custody()
        key = built.app_credentials.read().link_signing_key
        if not key:
            raise LookupError("the app credentials have no link key")
        query, callback_url = _urls()
        location = built.accounts().start(query, redirect_uri=callback_url, signing_key=key.encode())
    except (LookupError, TokenStoreCorrupt) as exc:
        logger.error("OAuth start without configured app credentials", extra={"reason": str(exc)})
        return _page(503, "Not configured yet", f"{exc}. Run: allegro-sync accounts set-app CLIENT_ID")
    except (LinkRejected, InvalidAccountName) as exc:
        logger.warning("rejected an OAuth start link", extra={"reason": str(exc)})
        return _page(400, "This link cannot be used", str(exc))
    return pages.redirect(location)


@app.get("/oauth/callback")
def callback() -> Response[str]:
    try:
        query, callback_url = _urls()
        profile = application().custody().accounts().callback(query, redirect_uri=callback_url)
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
