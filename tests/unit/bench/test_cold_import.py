"""bench.cold_import: the figures it reads back and the import times it adds up (no import is timed here)."""

from __future__ import annotations

from pathlib import Path

from bench._results import record
from bench.cold_import import import_micros, previous_ratios

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       300 |        300 |   botocore.compat
import time:      1000 |       2000 | boto3
import time:        50 |         50 |   pydantic.version
import time:       400 |        500 | pydantic
import time:       700 |        700 | pydantic.main
import time:        90 |         90 | json
"""


def test_an_import_is_its_top_level_entries_and_their_parent_packages() -> None:
    assert import_micros(IMPORTTIME, "boto3") == 2000
    assert import_micros(IMPORTTIME, "boto3, pydantic.main") == 2000 + 500 + 700  # pydantic: main's parent


def test_the_previous_runs_ratios_are_printed_beside_the_new_ones(tmp_path: Path) -> None:
    assert previous_ratios(tmp_path) == {}  # no run recorded yet: nothing beside the new figures
    record(
        "cold_import",
        {
            "floor": {"imports": "boto3, pydantic", "ratio_to_boto3": 1.2},
            "floors": {"models": {"imports": "pydantic.main", "ratio_to_boto3": 1.5}},
            "handlers": {"health": {"ratio_to_boto3": 0.5}, "oauth": {"import_s": 0.3}},
        },
        directory=tmp_path,
    )
    assert previous_ratios(tmp_path) == {"floor": 1.2, "floor with models": 1.5, "health": 0.5}
