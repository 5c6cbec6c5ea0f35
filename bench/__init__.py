"""Benchmarks: each module measures one path and writes bench/results/<name>.json with
every figure beside its target. `python -m bench` (`make bench`) runs them all.

Nothing here imports cloudsms at module level: a benchmark sets up its emulated account
and environment first, because cloudsms reads its settings once, at import.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROWS = 100_000
# The guide's example content: the phone number and two variables per row.
CONTENT = "Hello ${Name}, your pin code is 123456, get more info via link: ${website}"
VARIABLES = ["Name", "website"]
# 100,000 rows are about 3 MB as .xlsx, over the portal's 1 MB: the benchmarks lift it.
NUMBER_LIST_MAX_BYTES = 16 * 1_048_576
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def figure(value: float, target: float | None = None, higher_is_better: bool = False) -> dict:
    """A measured value beside its target; `met` is None for a figure without one."""
    met = None
    if target is not None:
        met = value >= target if higher_is_better else value <= target
    return {"value": round(value, 3), "target": target, "met": met}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "moto": version("moto"),
        "python-calamine": version("python-calamine"),
    }


def write_result(name: str, figures: dict[str, dict], command: str, **extra: Any) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {
        "name": name,
        "figures": figures,
        "command": command,
        "machine": machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports it in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def emulated_account() -> Iterator[Any]:
    """moto in this process, holding template.yaml's resources, and the functions'
    environment set as the template sets it, before any cloudsms module is imported."""
    assert not any(name.startswith("cloudsms.") for name in sys.modules), "imported too early"
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from cloudsms_local.template import create_resources

    with mock_aws():
        resources = create_resources(
            boto3.Session(), api_urls={"Api": "http://api.test"}, function_url_base="http://r.test"
        )
        os.environ.update(resources.environment)
        os.environ.update(
            {"POWERTOOLS_LOG_LEVEL": "WARNING", "NUMBER_LIST_MAX_BYTES": str(NUMBER_LIST_MAX_BYTES)}
        )
        yield resources


def write_number_list(path: Path, rows: int, seed: int = 7) -> None:
    """A list as Excel keeps it: numbers in "general" cells (floats), two variables, and
    every hundredth number too short to be valid, as real lists have a few."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Phone Number", "Name", "website"])
    for i in range(rows):
        number = 639170000000 + rng.randrange(10_000_000)
        if i % 100 == 99:
            number //= 1000
        sheet.append([float(number), f"Customer {i}", f"https://example.com/{i}"])
    path.parent.mkdir(exist_ok=True)
    workbook.save(path)


def number_list_file(rows: int = ROWS) -> Path:
    """The generated list, made once (in a child process, so that making it does not count
    in the memory of the benchmark that reads it)."""
    path = RESULTS / f"numbers-{rows}.xlsx.tmp"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from bench import write_number_list; "
                "write_number_list(Path(sys.argv[1]), int(sys.argv[2]))",
                str(path),
                str(rows),
            ],
            check=True,
            cwd=Path(__file__).parent.parent,
        )
    return path
