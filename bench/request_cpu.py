"""CPU seconds of the heaviest synchronous API requests at their limits, projected to the
CPU Lambda gives each one's function (in proportion to its memory: 1,769 MB is one vCPU)
beside API Gateway's 29 s: a mission with a 1 MB number list (created, and previewed), a
blacklist import at its limit, and a log export at its cap (100,000 rows).

Each request runs through its function's handler against moto in this process; its CPU
time (time.process_time) is split into what moto spends emulating AWS (not spent in
Lambda) and the rest, which a function would spend. The projection scales that rest by
CORE_FACTOR (how much slower one Lambda arm64 vCPU runs this code than the core measured
on; not measured, see README.md "Request time on Lambda") and by the vCPU share of the
function's memory. Waiting for AWS is not counted: only the CPU a function needs.
Run alone: python -m bench.request_cpu
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench import emulated_account, figure, write_result

NUMBER_LIST_MAX_BYTES = 1_048_576  # the API's own limit (settings.number_list_max_bytes)
FULL_VCPU_MB = 1769
# One Lambda arm64 vCPU against the core measured on: an assumption (README.md).
CORE_FACTOR = 1.5
TARGET_SECONDS = 20  # what a request may take, projected, leaving room for AWS's latency
TEMPLATE = Path(__file__).parent.parent / "template.yaml"
EVENTS = Path(__file__).parent.parent / "tests" / "events"
GUIDE = "Hello ${Name}, your pin code is 123456, get more info via link: ${website}"
PLAIN = "Your pin code is 123456, get more info via link: https://example.com"


def memory_of(function: str) -> int:
    """The function's MemorySize in template.yaml (the Globals' when it sets none)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load(TEMPLATE.read_text(), Loader=Loader)  # noqa: S506 - SafeLoader
    properties = template["Resources"][function]["Properties"]
    return int(properties.get("MemorySize", template["Globals"]["Function"]["MemorySize"]))


def projected(cpu_seconds: float, memory_mb: int) -> float:
    return cpu_seconds * CORE_FACTOR * FULL_VCPU_MB / min(memory_mb, FULL_VCPU_MB)


class MotoClock:
    """CPU seconds moto spends answering requests (botocore's own work stays outside)."""

    def __init__(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self.seconds = 0.0
        call = BotocoreStubber.process_request

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return call(stubber, *args, **kwargs)
            finally:
                self.seconds += time.process_time() - start

        BotocoreStubber.process_request = timed  # type: ignore[method-assign]


def fitted(make: Callable[[int], bytes], limit: int = NUMBER_LIST_MAX_BYTES) -> bytes:
    """The largest file `make(rows)` makes within `limit` bytes (to within a percent)."""
    rows = 10_000
    for _ in range(6):
        data = make(rows)
        if 0.99 * limit <= len(data) <= limit:
            return data
        rows = int(rows * limit / len(data) * (0.995 if len(data) > limit else 1.0))
    return make(rows - rows // 50)


def number(i: int) -> str:
    return f"+63917{i:07d}"


def csv_list(rows: int, variables: bool) -> bytes:
    if variables:
        lines = ["Phone Number,Name,website"]
        lines += [f"{number(i)},Customer {i},https://example.com/{i}" for i in range(rows)]
    else:
        lines = ["Phone Number"] + [number(i) for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def xlsx_list(rows: int, variables: bool) -> bytes:
    """As Excel keeps a list: numbers in "general" cells (floats)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Phone Number", "Name", "website"] if variables else ["Phone Number"])
    for i in range(rows):
        value = float(number(i)[1:])
        sheet.append([value, f"Customer {i}", f"https://example.com/{i}"] if variables else [value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def form_event(path: str, fields: dict[str, str], data: bytes, filename: str) -> dict[str, Any]:
    """A multipart POST as API Gateway passes a binary media type (base64)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="number_list"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + data
        + b"\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    event = api_event("POST", path, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    event["body"] = base64.b64encode(b"".join(parts)).decode()
    event["isBase64Encoded"] = True
    return event


def api_event(
    method: str, path: str, headers: dict[str, str], query: dict[str, str] | None = None
) -> dict[str, Any]:
    event = json.loads((EVENTS / "api_request.json").read_text())
    event.update(
        {
            "httpMethod": method,
            "path": path,
            "resource": path,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "pathParameters": None,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
            "body": None,
        }
    )
    event["requestContext"].update({"httpMethod": method, "resourcePath": path})
    event["requestContext"]["authorizer"]["tenant_id"] = "bench"
    event["requestContext"]["authorizer"]["role"] = "tenant"
    return event


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def seed_log(rows: int, text: str) -> None:
    """`rows` delivered messages of one mission in the tenant's dispatching log."""
    from datetime import UTC, datetime, timedelta

    from cloudsms.store.messages import MessageModel
    from cloudsms.store.missions import MissionModel

    now = datetime.now(UTC) - timedelta(hours=1)
    mission_id = f"{int(now.timestamp() * 1000):012X}BENCH0"
    MissionModel(
        tenant_id="bench",
        mission_id=mission_id,
        name="bench",
        name_folded="bench",
        direction="international",
        sms_type="marketing",
        content=text,
        channel="SIM",
        status="Sent",
        dispatch_at=now,
        dispatching_date=now,
        created_at=now,
        updated_at=now,
    ).save()
    with MessageModel.batch_write() as batch:
        for i in range(rows):
            batch.save(
                MessageModel(
                    tenant_id="bench",
                    uid=f"{mission_id}{i:012X}",
                    to=number(i),
                    text=text,
                    encoding="GSM-7",
                    segments=1,
                    sms_type="marketing",
                    channel="SIM",
                    sender="CloudSMS",
                    mission_id=mission_id,
                    dispatch_day=now.date().isoformat(),
                    dr_state="DELIVRD",
                    created_at=now,
                    submitted_at=now,
                    receipt_at=now + timedelta(seconds=3),
                    expires_at=int(now.timestamp()) + 86400,
                )
            )


def cpu_loop() -> float:
    """CPU seconds of a fixed pure-Python loop: run it on Lambda to check CORE_FACTOR."""
    start = time.process_time()
    total = 0
    for i in range(20_000_000):
        total += i % 7
    return time.process_time() - start


def main() -> int:
    results: dict[str, dict[str, float]] = {}
    with emulated_account():
        os.environ["NUMBER_LIST_MAX_BYTES"] = str(NUMBER_LIST_MAX_BYTES)
        from cloudsms.services import channels, tenants
        from functions.admin import app as admin_app
        from functions.missions import app as missions_app
        from functions.reports import app as reports_app

        tenants.create_tenant("bench", "Bench", "Asia/Shanghai")
        channels.add_channel("SIM", "simulator", "http://127.0.0.1:9", "sim", "sim", "CloudSMS")
        channels.assign_channel("bench", "SIM")
        moto = MotoClock()

        def measure(name: str, function: str, handler: Any, event: dict[str, Any]) -> None:
            moto.seconds, cpu = 0.0, time.process_time()
            wall = time.perf_counter()
            response = handler.lambda_handler(event, Context())
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            assert response["statusCode"] < 300, (name, response["body"][:500])
            memory = memory_of(function)
            own = cpu - moto.seconds
            results[name] = {
                "function": function,  # type: ignore[dict-item]
                "memory_mb": memory,
                "cpu_seconds": round(cpu, 2),
                "moto_cpu_seconds": round(moto.seconds, 2),
                "function_cpu_seconds": round(own, 2),
                "projected_seconds": round(projected(own, memory), 1),
            }
            print(name, results[name], f"wall {wall:.1f}s", flush=True)

        lists = {
            "xlsx, 3 columns": (fitted(lambda n: xlsx_list(n, True)), GUIDE, "numbers.xlsx"),
            "xlsx, numbers only": (fitted(lambda n: xlsx_list(n, False)), PLAIN, "numbers.xlsx"),
            "csv, 3 columns": (fitted(lambda n: csv_list(n, True)), GUIDE, "numbers.csv"),
            "csv, numbers only": (fitted(lambda n: csv_list(n, False)), PLAIN, "numbers.csv"),
        }
        # Warm what a warm function has loaded (imports, clients): not counted.
        data, content, filename = lists["csv, 3 columns"]
        fields = {"name": "bench", "direction": "international", "sms_type": "marketing"}
        fields |= {"channel": "SIM", "signature": "CloudSMS"}
        missions_app.lambda_handler(
            form_event("/v1/missions/preview", {**fields, "content": content}, data, filename),
            Context(),
        )
        for kind, (data, content, filename) in lists.items():
            form = {**fields, "content": content}
            for path, name in [
                ("/v1/missions/preview", "preview"),
                ("/v1/missions", "mission"),
            ]:
                event = form_event(path, form, data, filename)
                measure(f"{name}, {kind} ({len(data):,} B)", "MissionFunction", missions_app, event)
        from cloudsms.services.blacklist import MAX_IMPORT_ROWS

        for filename, data in [
            ("numbers.csv", csv_list(MAX_IMPORT_ROWS, False)),
            ("numbers.xlsx", xlsx_list(MAX_IMPORT_ROWS, False)),
        ]:
            event = form_event("/v1/blacklist/import", {}, data, filename)
            name = f"blacklist import, {MAX_IMPORT_ROWS:,} numbers, {filename}"
            measure(name, "AdminFunction", admin_app, event)

        seed_log(100_000, "Hello Amy, your pin code is 123456")
        for file_format in ["xlsx", "csv"]:
            event = api_event(
                "GET", "/v1/messages/export", {"Accept": "*/*"}, {"format": file_format}
            )
            measure(f"export, {file_format}", "ReportsFunction", reports_app, event)
    loop = cpu_loop()
    print(f"CPU loop: {loop:.2f} s", flush=True)
    figures = {
        name: figure(result["projected_seconds"], TARGET_SECONDS)
        for name, result in results.items()
    }
    figures["cpu_loop_seconds"] = figure(loop)
    write_result(
        "request_cpu",
        figures,
        "python -m bench.request_cpu",
        requests=results,
        core_factor=CORE_FACTOR,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
