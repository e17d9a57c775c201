"""Label PDFs in the stack's labels bucket: encrypted with the stack's key, no public access, expired by a
lifecycle rule (the label prints the buyer's address: docs/privacy.md). The shop gets a presigned link,
never the bucket."""

from __future__ import annotations

from typing import Any


class S3LabelFiles:
    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._client = client

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/pdf")

    def erase(self, checkout_form_id: str) -> int:
        """Every label of the order (`buyers forget`); keys are `labels/<form>/<package>.pdf`."""
        found = self._client.list_objects_v2(Bucket=self._bucket, Prefix=f"labels/{checkout_form_id}/")
        keys = [{"Key": o["Key"]} for o in found.get("Contents", [])]
        if keys:
            self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": keys})
        return len(keys)

    def link(self, key: str, seconds: int) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
        )
        return url
