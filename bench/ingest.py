"""Ingest: a 100,000-row number list from its bytes to validated, rendered and staged
recipients (`staging.stage` against moto in this process), beside the floor: reading the
same file with python-calamine and normalising each number with phonenumbers, nothing else.

Targets: ingest within 1.5 times the floor; peak RSS under 512 MB. Times are the process's
CPU time (both paths are single-threaded and CPU-bound, moto included), so that other
processes on a shared machine do not decide the figures; wall-clock times are beside them.
Run alone: python -m bench.ingest [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from bench import (
    CONTENT,
    ROWS,
    VARIABLES,
    emulated_account,
    figure,
    number_list_file,
    peak_rss_mb,
    write_result,
)

FLOOR_RATIO_TARGET = 1.5
PEAK_RSS_TARGET_MB = 512


@dataclass
class Timing:
    cpu: float
    wall: float


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing(0.0, 0.0)
    cpu, wall = time.process_time(), time.perf_counter()
    yield timing
    timing.cpu, timing.wall = time.process_time() - cpu, time.perf_counter() - wall


def floor(data: bytes) -> None:
    """The least any ingest must do: read every row and normalise every number."""
    import python_calamine

    from cloudsms.domain import phone

    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = workbook.get_sheet_by_index(0).iter_rows()
    next(rows)
    for row in rows:
        with suppress(phone.InvalidNumber):
            phone.normalise(row[0], phone.Direction.INTERNATIONAL)


def ingest(data: bytes, run: int) -> Any:
    from cloudsms.services import staging
    from cloudsms.store.missions import MissionModel

    mission = MissionModel(
        tenant_id="bench",
        mission_id=f"BENCH{run:013d}",
        name="bench",
        direction="international",
        sms_type="marketing",
        content=CONTENT,
        variables=VARIABLES,
        signature="CloudSMS",
        signature_position="start",
        allow_unsubscribe=True,
        channel="SIM",
        status="Uploading",
    )
    return staging.stage(mission, data, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest counts")
    args = parser.parse_args(argv)

    data = number_list_file(args.rows).read_bytes()
    with emulated_account():
        rss_before = peak_rss_mb()
        floors, ingests = [], []
        # The first run of each warms what a long-lived function has warm; it is not counted.
        for run in range(args.repeat + 1):
            with timed() as floor_time:
                floor(data)
            with timed() as ingest_time:
                staged = ingest(data, run)
            if run:
                floors.append(floor_time)
                ingests.append(ingest_time)
        rss_peak = peak_rss_mb()

    floor_cpu, ingest_cpu = min(t.cpu for t in floors), min(t.cpu for t in ingests)
    rows = staged.recipients + staged.abnormal + staged.blacklisted
    floor_rate = rows / floor_cpu
    figures = {
        "rows_per_second": figure(rows / ingest_cpu, floor_rate / FLOOR_RATIO_TARGET, True),
        "ingest_to_floor_ratio": figure(ingest_cpu / floor_cpu, FLOOR_RATIO_TARGET),
        "peak_rss_mb": figure(rss_peak, PEAK_RSS_TARGET_MB),
        "ingest_cpu_seconds": figure(ingest_cpu),
        "floor_cpu_seconds": figure(floor_cpu),
        "ingest_wall_seconds": figure(min(t.wall for t in ingests)),
        "floor_wall_seconds": figure(min(t.wall for t in floors)),
        "floor_rows_per_second": figure(floor_rate),
        "rss_before_ingest_mb": figure(rss_before),
    }
    write_result(
        "ingest",
        figures,
        f"python -m bench.ingest --rows {args.rows} --repeat {args.repeat}",
        parameters={
            "rows": rows,
            "file_bytes": len(data),
            "recipients": staged.recipients,
            "abnormal": staged.abnormal,
            "repeat": args.repeat,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
