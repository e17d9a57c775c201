"""Issue 15: the labels bucket holds PDFs that print the buyer's address: encrypted with the stack's key,
never public, TLS only, expired by a lifecycle rule; only the fulfillment worker may touch its objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allegro_sync.topology import TOPOLOGY
from tests.infra.conftest import Synth, synthesize

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def shipped(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "labels-bucket", TOPOLOGY)


def _bucket(synth: Synth) -> dict[str, Any]:
    return synth.resource(synth.stack.buckets["labels"])["Properties"]


def test_the_labels_bucket_is_encrypted_with_the_stacks_key_and_blocks_public_access(shipped: Synth) -> None:
    props = _bucket(shipped)

    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_ref = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert key_ref == shipped.logical_id(shipped.stack.key)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_labels_expire_by_a_lifecycle_rule(shipped: Synth) -> None:
    [rule] = _bucket(shipped)["LifecycleConfiguration"]["Rules"]

    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == TOPOLOGY.buckets[0].expire_days


def test_only_the_label_writer_and_the_link_signer_are_told_where_the_bucket_is(shipped: Synth) -> None:
    told = [
        name
        for name, function in shipped.stack.functions.items()
        if "BUCKET_LABELS"
        in shipped.resource(function)["Properties"].get("Environment", {}).get("Variables", {})
    ]

    # fulfillment_worker stores labels; shop_notifier presigns the shop's link when it delivers `order.label`
    assert sorted(told) == ["fulfillment_worker", "shop_notifier"]
