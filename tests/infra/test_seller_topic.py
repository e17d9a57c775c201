"""Issue 15, item 4: the seller-messages SNS topic: the stack's key, TLS only, e-mail only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from allegro_sync.topology import TOPOLOGY, topic_env
from infra import naming
from tests.infra.conftest import Synth, synthesize

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def with_email(synth_dir: Path) -> Synth:
    return synthesize(synth_dir / "seller-topic", TOPOLOGY, {"messagesEmail": "seller@example.com"})


def test_the_seller_topic_is_encrypted_subscribed_by_email_and_given_to_the_follower(
    with_email: Synth,
) -> None:
    topic = with_email.stack.topics["seller-messages"]
    logical = with_email.logical_id(topic)
    assert "KmsMasterKeyId" in with_email.resources[logical]["Properties"]
    [subscription] = [
        s["Properties"]
        for s in with_email.of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": logical}
    ]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "seller@example.com")
    outputs = with_email.template.to_json()["Outputs"]
    assert outputs[naming.output_key(topic_env("seller-messages"))]["Value"] == {"Ref": logical}
