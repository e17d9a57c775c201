"""What the emulator's HTTP tests share: the app's credentials and the device flow as the CLI runs it."""

from __future__ import annotations

from typing import Any

import httpx

from allegro_sync.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from allegro_sync.emulator.admin import EmulatorAdmin

AUTH = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
MEDIA = "application/vnd.allegro.public.v1+json"


def device_login(
    http: httpx.Client, admin: EmulatorAdmin, login: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A device code asked for over HTTP, approved as `login` through the admin API, exchanged for tokens:
    (the device answer, the token pair)."""
    device: dict[str, Any] = http.post(
        "/auth/oauth/device", data={"client_id": DEFAULT_CLIENT_ID}, auth=AUTH
    ).json()
    admin.approve_device(device["user_code"], login)
    form = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"]}
    pair: dict[str, Any] = http.post("/auth/oauth/token", data=form, auth=AUTH).json()
    return device, pair
