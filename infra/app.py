"""`cdk synth` entry point (cdk.json runs `python -m infra.app`).

cdk-nag's AWS Solutions checks run on every synth: a finding that is neither fixed nor acknowledged
with a reason fails the synth.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from allegro_sync.topology import TOPOLOGY, Topology
from infra.bundling import lambda_code
from infra.config import Settings
from infra.stack import AllegroSyncStack


def build(
    app: cdk.App, topology: Topology = TOPOLOGY, code: cdk.aws_lambda.Code | None = None
) -> AllegroSyncStack:
    """The stack inside `app`, with cdk-nag attached; tests pass their own topology and a tiny asset."""
    settings = Settings.from_context(app.node.try_get_context)
    stack = AllegroSyncStack(
        app, settings.stack_name, topology=topology, settings=settings, code=code or lambda_code()
    )
    # Acknowledged findings are also written into the template's Metadata, so whoever reviews what
    # `cdk deploy` will create sees each accepted finding with its reason.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stack


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
