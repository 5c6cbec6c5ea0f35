"""Dispatching log: one page of a tenant's log, a page of a rarely matching filter, and
the export, over a day of 100,000 messages (moto in this process).

Messages are written as the submit step writes them, one-off sends spread over the day
and one mission scheduled the day before, so the log reads its key range and the
mission's as well.

moto answers every Query by walking the whole partition, so its time per request grows
with the table and says little about DynamoDB's; the figures that carry over are the
requests a page costs and the export's own work, rendering 100,000 messages into a file.

Targets: a page in at most 3 requests, a rarely matching filter's page in at most 10;
the export rendered within 20 s (API Gateway gives up after 29 s, and reading takes
its share) and 512 MB peak RSS (the function's memory).
Run alone: python -m bench.dispatching_log [--rows N]
"""

from __future__ import annotations

import argparse
import secrets
import time
from datetime import UTC, datetime, timedelta

from bench import emulated_account, figure, peak_rss_mb, write_result

PAGE_REQUESTS_TARGET = 3
RARE_PAGE_REQUESTS_TARGET = 10
RENDER_SECONDS_TARGET = 20.0
PEAK_RSS_TARGET_MB = 512
# One message in this many goes to the number the rare filter looks for.
RARE_EVERY = 20_000
RARE_NUMBER = "+639215347561"
DAY_START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
# A mission created the day before the day read, and dispatched during it.
MISSION_ID = f"{int((DAY_START - timedelta(days=1)).timestamp() * 1000):012X}00BE4C"
TEXT = "[CloudSMS] Hello Customer, your pin code is 123456, get more info via link: example.com"


def _ms(moment: datetime) -> str:
    return f"{int(moment.timestamp() * 1000):012X}"


def make_messages(rows: int, day_start: datetime) -> list:
    """A day of messages as the submit step stores them; every tenth is the mission's."""
    from cloudsms.store.messages import MessageModel

    step = timedelta(days=1) / rows
    messages = []
    for i in range(rows):
        moment = day_start + i * step
        in_mission = i % 10 == 0
        messages.append(
            MessageModel(
                tenant_id="bench",
                uid=f"{MISSION_ID}{i:012X}"
                if in_mission
                else _ms(moment) + secrets.token_hex(9).upper(),
                to=RARE_NUMBER if i % RARE_EVERY == 7 else "+639215347566",
                text=TEXT,
                encoding="GSM-7",
                segments=1,
                sms_type="marketing" if in_mission else "business",
                channel="SIM",
                sender="CloudSMS",
                mission_id=MISSION_ID if in_mission else None,
                dispatch_day=moment.date().isoformat(),
                dr_state="DELIVRD",
                created_at=moment,
                submitted_at=moment,
                receipt_at=moment + timedelta(seconds=3),
                expires_at=int(moment.timestamp()) + 86400,
            )
        )
    return messages


def store(messages: list, day_start: datetime) -> None:
    from cloudsms.store.messages import MessageModel
    from cloudsms.store.missions import MissionModel

    MissionModel(
        tenant_id="bench",
        mission_id=MISSION_ID,
        name="Scheduled the day before",
        direction="international",
        sms_type="marketing",
        content=TEXT,
        channel="SIM",
        status="Sent",
        dispatch_at=day_start + timedelta(hours=9),
        dispatching_date=day_start + timedelta(hours=9),
    ).save()
    with MessageModel.batch_write() as batch:
        for message in messages:
            batch.save(message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    with emulated_account():
        from cloudsms.services import dispatching_log, exports, tenants
        from cloudsms.store.messages import MessageModel

        tenant = tenants.create_tenant("bench", "Bench", "UTC")
        messages = make_messages(args.rows, DAY_START)
        rss_before_export = peak_rss_mb()
        timings, files = {}, {}
        for kind in (exports.ExportFormat.XLSX, exports.ExportFormat.CSV):
            started = time.perf_counter()
            files[kind] = exports.render(tenant, iter(messages), kind, datetime.now(UTC))
            timings[kind] = time.perf_counter() - started
        # Before the table holds anything: moto's copy of it would count too.
        rss_peak = peak_rss_mb()

        started = time.perf_counter()
        store(messages, DAY_START)
        write_seconds = time.perf_counter() - started
        del messages
        day = dispatching_log.LogFilter(start=DAY_START, end=DAY_START + timedelta(days=1))
        queries: list[int] = []
        MessageModel._get_connection().connection.client.meta.events.register(
            "before-call.dynamodb.Query", lambda **_: queries.append(1)
        )

        started = time.perf_counter()
        first = dispatching_log.page("bench", day, 10, None)
        page_seconds = time.perf_counter() - started
        page_requests = len(queries)

        rare = dispatching_log.LogFilter(start=day.start, end=day.end, phone_number=RARE_NUMBER)
        queries.clear()
        started = time.perf_counter()
        rare_page = dispatching_log.page("bench", rare, 10, None)
        rare_seconds = time.perf_counter() - started
        rare_requests = len(queries)

    xlsx, csv = files[exports.ExportFormat.XLSX], files[exports.ExportFormat.CSV]
    figures = {
        "page_requests": figure(page_requests, PAGE_REQUESTS_TARGET),
        "rare_filter_page_requests": figure(rare_requests, RARE_PAGE_REQUESTS_TARGET),
        "render_xlsx_seconds": figure(timings[exports.ExportFormat.XLSX], RENDER_SECONDS_TARGET),
        "render_csv_seconds": figure(timings[exports.ExportFormat.CSV], RENDER_SECONDS_TARGET),
        "peak_rss_mb": figure(rss_peak, PEAK_RSS_TARGET_MB),
        "export_xlsx_rows": figure(xlsx.rows),
        "export_xlsx_mb": figure(len(xlsx.body) / 1e6),
        "export_csv_rows": figure(csv.rows),
        "export_csv_mb": figure(len(csv.body) / 1e6),
        "moto_page_seconds": figure(page_seconds),
        "moto_rare_filter_page_seconds": figure(rare_seconds),
        "rss_before_export_mb": figure(rss_before_export),
        "write_seconds": figure(write_seconds),
    }
    write_result(
        "dispatching_log",
        figures,
        f"python -m bench.dispatching_log --rows {args.rows}",
        parameters={
            "rows": args.rows,
            "first_page_items": len(first["items"]),
            "rare_page_items": len(rare_page["items"]),
            "rare_page_has_cursor": rare_page["next_cursor"] is not None,
            "xlsx_truncated": xlsx.truncated,
            "csv_truncated": csv.truncated,
        },
    )
    for name, value in figures.items():
        print(f"{name:30} {value['value']:>12,.3f}  met={value['met']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
