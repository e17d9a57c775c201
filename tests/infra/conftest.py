"""Synthesize stacks in-process, once per module, with a tiny stand-in asset instead of the real bundle.

The real bundling (pip for Lambda's platform) is exercised by `make synth`; these tests assert on the
template, which does not depend on the asset's contents.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_NODE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "node"
if _NODE.exists():  # the pinned, supported Node (jsii warns on the system's EOL one)
    os.environ.setdefault("JSII_NODE", str(_NODE))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from allegro_sync.topology import Topology  # noqa: E402
from infra.app import build  # noqa: E402
from infra.stack import AllegroSyncStack  # noqa: E402


@dataclass
class Synth:
    stack: AllegroSyncStack
    template: Template

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return resources

    def of_type(self, cfn_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def logical_id(self, construct: Any) -> str:
        """The template key of an L2 construct's CloudFormation resource."""
        return str(self.stack.resolve(self.stack.get_logical_id(construct.node.default_child)))

    def resource(self, construct: Any) -> dict[str, Any]:
        resource: dict[str, Any] = self.resources[self.logical_id(construct)]
        return resource

    def properties(self, construct: Any) -> dict[str, Any]:
        properties: dict[str, Any] = self.resource(construct)["Properties"]
        return properties

    def role_statements(self, function_name: str) -> list[dict[str, Any]]:
        """Every statement of the policies attached to a function's role."""
        role_id = self.logical_id(self.stack.functions[function_name].role)
        return [
            statement
            for policy in self.of_type("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def synthesize(
    tmp_dir: Path, topology: Topology | None = None, context: dict[str, Any] | None = None
) -> Synth:
    """Full app synth (cdk-nag included, so unacknowledged findings raise) with a stand-in asset."""
    asset = tmp_dir / "asset"
    asset.mkdir(parents=True, exist_ok=True)
    (asset / "index.py").write_text("def handler(event, context):\n    return None\n")
    app = cdk.App(outdir=str(tmp_dir / "cdk.out"), context=context or {})
    kwargs: dict[str, Any] = {"code": cdk.aws_lambda.Code.from_asset(str(asset))}
    if topology is not None:
        kwargs["topology"] = topology
    stack = build(app, **kwargs)
    assembly = app.synth()
    template = json.loads(Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path).read_text())
    return Synth(stack, Template.from_json(template))


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synth")
