"""The emulator's OAuth server keeps Allegro's rules (FACTS.md, OAuth 2.0), checked over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_USER_AGENT, Emulator
from allegro_sync.emulator.oauth import pkce_s256
from tests.integration.emulator.conftest import AUTH, DEVICE_GRANT, MEDIA

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

pytestmark = pytest.mark.integration

CALLBACK = "http://127.0.0.1/oauth/callback"


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, follow_redirects=False, headers=UA) as client:
        yield client


def token(http: httpx.Client, auth: tuple[str, str] = AUTH, **form: str) -> httpx.Response:
    return post_token(http, form, auth)


def post_token(http: httpx.Client, form: dict[str, str], auth: tuple[str, str] = AUTH) -> httpx.Response:
    return http.post("/auth/oauth/token", data=form, auth=auth)


def api_get(http: httpx.Client, access_token: str, path: str = "/me") -> httpx.Response:
    return http.get(path, headers={"Authorization": f"Bearer {access_token}", "Accept": MEDIA})


def authorize(http: httpx.Client, **extra: str) -> httpx.Response:
    params = {"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "redirect_uri": CALLBACK, **extra}
    return http.get("/auth/oauth/authorize", params=params)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def code_for(emulator: Emulator, http: httpx.Client, login: str, **extra: str) -> dict[str, str]:
    page = authorize(http, **extra)
    assert page.status_code == 200
    assert "form" in page.text
    return query_of(emulator.approve_authorization(login))


# ------------------------------------------------------------------ authorization code
def test_authorization_code_with_pkce_gives_tokens_for_the_seller(
    emulator: Emulator, http: httpx.Client
) -> None:
    seller_id = emulator.create_seller("sklep-abc")
    verifier = secrets.token_urlsafe(40)
    redirect = code_for(
        emulator,
        http,
        "sklep-abc",
        state="xyz",
        code_challenge=pkce_s256(verifier),
        code_challenge_method="S256",
    )
    assert redirect["state"] == "xyz"

    answer = token(
        http,
        grant_type="authorization_code",
        code=redirect["code"],
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["expires_in"] == 43199
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    assert body["access_token"].count(".") == 2  # JWT-looking
    assert emulator.oauth.authenticate(body["access_token"]).seller_id == seller_id
    assert api_get(http, body["access_token"]).status_code != 401


def test_authorization_code_is_single_use(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    code = code_for(emulator, http, "sklep-abc")["code"]
    first = token(http, grant_type="authorization_code", code=code, redirect_uri=CALLBACK)
    second = token(http, grant_type="authorization_code", code=code, redirect_uri=CALLBACK)
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_authorization_code_expires_after_about_ten_seconds(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    code = code_for(emulator, http, "sklep-abc")["code"]
    emulator.advance(11)
    answer = token(http, grant_type="authorization_code", code=code, redirect_uri=CALLBACK)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("verifier", "expected_error"), [("not-the-verifier", "invalid_grant"), (None, "invalid_request")]
)
def test_pkce_mismatch_or_missing_verifier_is_refused(
    emulator: Emulator, http: httpx.Client, verifier: str | None, expected_error: str
) -> None:
    emulator.create_seller("sklep-abc")
    real = secrets.token_urlsafe(40)
    code = code_for(
        emulator, http, "sklep-abc", code_challenge=pkce_s256(real), code_challenge_method="S256"
    )["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if verifier is not None:
        form["code_verifier"] = verifier
    answer = post_token(http, form)
    assert answer.status_code == 400
    assert answer.json()["error"] == expected_error


def test_pkce_plain_method_compares_verbatim(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    code = code_for(
        emulator, http, "sklep-abc", code_challenge="plain-verifier", code_challenge_method="plain"
    )
    answer = token(
        http,
        grant_type="authorization_code",
        code=code["code"],
        redirect_uri=CALLBACK,
        code_verifier="plain-verifier",
    )
    assert answer.status_code == 200


def test_denied_login_redirects_with_access_denied_and_state(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    authorize(http, state="s1")
    assert query_of(emulator.deny_authorization()) == {"error": "access_denied", "state": "s1"}


def test_unregistered_redirect_uri_is_refused_without_redirecting(http: httpx.Client) -> None:
    answer = authorize(http, redirect_uri="https://attacker.example/cb")
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_loopback_callback_may_use_any_port(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    assert authorize(http, redirect_uri="http://127.0.0.1:8765/oauth/callback").status_code == 200
    location = emulator.approve_authorization("sklep-abc")
    assert location.startswith("http://127.0.0.1:8765/oauth/callback?code=")


def test_consent_form_post_redirects_like_the_browser_would(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    authorize(http, state="abc")
    request_id = emulator.oauth.pending_authorizations()[-1]
    answer = http.post(
        "/auth/oauth/authorize", data={"request_id": request_id, "login": "sklep-abc", "decision": "approve"}
    )
    assert answer.status_code == 302
    assert query_of(answer.headers["location"])["state"] == "abc"


def test_auto_approve_redirects_straight_back_with_a_code() -> None:
    with (
        Emulator(auto_approve=True) as emulator,
        httpx.Client(base_url=emulator.base_url, headers=UA) as http,
    ):
        emulator.create_seller("sklep-abc")
        answer = authorize(http, state="st")
        assert answer.status_code == 302
        redirect = query_of(answer.headers["location"])
        assert redirect["state"] == "st"
        exchanged = token(http, grant_type="authorization_code", code=redirect["code"], redirect_uri=CALLBACK)
        assert exchanged.status_code == 200
        assert emulator.violations == []


# ------------------------------------------------------------------------- device flow
def start_device(http: httpx.Client) -> dict[str, Any]:
    answer = http.post("/auth/oauth/device", data={"client_id": DEFAULT_CLIENT_ID}, auth=AUTH)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(http: httpx.Client, device_code: str) -> httpx.Response:
    return token(http, grant_type=DEVICE_GRANT, device_code=device_code)


def test_device_flow_answers_pending_then_tokens_once(emulator: Emulator, http: httpx.Client) -> None:
    seller_id = emulator.create_seller("sklep-abc")
    device = start_device(http)
    assert device["expires_in"] == 3600
    assert device["interval"] == 5
    assert device["verification_uri_complete"].endswith(device["user_code"])
    assert device["verification_uri"].startswith(emulator.base_url)

    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"
    emulator.advance(5)
    emulator.approve_device(device["user_code"], "sklep-abc")
    emulator.advance(5)
    granted = poll(http, device["device_code"])
    assert granted.status_code == 200
    assert emulator.oauth.authenticate(granted.json()["access_token"]).seller_id == seller_id

    emulator.advance(5)
    again = poll(http, device["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_polling_faster_than_the_interval_answers_slow_down(emulator: Emulator, http: httpx.Client) -> None:
    device = start_device(http)
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"
    emulator.advance(2)
    fast = poll(http, device["device_code"])
    assert fast.status_code == 400
    assert fast.json()["error"] == "slow_down"
    emulator.advance(5)
    assert poll(http, device["device_code"]).json()["error"] == "authorization_pending"


def test_denied_device_code_answers_access_denied(emulator: Emulator, http: httpx.Client) -> None:
    device = start_device(http)
    emulator.deny_device(device["user_code"])
    answer = poll(http, device["device_code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"


def test_device_code_expires_after_an_hour(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    device = start_device(http)
    emulator.advance(3601)
    answer = poll(http, device["device_code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "expired_token"
    with pytest.raises(ValueError, match="expired"):
        emulator.approve_device(device["user_code"], "sklep-abc")


def test_device_approval_through_the_verification_page(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    device = start_device(http)
    page = http.get(urlsplit(device["verification_uri_complete"]).path, params={"code": device["user_code"]})
    assert device["user_code"] in page.text
    http.post(
        "/skojarz-aplikacje",
        data={"user_code": device["user_code"], "login": "sklep-abc", "decision": "approve"},
    )
    assert poll(http, device["device_code"]).status_code == 200


def test_device_endpoint_requires_basic_client_authentication(http: httpx.Client) -> None:
    answer = http.post(
        "/auth/oauth/device", data={"client_id": DEFAULT_CLIENT_ID}, auth=(DEFAULT_CLIENT_ID, "wrong")
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


# --------------------------------------------------------------------- refresh tokens
def refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    return token(http, grant_type="refresh_token", refresh_token=refresh_token)


def test_refresh_rotates_and_the_old_token_has_a_sixty_second_grace(
    emulator: Emulator, http: httpx.Client
) -> None:
    emulator.create_seller("sklep-abc")
    first = emulator.issue_tokens("sklep-abc")

    rotated = refresh(http, first["refresh_token"])
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert rotated.json()["access_token"] != first["access_token"]

    emulator.advance(59)
    within_grace = refresh(http, first["refresh_token"])
    assert within_grace.status_code == 200

    emulator.advance(2)  # 61 s after the first use
    too_late = refresh(http, first["refresh_token"])
    assert too_late.status_code == 400
    assert too_late.json()["error"] == "invalid_grant"

    assert refresh(http, rotated.json()["refresh_token"]).status_code == 200
    counters = emulator.refresh_counters("sklep-abc")
    assert (counters.attempts, counters.successes) == (4, 3)
    assert emulator.refresh_count("sklep-abc") == 4


def test_refresh_token_dies_after_three_months(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    pair = emulator.issue_tokens("sklep-abc")
    emulator.advance(91 * 24 * 3600)
    assert refresh(http, pair["refresh_token"]).json()["error"] == "invalid_grant"


def test_refresh_token_query_parameters_work_like_allegro_examples(
    emulator: Emulator, http: httpx.Client
) -> None:
    emulator.create_seller("sklep-abc")
    pair = emulator.issue_tokens("sklep-abc")
    answer = http.post(
        "/auth/oauth/token",
        params={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        auth=AUTH,
    )
    assert answer.status_code == 200


def test_refresh_token_of_another_app_is_refused(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    other = emulator.create_app("other-app", "other-secret")
    pair = emulator.issue_tokens("sklep-abc")
    answer = token(
        http,
        auth=(other.client_id, other.client_secret),
        grant_type="refresh_token",
        refresh_token=pair["refresh_token"],
    )
    assert answer.json()["error"] == "invalid_grant"


# --------------------------------------------------------------- access tokens & more
def test_expired_access_token_answers_401_invalid_token(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    pair = emulator.issue_tokens("sklep-abc")
    emulator.advance(43199)
    answer = api_get(http, pair["access_token"])
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"
    assert "expired" in answer.json()["error_description"]


def test_forged_or_missing_token_answers_401(http: httpx.Client) -> None:
    assert api_get(http, "eyJ.eyJ.forged").json()["error"] == "invalid_token"
    missing = http.get("/me", headers={"Accept": MEDIA})
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"


def test_disconnected_seller_gets_invalid_grant_and_401(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    pair = emulator.issue_tokens("sklep-abc")
    emulator.disconnect("sklep-abc")
    assert refresh(http, pair["refresh_token"]).json()["error"] == "invalid_grant"
    assert api_get(http, pair["access_token"]).status_code == 401
    # logging in again after a password change works
    fresh = emulator.issue_tokens("sklep-abc")
    assert api_get(http, fresh["access_token"]).status_code != 401


def test_client_credentials_token_has_no_seller_and_no_refresh_token(
    emulator: Emulator, http: httpx.Client
) -> None:
    answer = token(http, grant_type="client_credentials")
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    assert emulator.oauth.authenticate(answer.json()["access_token"]).seller_id is None


def test_too_many_tokens_for_one_user_answers_429(emulator: Emulator, http: httpx.Client) -> None:
    emulator.create_seller("sklep-abc")
    emulator.oauth.max_tokens_per_user_per_hour = 2
    pair = emulator.issue_tokens("sklep-abc")
    assert refresh(http, pair["refresh_token"]).status_code == 200
    too_many = refresh(http, pair["refresh_token"])
    assert too_many.status_code == 429
    assert too_many.json()["error"] == "too_many_requests"
    emulator.advance(3601)
    fresh = emulator.issue_tokens("sklep-abc")
    assert refresh(http, fresh["refresh_token"]).status_code == 200


def test_unknown_grant_type_and_bad_client(http: httpx.Client) -> None:
    assert token(http, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert token(http, auth=("nobody", "x"), grant_type="client_credentials").status_code == 401


def test_trace_id_on_oauth_answers(http: httpx.Client) -> None:
    assert token(http, grant_type="client_credentials").headers["trace-id"]


def test_client_credentials_token_reads_categories_but_not_offers(
    emulator: Emulator, http: httpx.Client
) -> None:
    app_token = token(http, grant_type="client_credentials").json()["access_token"]
    assert api_get(http, app_token, "/sale/categories").status_code == 200
    offers = api_get(http, app_token, "/sale/offers")
    assert offers.status_code == 403
    assert offers.json()["errors"][0]["code"]
