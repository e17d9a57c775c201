"""The soak with faults at full size: several accounts, thousands of SKUs, minutes of traffic (see
`bench.soak`). Prints the loss counters (all must be 0), the time to converge and what was
metered, scans every log line the run wrote for secrets, tokens and buyers' data, and writes
`bench/results/soak.json` for the report and the cost model. Exit code 1 when a counter is not 0 or a
secret or a buyer's data leaked.

Run: .venv/bin/python -m bench.soak [--accounts 3] [--skus 2000] [--seconds 240] [--no-validate]
Every log line of the run (handlers, moto, emulator) goes to bench/results/soak.log, not the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from bench._results import RESULTS_DIR, command_line, machine
from bench.soak import Soak, SoakConfig, leaks
from bench.soak.logscan import personal_data


@contextmanager
def logs_to(path: Path) -> Iterator[TextIO]:
    """Send file descriptors 1 and 2 (every logger, whatever stream it captured) to `path`; yield the
    terminal for the figures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    with path.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    defaults = SoakConfig()
    parser.add_argument("--accounts", type=int, default=defaults.accounts)
    parser.add_argument("--skus", type=int, default=defaults.skus)
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--no-validate", action="store_true", help="skip the spec check of each exchange")
    args = parser.parse_args(argv)
    config = replace(
        defaults, accounts=args.accounts, skus=args.skus, seconds=args.seconds, validate=not args.no_validate
    )
    log_path = RESULTS_DIR / "soak.log"
    with logs_to(log_path) as terminal:

        def say(message: str) -> None:
            print(message, file=terminal, flush=True)

        say(f"soak: logs -> {log_path}")
        with Soak(config, say=say) as soak:
            result = soak.run()
            violations = len(soak.emulator.violations)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    found = leaks(text, result.secrets)
    document = result.to_json(log_bytes=len(text.encode("utf-8")))
    document["counters"]["secrets_in_logs"] = len(found)
    personal = personal_data(text, result.personal)
    document["counters"]["buyer_data_in_logs"] = len(personal)
    document["counters"]["spec_violations"] = violations
    document["log_scan"] = {
        "bytes": len(text.encode("utf-8")),
        "secret_values": len(result.secrets),
        "found": found[:10],
        "buyer_values": len(result.personal),
        "buyer_data_found": personal[:10],
    }
    document["command"] = command_line("soak", argv)
    document["machine"] = machine()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "soak.json").write_text(
        json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8"
    )
    _print(document)
    return 1 if any(document["counters"].values()) else 0


def _print(document: dict[str, Any]) -> None:
    config, latency = document["config"], document["latency"]
    crashes = sum(f.get("injected_crashes", 0) for f in document["lambda"].values())
    calls = sum(c["calls"] for c in document["aws_calls"].values())
    invocations = sum(f["invocations"] for f in document["lambda"].values())
    lines = [
        f"soak: {config['accounts']} accounts x {config['skus']} SKUs, {config['seconds']:g} s of traffic "
        f"with faults; wall {document['wall_seconds']} s, converged {document['converge_seconds']} s "
        "after the traffic stopped",
        f"  traffic: {config.get('stock_webhooks', 0)} stock webhooks, {config.get('orders', 0)} orders "
        f"({config.get('cancellations', 0)} cancelled), {config.get('purchases_refused', 0)} purchases "
        "refused by an offer showing too little, "
        f"{config.get('oversold_in_race', 0)} unit(s) sold in a race inside the grace",
        f"  after the sale (issue 15): {config.get('labels_bought', 0)} labels bought, "
        f"{config.get('refunds_paid', 0)} orders refunded, "
        f"{config.get('returns_arrived', 0)} returns arrived",
        f"  faults: Allegro blocked {config.get('allegro_blocked_seconds', 0)} s, shop down "
        f"{config.get('shop_down_seconds', 0)} s, {crashes} injected crashes",
        *(
            f"  {name:<24} {value}{'   <-- must be 0' if value else ''}"
            for name, value in document["counters"].items()
        ),
        f"  order -> shop under faults: p50 {latency['order_p50_s']} s, p99 {latency['order_p99_s']} s; "
        f"the fault windows alone force up to {latency.get('order_floor_max_s')} s on an order; once the "
        f"last window holding an order closed: p50 {latency.get('order_after_faults_p50_s')} s, "
        f"p99 {latency.get('order_after_faults_p99_s')} s",
        f"  metered: {invocations} invocations, {calls} AWS calls, {document['allegro_calls']} Allegro "
        "calls, "
        f"{document['log_bytes'] / 1e6:.1f} MB of logs scanned",
        *(f"  problem: {problem}" for problem in document.get("problems", [])[:10]),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
