"""What the emulator's front door refuses before business logic, as real Allegro does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from allegro_sync.emulator import DEFAULT_USER_AGENT, Emulator
from allegro_sync.emulator.types import EmulatorRequest, EmulatorResponse
from tests.fixtures.emulator import checked_emulator

UA = {"User-Agent": DEFAULT_USER_AGENT}  # Allegro refuses API calls without one (#13126)

pytestmark = pytest.mark.integration

MEDIA = "application/vnd.allegro.public.v1+json"


@pytest.fixture
def seller_token(emulator: Emulator) -> str:
    emulator.create_seller("sklep-abc")
    return str(emulator.issue_tokens("sklep-abc")["access_token"])


@pytest.fixture
def http(emulator: Emulator, seller_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {seller_token}", "Accept": MEDIA, **UA}
    with httpx.Client(base_url=emulator.base_url, headers=headers) as client:
        yield client


def quantity_command(value: object = 5) -> dict[str, object]:
    return {
        "modification": {"changeType": "FIXED", "value": value},
        "offerCriteria": [{"type": "CONTAINS_OFFERS", "offers": [{"id": "123"}]}],
    }


def test_every_answer_carries_a_trace_id(http: httpx.Client) -> None:
    ids = {
        http.get("/me").headers["trace-id"],
        http.get("/me", headers={"Accept": "text/html"}).headers["trace-id"],
    }
    assert len(ids) == 2


def test_missing_accept_is_refused_with_406(http: httpx.Client) -> None:
    answer = http.get("/me", headers={"Accept": "application/json"})
    assert answer.status_code == 406
    assert answer.json()["errors"][0]["code"] == "NOT_ACCEPTABLE"


def test_beta_media_type_is_refused(http: httpx.Client) -> None:
    answer = http.get("/sale/categories", headers={"Accept": "application/vnd.allegro.beta.v1+json"})
    assert answer.status_code == 406
    assert "Beta" in answer.json()["errors"][0]["message"]


def test_body_with_plain_json_content_type_is_refused_with_415(http: httpx.Client) -> None:
    answer = http.put(
        f"/sale/offer-quantity-change-commands/{uuid.uuid4()}",
        content=json.dumps(quantity_command()),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 415
    assert answer.json()["errors"][0]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_image_upload_accepts_raw_image_types_but_not_others(http: httpx.Client) -> None:
    wrong = http.post("/sale/images", content=b"GIF89a", headers={"Content-Type": "image/gif"})
    assert wrong.status_code == 415
    right = http.post("/sale/images", content=b"\x89PNG\r\n", headers={"Content-Type": "image/png"})
    assert right.status_code != 415


def test_request_outside_the_spec_answers_422_and_is_recorded(emulator: Emulator, http: httpx.Client) -> None:
    answer = http.put(
        f"/sale/offer-quantity-change-commands/{uuid.uuid4()}",
        content=json.dumps(quantity_command(value="five")),
        headers={"Content-Type": MEDIA},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "VALIDATION_ERROR"
    violations = emulator.take_violations()
    assert [(v.kind, v.method) for v in violations] == [("request", "PUT")]
    assert "modification/value" in violations[0].message


def test_wrong_response_from_the_marketplace_is_caught(
    emulator: Emulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(request: EmulatorRequest) -> EmulatorResponse:
        return EmulatorResponse(200, {"categories": [{"id": 7, "name": "Elektronika"}]})

    monkeypatch.setattr(emulator.marketplace, "handle", wrong)
    assert http.get("/sale/categories").status_code == 200
    violations = emulator.take_violations()
    assert len(violations) == 1
    assert violations[0].kind == "response"
    assert "categories/0/id" in violations[0].message


def test_undocumented_error_status_needs_the_allegro_error_envelope(
    emulator: Emulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(
        [
            EmulatorResponse(418, {"errors": [{"code": "TEAPOT", "message": "no"}]}),
            EmulatorResponse(418, {"oops": True}),
        ]
    )
    monkeypatch.setattr(emulator.marketplace, "handle", lambda request: next(answers))
    http.get("/sale/categories")
    assert emulator.take_violations() == []
    http.get("/sale/categories")
    assert len(emulator.take_violations()) == 1


def test_a_crash_in_the_marketplace_answers_500_and_fails_the_test(
    emulator: Emulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(request: EmulatorRequest) -> EmulatorResponse:
        raise RuntimeError("bug")

    monkeypatch.setattr(emulator.marketplace, "handle", boom)
    assert http.get("/sale/categories").status_code == 500
    assert [v.kind for v in emulator.take_violations()] == ["crash"]


def test_unknown_route_answers_404_allegro_style(emulator: Emulator, http: httpx.Client) -> None:
    answer = http.get("/sale/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "NOT_FOUND"
    assert [v.message.split(":")[0] for v in emulator.take_violations()] == ["PathNotFound"]


# ------------------------------------------------------------------------ rate limit
def test_rate_limit_blocks_the_client_id_and_calls_during_the_block_extend_it(
    emulator: Emulator, http: httpx.Client
) -> None:
    emulator.set_faults(requests_per_minute=3)
    assert [http.get("/me").status_code != 429 for _ in range(3)] == [True] * 3
    blocked = http.get("/me")
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"

    emulator.advance(59)
    assert http.get("/me").status_code == 429  # still blocked, and this call extends the block
    emulator.advance(59)
    assert http.get("/me").status_code == 429  # 118 s after the first 429: only the extension holds it
    emulator.advance(61)
    assert http.get("/me").status_code != 429


def test_rate_limit_is_per_client_id(emulator: Emulator, http: httpx.Client) -> None:
    emulator.set_faults(requests_per_minute=1)
    other_app = emulator.create_app("second-app", "second-secret")
    other_token = emulator.issue_tokens("sklep-abc", client_id=other_app.client_id)["access_token"]
    http.get("/me")
    assert http.get("/me").status_code == 429
    assert http.get("/me", headers={"Authorization": f"Bearer {other_token}"}).status_code != 429


def test_rate_limit_window_slides(emulator: Emulator, http: httpx.Client) -> None:
    emulator.set_faults(requests_per_minute=2)
    http.get("/me")
    emulator.advance(30)
    http.get("/me")
    emulator.advance(31)  # the first call left the window
    assert http.get("/me").status_code != 429


# -------------------------------------------------------------------------- faults
def test_error_rate_one_makes_every_call_fail_with_5xx(emulator: Emulator, http: httpx.Client) -> None:
    emulator.set_faults(error_rate=1.0)
    statuses = {http.get("/me").status_code for _ in range(5)}
    assert statuses <= {500, 502, 503}
    emulator.set_faults(error_rate=0.0)
    assert http.get("/me").status_code < 500


def test_unknown_or_invalid_fault_is_refused_and_changes_nothing(emulator: Emulator) -> None:
    before = emulator.faults()
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.set_faults(no_such_knob=1)
    with pytest.raises(ValueError, match="rates"):
        emulator.set_faults(error_rate=2.0)
    assert emulator.faults()["error_rate"] == before["error_rate"]


def test_marketplace_knobs_are_reachable_through_set_faults(emulator: Emulator) -> None:
    emulator.set_faults(patch_conflict_rate=0.5)
    assert emulator.marketplace.faults.patch_conflict_rate == 0.5


def test_latency_fault_sleeps_before_answering(
    emulator: Emulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(emulator.app, "sleep", slept.append)
    emulator.set_faults(latency_ms=250, latency_rate=1.0)
    http.get("/me")
    emulator.set_faults(latency_rate=0.0)
    http.get("/me")
    assert slept == [0.25]


def test_a_taken_port_raises_instead_of_exiting(emulator: Emulator) -> None:
    with pytest.raises(OSError, match="cannot listen"):
        Emulator(port=emulator.port).start()


def test_a_crash_in_oauth_answers_500_with_a_trace_id(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(request: EmulatorRequest) -> EmulatorResponse:
        raise RuntimeError("bug")

    monkeypatch.setattr(emulator.oauth, "handle", boom)
    answer = httpx.post(f"{emulator.base_url}/auth/oauth/token")
    assert answer.status_code == 500
    assert answer.headers["trace-id"]
    assert [v.kind for v in emulator.take_violations()] == ["crash"]


def test_malformed_json_body_answers_400_and_reaches_nothing(emulator: Emulator, http: httpx.Client) -> None:
    answer = http.put(
        f"/sale/offer-quantity-change-commands/{uuid.uuid4()}",
        content=b'{"modification": ',
        headers={"Content-Type": MEDIA},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "INVALID_JSON"
    assert emulator.marketplace.snapshot()["commands"] == 0


def test_the_fixture_fails_a_test_that_broke_the_spec() -> None:
    def session_with_a_bad_request() -> None:
        with checked_emulator() as running:
            running.create_seller("sklep-abc")
            token = running.issue_tokens("sklep-abc")["access_token"]
            httpx.get(
                f"{running.base_url}/sale/offers",
                params={"limit": "5000"},  # the spec allows at most 1000
                headers={"Authorization": f"Bearer {token}", "Accept": MEDIA, **UA},
            )

    with pytest.raises(AssertionError, match="outside Allegro's spec"):
        session_with_a_bad_request()


def test_a_bad_marketplace_knob_changes_no_limit_either(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="patch_conflict_rate"):
        emulator.set_faults(requests_per_minute=7, patch_conflict_rate=3)
    assert emulator.faults()["requests_per_minute"] == 9000
    assert emulator.faults()["patch_conflict_rate"] == 0.0
