"""Reads a GPSR safety-information file the shop gives by URL, to upload it to Allegro as an attachment.

Allegro takes the file itself (PUT to its upload URL), not a link, so the catalogue worker reads it once
per account and URL. What the seller must fix (gone, not a PDF/JPEG/PNG, too large) raises
`SafetyFileUnusable` (the product waits with that reason); a timeout or a 5xx of the shop propagates, so
the event is retried.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import httpx

from allegro_sync.contracts.gpsr import SafetyFile, SafetyFileUnusable

MAX_BYTES = 20 * 1024 * 1024  # no published limit for attachments; images allow 25 MB
TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
MAGIC = {"application/pdf": b"%PDF", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}


class HttpSafetyFiles:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def fetch(self, url: str) -> SafetyFile:
        with self._http.stream("GET", url, follow_redirects=True) as response:
            if 400 <= response.status_code < 500:
                raise SafetyFileUnusable(f"the shop answered {response.status_code}")
            response.raise_for_status()  # 5xx: retried with the event
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise SafetyFileUnusable(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
        media = next((m for m, magic in MAGIC.items() if data.startswith(magic)), None)
        if media is None:
            raise SafetyFileUnusable("not a PDF, JPEG or PNG file")
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "safety-information"
        if not name.lower().endswith((TYPES[media], ".jpeg") if media == "image/jpeg" else TYPES[media]):
            name += TYPES[media]
        return SafetyFile(name=name[-200:], media_type=media, data=data)
