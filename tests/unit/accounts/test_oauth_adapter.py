"""The OAuth adapter's mapping of Allegro answers: which errors disconnect, which only mean "retry"."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from allegro_sync.adapters.allegro.environment import AllegroEnvironment
from allegro_sync.adapters.allegro.oauth import AllegroOAuth
from allegro_sync.adapters.secrets import AppCredentials
from allegro_sync.contracts.accounts import (
    AuthorizationPending,
    DeviceCodeExpired,
    InvalidGrant,
    OAuthError,
    OAuthUnavailable,
    SlowDown,
)

HOSTS = AllegroEnvironment.from_env(
    {
        "ALLEGRO_API_URL": "http://a.test",
        "ALLEGRO_UPLOAD_URL": "http://u.test",
        "ALLEGRO_OAUTH_URL": "http://o.test",
    }
)
CREDS = AppCredentials("cid", "csecret", "key")


def oauth(status: int, body: object) -> tuple[AllegroOAuth, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content = body if isinstance(body, str) else json.dumps(body)
        return httpx.Response(status, content=content.encode())

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return AllegroOAuth(lambda: CREDS, hosts=HOSTS, http=client), seen


def test_refresh_sends_the_token_in_the_body_with_basic_auth_and_parses_the_pair() -> None:
    adapter, seen = oauth(
        200, {"access_token": "A", "refresh_token": "R", "expires_in": 43199, "scope": "x y"}
    )
    pair = adapter.refresh("old-refresh", "production")
    assert (pair.access_token, pair.refresh_token, pair.expires_in, pair.scopes) == (
        "A",
        "R",
        43199,
        ("x", "y"),
    )
    request = seen[0]
    assert str(request.url) == "http://o.test/auth/oauth/token"  # nothing secret in the URL
    assert b"refresh_token=old-refresh" in request.content
    assert request.headers["authorization"].startswith("Basic ")


def test_invalid_grant_is_the_only_answer_that_means_disconnected() -> None:
    adapter, _ = oauth(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
    with pytest.raises(InvalidGrant):
        adapter.refresh("r", "production")
    for status, body in [(503, "<html>maintenance</html>"), (500, {"unexpected": True})]:
        adapter, _ = oauth(status, body)
        with pytest.raises(OAuthUnavailable):
            adapter.refresh("r", "production")
    adapter, _ = oauth(401, {"error": "unauthorized", "error_description": "Bad client credentials"})
    with pytest.raises(OAuthError, match="accounts set-app") as info:
        adapter.refresh("r", "production")
    assert not isinstance(info.value, InvalidGrant)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("authorization_pending", AuthorizationPending),
        ("slow_down", SlowDown),
        ("expired_token", DeviceCodeExpired),
        ("invalid_grant", DeviceCodeExpired),
    ],
)
def test_device_poll_answers_map_to_their_meaning(error: str, kind: type[OAuthError]) -> None:
    adapter, _ = oauth(400, {"error": error})
    with pytest.raises(kind):
        adapter.poll_device("device-code", "production")


def test_a_token_answer_missing_fields_is_not_echoed() -> None:
    adapter, _ = oauth(200, {"access_token": "SECRET-ACCESS"})
    with pytest.raises(OAuthUnavailable) as info:
        adapter.refresh("r", "production")
    assert "SECRET-ACCESS" not in str(info.value)


def test_identify_falls_back_to_the_jwt_seller_id_when_me_fails() -> None:
    adapter, _ = oauth(503, "down")
    payload = "eyJ1c2VyX25hbWUiOiI0MiJ9"  # {"user_name":"42"}
    identity = adapter.identify(f"h.{payload}.s", "production")
    assert (identity.seller_id, identity.login) == ("42", "")


def test_a_sandbox_account_refreshes_on_the_sandbox_host_with_the_sandbox_app() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "A", "refresh_token": "R", "expires_in": 43199})

    creds = AppCredentials("cid", "csecret", "key", sandbox_client_id="sid", sandbox_client_secret="ssecret")
    adapter = AllegroOAuth(  # no explicit hosts: each account's own environment
        lambda: creds, hosts=None, http=httpx.Client(transport=httpx.MockTransport(answer))
    )
    adapter.refresh("r", "sandbox")
    adapter.refresh("r", "production")
    assert [str(r.url) for r in seen] == [
        "https://allegro.pl.allegrosandbox.pl/auth/oauth/token",
        "https://allegro.pl/auth/oauth/token",
    ]
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"sid:ssecret").decode()
    assert seen[1].headers["authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
