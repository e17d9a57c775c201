"""The shop's invoice PDF, fetched from the URL its signed `order.status` gave (issue 15, item 2).

Streamed and cut at Allegro's 3 MB limit, so a wrong URL cannot fill the function's memory; a redirect is
not followed (the shop names the file itself)."""

from __future__ import annotations

import httpx

MAX_BYTES = 3 * 1024 * 1024


class InvoiceUnavailable(RuntimeError):
    """The shop did not hand the file over: the record is retried later."""


def download(http: httpx.Client, url: str) -> bytes:
    with http.stream("GET", url, timeout=10, follow_redirects=False) as response:
        if response.status_code != 200:
            raise InvoiceUnavailable(f"the shop answered {response.status_code} for the invoice")
        data = b""
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > MAX_BYTES:
                break  # the use case refuses it as too large
        return data
