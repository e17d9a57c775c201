"""Where the seller's competitor prices come from: an object in S3 or an HTTPS JSON endpoint they own.

`REPRICING_FEED_URL` names it: `s3://bucket/key.csv` (or `.json`), or `https://...`. Plain `http://` is
refused except for 127.0.0.1/localhost (tests, local runtime): prices that steer real money travel over TLS.
The parsing (and every reason a row is skipped) lives in `domain.repricing_feed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx

from allegro_sync.contracts.repricing import FeedUnavailable
from allegro_sync.domain.repricing_feed import FeedResult, parse_feed

__all__ = ["CompetitorFeed", "FeedUnavailable"]

MAX_FEED_BYTES = 20 * 1024 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost")


class CompetitorFeed:
    """Fetches and parses the feed at `url`; `s3` and `http` are injectable (moto, MockTransport)."""

    def __init__(
        self, url: str, *, s3: Any = None, http: httpx.Client | None = None, currency: str = "PLN"
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme == "s3":
            if not parts.netloc or not parts.path.strip("/"):
                raise ValueError(f"feed URL {url!r} must be s3://bucket/key")
        elif parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise ValueError(f"feed URL {url!r}: use https:// (http only for 127.0.0.1)")
        elif parts.scheme not in ("https", "http"):
            raise ValueError(f"feed URL {url!r} must start with s3:// or https://")
        self.url = url
        self._parts = parts
        self._s3 = s3
        self._http = http
        self._currency = currency

    def load(self, *, known_skus: frozenset[str], ean_to_sku: Mapping[str, str]) -> FeedResult:
        raw, kind = self._fetch()
        return parse_feed(
            raw, known_skus=known_skus, ean_to_sku=ean_to_sku, currency=self._currency, kind=kind
        )

    def _fetch(self) -> tuple[bytes, str | None]:
        path = self._parts.path.lower()
        kind = "csv" if path.endswith(".csv") else "json" if path.endswith(".json") else None
        if self._parts.scheme == "s3":
            s3 = self._s3 or boto3.client("s3")
            key = self._parts.path.lstrip("/")
            try:
                obj = s3.get_object(Bucket=self._parts.netloc, Key=key)
            except Exception as error:  # botocore's ClientError and friends; the reason is kept
                raise FeedUnavailable(f"cannot read {self.url}: {error}") from error
            if int(obj.get("ContentLength", 0)) > MAX_FEED_BYTES:
                raise FeedUnavailable(f"{self.url} is larger than {MAX_FEED_BYTES} bytes")
            return bytes(obj["Body"].read()), kind
        http = self._http or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            response = http.get(self.url, headers={"Accept": "application/json, text/csv"})
        except httpx.HTTPError as error:
            raise FeedUnavailable(f"cannot fetch the feed: {type(error).__name__}") from error
        if response.status_code != 200:
            raise FeedUnavailable(f"feed answered HTTP {response.status_code}")
        if len(response.content) > MAX_FEED_BYTES:
            raise FeedUnavailable(f"feed is larger than {MAX_FEED_BYTES} bytes")
        if kind is None and "csv" in response.headers.get("content-type", ""):
            kind = "csv"
        return response.content, kind
