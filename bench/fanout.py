"""Fan-out: a staged 100,000-recipient mission dispatched onto the submit queue
(`dispatch.dispatch` against moto in this process), counting the SQS requests it makes.

Target: at most 1 SQS request per 1,000 recipients.
Run alone: python -m bench.fanout [--rows N]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench import (
    CONTENT,
    ROWS,
    VARIABLES,
    emulated_account,
    figure,
    number_list_file,
    write_result,
)

REQUESTS_PER_1000_TARGET = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args(argv)

    data = number_list_file(args.rows).read_bytes()
    with emulated_account():
        from cloudsms.adapters.aws import client
        from cloudsms.services import channels, dispatch, staging, tenants
        from cloudsms.store.missions import MissionModel

        tenants.create_tenant("bench", "Bench", "Asia/Shanghai")
        # Dispatch names the channel's default sender on each message; nothing is sent.
        channels.add_channel("SIM", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
        channels.assign_channel("bench", "SIM")
        now = datetime.now(UTC)
        mission = MissionModel(
            tenant_id="bench",
            mission_id="BENCH0000000000001",
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
            created_at=now,
            updated_at=now,
        )
        staged = staging.stage(mission, data, None)
        mission.staged_prefix = staged.prefix
        mission.phone_number_amount = staged.recipients
        mission.status = "Unsent"
        mission.save()

        requests: list[str] = []
        entries: list[int] = []

        def count_request(model: Any, **_: Any) -> None:
            requests.append(model.name)

        def count_entries(params: dict[str, Any], **_: Any) -> None:
            entries.append(len(params["Entries"]))

        events = client("sqs").meta.events
        events.register("before-call.sqs", count_request)
        events.register("before-parameter-build.sqs.SendMessageBatch", count_entries)
        started = time.perf_counter()
        dispatch.dispatch("bench", mission.mission_id, now)
        seconds = time.perf_counter() - started

    per_thousand = 1000 / staged.recipients
    figures = {
        "sqs_requests_per_1000_recipients": figure(
            len(requests) * per_thousand, REQUESTS_PER_1000_TARGET
        ),
        "sqs_messages_per_1000_recipients": figure(sum(entries) * per_thousand),
        "recipients_per_second": figure(staged.recipients / seconds),
    }
    write_result(
        "fanout",
        figures,
        f"python -m bench.fanout --rows {args.rows}",
        parameters={
            "recipients": staged.recipients,
            "sqs_requests": len(requests),
            "sqs_requests_by_action": {name: requests.count(name) for name in set(requests)},
            "sqs_messages": sum(entries),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
