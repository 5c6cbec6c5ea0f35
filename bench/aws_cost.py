"""AWS cost per million messages with receipts: one-off verify codes (one per API call)
and then a 10,000-recipient mission, through the local stack and the carrier simulator,
each to its final receipts, with every AWS request, API call and Lambda invocation the
platform made counted and priced at us-east-1 on-demand list prices.

What is counted, and how:
- AWS requests: every request any client in this process makes (botocore's
  `_make_api_call`), by caller: a function during its invocation, or the SQS event source
  mapping (the queue pollers, between invocations). The local emulation's own requests
  (firing schedules, polling S3 notifications) and the benchmark's are left out.
- DynamoDB request units, from the emulator's own items (moto runs in this process): a
  write costs 1 WRU per KB of the larger of the item before and after (2 in a
  transaction, also when it fails its condition), plus a write per KB of each global
  secondary index entry it puts, changes or removes; a read 1 RRU per 4 KB (half when
  eventually consistent, twice in a transaction).
- SQS requests in 64 KB chunks of payload. Receives that find nothing are the event
  source's idle polling, a fixed monthly cost that does not grow with messages: they
  are counted, not priced here (the local pollers wait 1 s, Lambda's 20 s).
- API Gateway: every request to the REST API (the tenant's). Carriers' receipts go to a
  Lambda function URL, which costs only its invocation (counted under Lambda).
- Lambda: every invocation, billed by its duration measured here, rounded up to the
  millisecond, at its memory size in template.yaml (arm64).
- CloudWatch Logs: the bytes the functions wrote (log lines at the template's default
  level, and EMF metrics), plus Lambda's START/END/REPORT lines where the template
  leaves the platform's log level at INFO.
- X-Ray: traces of the functions the template turns active tracing on for, estimated
  at the default sampling rule's 5% of their requests and queue batches.

Target: at most $3 per million messages with receipts (the run's mix).
Run alone: python -m bench.aws_cost [--messages N] [--one-off N]
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from bench import figure, write_result
from bench._local import (
    BENCH_THREAD,
    RECEIPT_DELAY,
    LocalRun,
    Run,
    listen_to_aws,
    verify_number,
)
from bench.end_to_end import MESSAGES, MISSION_TIMEOUT, warm_up

ONE_OFF = 500
TARGET_USD_PER_MILLION = 3.0
MILLION = 1_000_000

# us-east-1 on-demand list prices, as known in 2025 (DynamoDB after its November 2024
# on-demand price cut). Taken from memory of the public price pages, not fetched: this
# machine has no internet. First tiers; free tiers left out.
PRICES_AS_KNOWN = "2025, us-east-1 list prices (first tier, no free tier)"
PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / MILLION,
    "dynamodb_write_request_unit": 0.625 / MILLION,
    "dynamodb_read_request_unit": 0.125 / MILLION,
    "sqs_request": 0.40 / MILLION,  # standard queue, per 64 KB chunk
    "api_gateway_rest_request": 3.50 / MILLION,
    # A function URL has no price of its own: its calls are billed as Lambda requests
    # and duration only.
    "s3_put_class_request": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get_class_request": 0.0004 / 1000,  # GET, HEAD and the rest
    "secrets_manager_call": 0.05 / 10_000,
    "scheduler_invocation": 1.00 / MILLION,
    "cloudwatch_logs_ingested_gb": 0.50,
    "xray_trace_recorded": 5.00 / MILLION,
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
}
XRAY_SAMPLED = 0.05  # the default sampling rule beyond its 1 request a second
# What Lambda itself logs per invocation (with active tracing), as it writes it.
PLATFORM_LOG_LINES = (
    "START RequestId: 0f9f4c4e-5b5f-4b8e-9a0e-9c8a8e3f5d1b Version: $LATEST\n"
    "END RequestId: 0f9f4c4e-5b5f-4b8e-9a0e-9c8a8e3f5d1b\n"
    "REPORT RequestId: 0f9f4c4e-5b5f-4b8e-9a0e-9c8a8e3f5d1b\tDuration: 23.45 ms\t"
    "Billed Duration: 24 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t\n"
    "XRAY TraceId: 1-5e1b4151-5ac6c58f3f6a6f3f6b0a1b2c\tSegmentId: 6b0a1b2c3d4e5f60\t"
    "Sampled: true\t\n"
)
S3_PUT_CLASS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "PostObject",
        "ListObjects",
        "ListObjectsV2",
        "ListBuckets",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    }
)
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
SQS_CHUNK = 64 * 1024
STORAGE_OVERHEAD_BYTES = 100  # DynamoDB's per item (and per index entry) overhead
FIXED_CALLERS = ("benchmark", "local-emulation")


# --- DynamoDB request units ------------------------------------------------------------


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def attributes_size(attributes: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in attributes.items())


@dataclass(frozen=True)
class Stored:
    """An item as DynamoDB bills writing it: its size and its index entries."""

    size: int
    entries: dict[str, tuple[str, str, int]]  # index: (key, projection, size)


class DynamoUnits:
    """Request units of each DynamoDB request, read off the emulator's items."""

    def __init__(self) -> None:
        from moto.dynamodb.models import dynamodb_backends

        from cloudsms_local.template import ACCOUNT_ID, REGION

        self.backend = dynamodb_backends[ACCOUNT_ID][REGION]

    def _stored(self, table_name: str, key: dict[str, Any]) -> Stored | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self.backend.tables.get(table_name)
        if table is None or table.hash_key_attr not in key:
            return None
        range_key = key.get(table.range_key_attr) if table.range_key_attr else None
        try:
            item = table.get_item(
                DynamoType(key[table.hash_key_attr]),
                DynamoType(range_key) if range_key is not None else None,
            )
        except Exception:  # noqa: BLE001 - a key the emulator refuses is billed as missing
            return None
        if item is None:
            return None
        entries = {}
        for index in table.global_indexes:
            if all(name in item.attrs for name in index.schema_key_attrs):
                projected = index.project(item)
                entries[index.name] = (
                    json.dumps([item.attrs[name].to_json() for name in index.schema_key_attrs]),
                    json.dumps(projected.to_json(), sort_keys=True, default=str),
                    projected.size(),
                )
        return Stored(item.size(), entries)

    def _key(self, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        table = self.backend.tables.get(table_name)
        if table is None:
            return {}
        names = [table.hash_key_attr, table.range_key_attr]
        return {name: item[name] for name in names if name and name in item}

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict, bool]]:
        """(table, key, transactional) of each item a write request writes."""
        if operation == "PutItem":
            return [(params["TableName"], self._key(params["TableName"], params["Item"]), False)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], False)]
        if operation == "BatchWriteItem":
            targets = []
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        key = self._key(table_name, request["PutRequest"]["Item"])
                    else:
                        key = request["DeleteRequest"]["Key"]
                    targets.append((table_name, key, False))
            return targets
        if operation == "TransactWriteItems":
            targets = []
            for entry in params["TransactItems"]:
                for kind, op in entry.items():
                    key = self._key(op["TableName"], op["Item"]) if kind == "Put" else op["Key"]
                    targets.append((op["TableName"], key, True))
            return targets
        return []

    def write(self, operation: str, params: dict[str, Any]) -> Callable[[Any], float] | None:
        """For a write request: a function of its response giving its WRU."""
        targets = self._targets(operation, params)
        if not targets:
            return None
        before = [self._stored(table, key) for table, key, _ in targets]

        def units(response: Any) -> float:
            total = 0.0
            for (table, key, transactional), old in zip(targets, before, strict=True):
                new = self._stored(table, key) if response is not None else old
                size = max(old.size if old else 0, new.size if new else 0)
                total += write_units(size) * (2 if transactional else 1)
                if response is not None:
                    total += self._index_units(old, new)
            return total

        return units

    @staticmethod
    def _index_units(old: Stored | None, new: Stored | None) -> int:
        units = 0
        for index in set(old.entries if old else {}) | set(new.entries if new else {}):
            was = old.entries.get(index) if old else None
            now = new.entries.get(index) if new else None
            if was and now and was[0] != now[0]:
                units += write_units(was[2]) + write_units(now[2])  # moved: delete, put
            elif was and now and was[1] != now[1]:
                units += write_units(max(was[2], now[2]))
            elif now and not was:
                units += write_units(now[2])
            elif was and not now:
                units += write_units(was[2])
        return units

    @staticmethod
    def read(operation: str, params: dict[str, Any], response: Any) -> float:
        if response is None:
            return 0.0
        if operation == "GetItem":
            item = response.get("Item")
            size = attributes_size(item) if item else 0
            return read_units(size, bool(params.get("ConsistentRead")))
        if operation == "BatchGetItem":
            total = 0.0
            for table_name, request in params["RequestItems"].items():
                found = response.get("Responses", {}).get(table_name, [])
                consistent = bool(request.get("ConsistentRead"))
                total += sum(read_units(attributes_size(i), consistent) for i in found)
                total += read_units(0, consistent) * (len(request["Keys"]) - len(found))
            return total
        if operation in ("Query", "Scan"):
            size = sum(attributes_size(item) for item in response.get("Items", []))
            return read_units(size, bool(params.get("ConsistentRead")))
        if operation == "TransactGetItems":
            items = [r.get("Item") or {} for r in response.get("Responses", [])]
            return sum(2 * read_units(attributes_size(i), True) for i in items)
        return 0.0


# --- what one phase of the run made -----------------------------------------------------


@dataclass
class Tally:
    messages: int = 0
    requests: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    wru: Counter[tuple[str, str]] = field(default_factory=Counter)
    rru: Counter[tuple[str, str]] = field(default_factory=Counter)
    sqs_billed: Counter[str] = field(default_factory=Counter)
    sqs_empty_receives: int = 0
    s3_put_class: int = 0
    s3_get_class: int = 0
    secrets_manager_calls: int = 0
    api_requests: Counter[str] = field(default_factory=Counter)
    invocations: list[Run] = field(default_factory=list)
    log_bytes: Counter[str] = field(default_factory=Counter)


class Meter:
    """Counts into the current phase's tally; between phases, nothing is counted."""

    def __init__(self, run: LocalRun) -> None:
        self.run = run
        self.current: Tally | None = None
        self._lock = threading.Lock()
        self.dynamo = DynamoUnits()
        listen_to_aws(self._aws_request)
        self._count_api_requests()

    def _aws_request(
        self, who: str, client: Any, operation: str, params: dict[str, Any]
    ) -> Callable[[Any], None] | None:
        tally = self.current
        if tally is None or who in FIXED_CALLERS:
            return None
        service = client.meta.service_model.service_name
        units = self.dynamo.write(operation, params) if service == "dynamodb" else None

        def after(response: Any) -> None:
            with self._lock:
                tally.requests[(who, service, operation)] += 1
                if service == "dynamodb":
                    if units is not None:
                        tally.wru[(who, operation)] += units(response)
                    else:
                        tally.rru[(who, operation)] += self.dynamo.read(operation, params, response)
                elif service == "sqs":
                    self._sqs(tally, who, operation, params, response)
                elif service == "s3" and operation not in S3_FREE:
                    if operation in S3_PUT_CLASS:
                        tally.s3_put_class += 1
                    else:
                        tally.s3_get_class += 1
                elif service == "secretsmanager":
                    tally.secrets_manager_calls += 1

        return after

    @staticmethod
    def _sqs(tally: Tally, who: str, operation: str, params: dict, response: Any) -> None:
        if operation == "SendMessage":
            payload = len(params["MessageBody"].encode())
        elif operation == "SendMessageBatch":
            payload = sum(len(e["MessageBody"].encode()) for e in params["Entries"])
        elif operation == "ReceiveMessage":
            messages = (response or {}).get("Messages", [])
            if not messages:
                tally.sqs_empty_receives += 1
                return
            payload = sum(len(m["Body"].encode()) for m in messages)
        else:
            payload = 0
        tally.sqs_billed[who] += max(1, math.ceil(payload / SQS_CHUNK))

    def _count_api_requests(self) -> None:
        gateway = self.run.stack.gateway
        handle = gateway.handle

        def counted(method: str, raw_path: str, *args: Any) -> Any:
            tally = self.current
            matched = gateway.match(method, unquote(urlsplit(raw_path).path))
            if tally is not None and matched is not None:
                with self._lock:
                    tally.api_requests[matched[0].api] += 1
            return handle(method, raw_path, *args)

        gateway.handle = counted  # type: ignore[method-assign]

    @contextmanager
    def phase(self, messages: int) -> Iterator[Tally]:
        tally = Tally(messages=messages)
        runs_before = len(self.run.runs)
        logged_before = Counter(self.run.output.bytes_by_function)
        self.current = tally
        try:
            yield tally
        finally:
            time.sleep(1)  # stragglers: the last receipt's answer, the last delete
            self.current = None
            tally.invocations = self.run.runs[runs_before:]
            tally.log_bytes = Counter(self.run.output.bytes_by_function) - logged_before


# --- prices -----------------------------------------------------------------------------


@cache
def _template() -> dict[str, Any]:
    from cloudsms_local.template import load_template

    return load_template()


def setting(function: str, name: str, default: Any = None) -> Any:
    """A property of the function in template.yaml, else of the template's Globals."""
    template = _template()
    props = template["Resources"][function]["Properties"]
    return props.get(name, template["Globals"]["Function"].get(name, default))


def memory_gb(function: str) -> float:
    return float(setting(function, "MemorySize", 128)) / 1024


def traced(function: str) -> bool:
    """Whether the template turns active tracing on for the function."""
    return bool(setting(function, "Tracing", "PassThrough") == "Active")


def platform_logged(function: str) -> bool:
    """Whether Lambda writes its START/END/REPORT lines for the function: always, unless
    its logs are JSON with the system log level above INFO."""
    logging = setting(function, "LoggingConfig", {})
    json_logs = logging.get("LogFormat") == "JSON"
    return not (json_logs and logging.get("SystemLogLevel") in ("WARN", "ERROR"))


def costs(tally: Tally) -> dict[str, float]:
    """US dollars by line item."""
    gb = {function: memory_gb(function) for function in {r.function for r in tally.invocations}}
    gb_seconds = sum(math.ceil(r.duration_ms) / 1000 * gb[r.function] for r in tally.invocations)
    traces = tally.api_requests.total() + sum(
        1 for r in tally.invocations if r.trigger in ("sqs", "url") and traced(r.function)
    )
    platform_lines = sum(1 for r in tally.invocations if platform_logged(r.function))
    log_bytes = tally.log_bytes.total() + len(PLATFORM_LOG_LINES) * platform_lines
    return {
        "lambda_requests": len(tally.invocations) * PRICES["lambda_request"],
        "lambda_duration": gb_seconds * PRICES["lambda_gb_second_arm64"],
        "dynamodb_writes": tally.wru.total() * PRICES["dynamodb_write_request_unit"],
        "dynamodb_reads": tally.rru.total() * PRICES["dynamodb_read_request_unit"],
        "sqs": tally.sqs_billed.total() * PRICES["sqs_request"],
        "api_gateway": tally.api_requests.total() * PRICES["api_gateway_rest_request"],
        "s3": tally.s3_put_class * PRICES["s3_put_class_request"]
        + tally.s3_get_class * PRICES["s3_get_class_request"],
        "secrets_manager": tally.secrets_manager_calls * PRICES["secrets_manager_call"],
        "cloudwatch_logs": log_bytes / 1024**3 * PRICES["cloudwatch_logs_ingested_gb"],
        "xray": traces * XRAY_SAMPLED * PRICES["xray_trace_recorded"],
    }


def per_million(usd: dict[str, float], messages: int) -> dict[str, float]:
    return {line: round(value / messages * MILLION, 4) for line, value in usd.items()}


def counts(tally: Tally) -> dict[str, Any]:
    """What the phase made, per message, and by whom."""
    n = tally.messages
    by_function: dict[str, list[float]] = {}
    for run in tally.invocations:
        by_function.setdefault(run.function, []).append(run.duration_ms)
    return {
        "messages": n,
        "per_message": {
            "dynamodb_wru": round(tally.wru.total() / n, 3),
            "dynamodb_rru": round(tally.rru.total() / n, 3),
            "sqs_billed_requests": round(tally.sqs_billed.total() / n, 4),
            "api_gateway_requests": round(tally.api_requests.total() / n, 4),
            "lambda_invocations": round(len(tally.invocations) / n, 4),
            "log_bytes": round(tally.log_bytes.total() / n, 1),
        },
        "dynamodb_wru_by_caller": {f"{w} {op}": u for (w, op), u in tally.wru.most_common()},
        "dynamodb_rru_by_caller": {f"{w} {op}": u for (w, op), u in tally.rru.most_common()},
        "aws_requests": {f"{w} {s}.{op}": c for (w, s, op), c in tally.requests.most_common()},
        "sqs_billed_by_caller": dict(tally.sqs_billed),
        "sqs_empty_receives_not_priced": tally.sqs_empty_receives,
        "s3_requests": {"put_class": tally.s3_put_class, "get_class": tally.s3_get_class},
        "secrets_manager_calls": tally.secrets_manager_calls,
        "api_gateway_requests": dict(tally.api_requests),
        "invocations": {
            name: {
                "count": len(times),
                "mean_ms": round(sum(times) / len(times), 1),
                "billed_gb_seconds": round(
                    sum(math.ceil(t) for t in times) / 1000 * memory_gb(name), 3
                ),
            }
            for name, times in sorted(by_function.items())
        },
        "log_bytes_by_function": dict(tally.log_bytes),
    }


def storage_per_message(run: LocalRun, mission_id: str) -> dict[str, float]:
    """Bytes a mission message keeps in DynamoDB after its final receipt: the item and
    its index entries, each with DynamoDB's 100 bytes of overhead."""
    table_name = run.stack.resources.environment["MESSAGES_TABLE"]
    meter = DynamoUnits()
    table = meter.backend.tables[table_name]
    items = [
        item
        for by_range in list(table.items.values())
        for item in list(by_range.values())
        if item.attrs["uid"].value.startswith(mission_id)
    ]
    item_bytes = index_bytes = 0
    for item in items:
        key = {name: item.attrs[name].to_json() for name in ("tenant_id", "uid")}
        stored = meter._stored(table_name, key)
        assert stored is not None
        item_bytes += stored.size + STORAGE_OVERHEAD_BYTES
        index_bytes += sum(size + STORAGE_OVERHEAD_BYTES for *_, size in stored.entries.values())
    return {"item_bytes": item_bytes / len(items), "index_bytes": index_bytes / len(items)}


def send_one_offs(run: LocalRun, count: int) -> None:
    """Verify codes, one per API call, sent one after the other."""
    for i in range(count):
        run.send_verify_code(verify_number(i))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--one-off", type=int, default=ONE_OFF)
    parser.add_argument("--receipt-delay", type=float, default=RECEIPT_DELAY)
    args = parser.parse_args(argv)

    # The emulator in this process: write units are read off its items. One invocation of
    # a function at a time: every function shares this process's interpreter lock, and a
    # duration is priced as Lambda bills it, so it must be the invocation's own work and
    # its waits on AWS, not its wait for the lock while other invocations run.
    with LocalRun(args.receipt_delay, emulator_in_process=True, one_at_a_time=True) as run:
        warm_up(run)
        meter = Meter(run)
        mission_ids: list[str] = []
        with meter.phase(args.one_off) as one_off:
            sender = threading.Thread(
                target=send_one_offs, args=(run, args.one_off), name=f"{BENCH_THREAD}one-off"
            )
            sender.start()
            sender.join()
            run.wait_for_receipts("", args.one_off + 1, MISSION_TIMEOUT)  # +1: the warm-up
        with meter.phase(args.messages) as mission:
            created = run.create_mission(args.messages)
            mission_ids.append(created["mission_id"])
            mission.messages = int(created["phone_number_amount"])
            run.wait_for_receipts(created["mission_id"], mission.messages, MISSION_TIMEOUT)
            run.wait_until_counted(created["mission_id"], mission.messages, MISSION_TIMEOUT)
        progress = run.mission(mission_ids[0])["progress"]
        storage = storage_per_message(run, mission_ids[0])
    assert progress["delivered"] + progress["failed"] == mission.messages, progress

    one_off_usd, mission_usd = costs(one_off), costs(mission)
    run_usd = {line: one_off_usd[line] + mission_usd[line] for line in one_off_usd}
    messages = one_off.messages + mission.messages
    run_per_million = per_million(run_usd, messages)
    total = sum(run_per_million.values())
    dominant = sorted(run_per_million.items(), key=lambda kv: kv[1], reverse=True)
    from cloudsms.settings import get_settings

    retention_months = get_settings().message_retention_days / 30
    stored_gb = (storage["item_bytes"] + storage["index_bytes"]) * MILLION / 1024**3
    storage_usd = (
        stored_gb
        * retention_months
        * (PRICES["dynamodb_storage_gb_month"] + PRICES["dynamodb_pitr_gb_month"])
    )
    mission_pm = per_million(mission_usd, mission.messages)
    one_off_pm = per_million(one_off_usd, one_off.messages)
    figures = {
        "usd_per_million_messages": figure(total, TARGET_USD_PER_MILLION),
        "usd_per_million_mission_messages": figure(sum(mission_pm.values())),
        "usd_per_million_one_off_messages": figure(sum(one_off_pm.values())),
        "dominant_share_of_cost": figure(dominant[0][1] / total),
        "dynamodb_wru_per_mission_message": figure(mission.wru.total() / mission.messages),
        "dynamodb_wru_per_one_off_message": figure(one_off.wru.total() / one_off.messages),
        "usd_per_million_storage_over_retention": figure(storage_usd),
    }
    write_result(
        "aws_cost",
        figures,
        f"python -m bench.aws_cost --messages {args.messages} --one-off {args.one_off} "
        f"--receipt-delay {args.receipt_delay}",
        dominant=[{"line": line, "usd_per_million": usd} for line, usd in dominant],
        usd_per_million_by_line={
            "run": run_per_million,
            "mission": mission_pm,
            "one_off": one_off_pm,
        },
        prices={"as_known": PRICES_AS_KNOWN, **PRICES, "xray_sampled_share": XRAY_SAMPLED},
        storage={
            **{k: round(v, 1) for k, v in storage.items()},
            "retention_months": retention_months,
            "gb_per_million_messages": round(stored_gb, 3),
            "note": "kept until the messages' TTL, priced apart from the requests",
        },
        phases={"one_off": counts(one_off), "mission": counts(mission)},
        parameters={
            "mission_messages": mission.messages,
            "one_off_messages": one_off.messages,
            "receipt_delay_seconds": args.receipt_delay,
            "lambda_concurrency": run.stack.lambdas.concurrency,
        },
        not_counted=[
            "free tiers",
            "the SQS event sources' idle polling (a fixed monthly cost)",
            "CloudWatch custom metrics (priced per metric per month, not per message)",
            "data transfer to the carriers' gateways",
            "Secrets Manager's monthly price per secret",
            "S3 storage of staged number lists",
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
