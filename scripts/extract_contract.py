"""Extract the project's Allegro contract from the official OpenAPI spec.

The emulator validates every exchange against the operations the project uses. The official spec is
39k lines and lives outside the repository, so we ship a trimmed, description-free copy with only
those operations and the components they reference (transitively). Rerunning this script on the
same spec reproduces the file byte for byte, which a contract test checks.

Usage: python scripts/extract_contract.py [SPEC] [--output PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO.parent / "shared" / "allegro-api" / "openapi.yaml"
DEFAULT_OUTPUT = REPO / "functions" / "allegro_sync" / "emulator" / "contract" / "allegro-openapi.yaml"

# The contract: every Allegro operation the project calls (see the shared interface facts).
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/me"),
    ("post", "/sale/product-offers"),
    ("get", "/sale/product-offers/{offerId}"),
    ("patch", "/sale/product-offers/{offerId}"),
    ("get", "/sale/product-offers/{offerId}/operations/{operationId}"),
    ("get", "/sale/offers"),
    ("put", "/sale/offer-quantity-change-commands/{commandId}"),
    ("get", "/sale/offer-quantity-change-commands/{commandId}"),
    ("get", "/sale/offer-quantity-change-commands/{commandId}/tasks"),
    ("put", "/sale/offer-price-change-commands/{commandId}"),
    ("get", "/sale/offer-price-change-commands/{commandId}"),
    ("get", "/sale/offer-price-change-commands/{commandId}/tasks"),
    ("put", "/sale/offer-publication-commands/{commandId}"),
    ("get", "/sale/offer-publication-commands/{commandId}"),
    ("get", "/sale/offer-publication-commands/{commandId}/tasks"),
    ("post", "/sale/offer-price-automation-commands"),
    ("get", "/sale/offer-price-automation-commands/{commandId}"),
    ("get", "/sale/offer-price-automation-commands/{commandId}/tasks"),
    ("get", "/sale/price-automation/rules"),
    ("post", "/sale/price-automation/rules"),
    ("get", "/sale/price-automation/rules/{ruleId}"),
    ("get", "/sale/price-automation/offers/{offerId}/rules"),
    ("get", "/sale/categories"),
    ("get", "/sale/categories/{categoryId}"),
    ("get", "/sale/categories/{categoryId}/parameters"),
    ("get", "/sale/matching-categories"),
    ("post", "/sale/images"),
    ("get", "/sale/products"),
    ("get", "/sale/products/{productId}"),
    ("get", "/sale/offer-events"),
    ("get", "/order/events"),
    ("get", "/order/event-stats"),
    ("get", "/order/checkout-forms"),
    ("get", "/order/checkout-forms/{id}"),
    ("get", "/order/carriers"),
    ("get", "/order/checkout-forms/{id}/shipments"),
    ("post", "/order/checkout-forms/{id}/shipments"),
    ("put", "/order/checkout-forms/{id}/fulfillment"),
    ("post", "/pricing/offer-fee-preview"),
    ("get", "/sale/badges"),  # issue 14, item 7: where a campaign price shows
    # issue 16, item 2: GPSR per product
    ("get", "/sale/responsible-producers"),
    ("post", "/sale/responsible-producers"),
    ("get", "/sale/responsible-producers/{id}"),
    ("get", "/sale/responsible-persons"),
    ("post", "/sale/responsible-persons"),
    # issue 16 (gpsr2): GPSR safety information as an attachment; each offer's own stock/price in one command
    ("post", "/sale/offer-attachments"),
    ("put", "/sale/offer-attachments/{attachmentId}"),
    ("get", "/sale/offer-attachments/{attachmentId}"),
    ("post", "/sale/offer-bulk-modification-commands"),
    ("get", "/sale/offer-bulk-modification-commands/{commandId}"),
    ("get", "/sale/offer-bulk-modification-commands/{commandId}/tasks"),
    # issue 16, item 1: foreign marketplaces
    ("get", "/marketplaces"),
    # issue 15, item 3: customer returns, payment refunds, commission refund claims
    ("get", "/order/customer-returns"),
    ("get", "/order/customer-returns/{customerReturnId}"),
    ("post", "/order/customer-returns/{customerReturnId}/rejection"),
    ("post", "/payments/refunds"),
    ("get", "/payments/refunds"),
    ("post", "/order/refund-claims"),
    ("get", "/order/refund-claims"),
    ("get", "/order/refund-claims/{claimId}"),
    # issue 15, item 1: Ship with Allegro
    ("get", "/shipment-management/delivery-services"),
    ("post", "/shipment-management/shipments/create-commands"),
    ("get", "/shipment-management/shipments/create-commands/{commandId}"),
    ("post", "/shipment-management/shipments/cancel-commands"),
    ("get", "/shipment-management/shipments/cancel-commands/{commandId}"),
    ("get", "/shipment-management/shipments/{shipmentId}"),
    ("post", "/shipment-management/label"),
    ("post", "/shipment-management/protocol"),
    ("post", "/shipment-management/pickup-proposals"),
    ("post", "/shipment-management/pickups/create-commands"),
    ("get", "/shipment-management/pickups/create-commands/{commandId}"),
    ("get", "/shipment-management/pickups/{pickupId}"),
    # issue 15, item 2: invoices on orders
    ("get", "/order/checkout-forms/{id}/invoices"),
    ("post", "/order/checkout-forms/{id}/invoices"),
    ("put", "/order/checkout-forms/{id}/invoices/{invoiceId}/file"),
    # issue 15, item 4: buyer messages (Message Center) and post-purchase issues (BETA)
    ("get", "/messaging/threads"),
    ("get", "/messaging/threads/{threadId}"),
    ("put", "/messaging/threads/{threadId}/read"),
    ("get", "/messaging/threads/{threadId}/messages"),
    ("post", "/messaging/threads/{threadId}/messages"),
    ("post", "/messaging/messages"),
    ("get", "/sale/issues"),
    ("get", "/sale/issues/{issueId}"),
    ("get", "/sale/issues/{issueId}/chat"),
    ("post", "/sale/issues/{issueId}/message"),
)

# Documentation-only keys, dropped wherever they are not the name of a schema property.
_PROSE_KEYS = frozenset({"description", "summary", "example", "examples", "externalDocs", "tags"})
# Mappings whose keys are names chosen by the spec author, not OpenAPI keywords.
_NAME_MAPS = frozenset({"properties", "paths", "schemas", "parameters", "responses", "headers", "content"})


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class ContractError(Exception):
    """The spec lacks an operation of the contract: the project would call something Allegro lacks."""


def _strip(node: Any, *, names: bool = False) -> Any:
    """Copy without prose; keys of name maps (e.g. a property called `description`) are kept."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not names and key in _PROSE_KEYS:
                continue
            if not names and key.startswith("x-"):
                continue
            out[key] = _strip(value, names=(not names and key in _NAME_MAPS))
        return out
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ContractError(f"external reference not supported: {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The trimmed spec: contract operations plus the components they reach."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        item = spec.get("paths", {}).get(path)
        if item is None or method not in item:
            raise ContractError(f"{method.upper()} {path} is not in the spec")
        target = paths.setdefault(path, {key: value for key, value in item.items() if key == "parameters"})
        target[method] = item[method]
    # Keep the spec's own order of paths and methods so the output is stable and diffable.
    ordered_paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if path in paths:
            ordered_paths[path] = {key: paths[path][key] for key in item if key in paths[path]}

    needed: set[str] = set()
    pending: set[str] = set()
    _refs(ordered_paths, pending)
    while pending:
        ref = pending.pop()
        if ref in needed:
            continue
        needed.add(ref)
        _refs(_resolve(spec, ref), pending)

    components: dict[str, Any] = {}
    for section, entries in spec.get("components", {}).items():
        if section == "securitySchemes":
            components[section] = entries
            continue
        kept = {name: value for name, value in entries.items() if f"#/components/{section}/{name}" in needed}
        if kept:
            components[section] = kept

    out: dict[str, Any] = {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "servers": spec["servers"],
        "security": spec.get("security", []),
        "paths": ordered_paths,
        "components": components,
    }
    trimmed: dict[str, Any] = _strip(out)
    _restore_response_descriptions(trimmed)
    return trimmed


def _restore_response_descriptions(spec: dict[str, Any]) -> None:
    """OpenAPI 3.0 requires `description` on every Response object: keep it, but empty."""
    responses: list[Any] = list(spec["components"].get("responses", {}).values())
    for item in spec["paths"].values():
        for key, operation in item.items():
            if key != "parameters":
                responses.extend(operation.get("responses", {}).values())
    for response in responses:
        if "$ref" not in response:
            response["description"] = ""


def render(source: bytes) -> str:
    spec = yaml.load(source, Loader=_LOADER)  # noqa: S506 - a safe loader, in C when available
    digest = hashlib.sha256(source).hexdigest()
    header = (
        "# Generated by scripts/extract_contract.py from Allegro's official openapi.yaml\n"
        f"# (sha256 {digest}). Do not edit: rerun the script.\n"
    )
    body = yaml.dump(extract(spec), Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=120)
    return header + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC, help="the official openapi.yaml")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"spec not found: {args.spec}", file=sys.stderr)
        return 2
    text = render(args.spec.read_bytes())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.splitlines())} lines, {len(OPERATIONS)} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
