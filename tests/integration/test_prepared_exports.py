"""Log exports prepared in the background: asked for through the reports API, prepared by
the export function from real SQS records, read back from S3, against moto."""

import csv
import io
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
from openpyxl import load_workbook

from tests.integration.conftest import api_event
from tests.integration.submit_records import queued_records, received_again

NOW = datetime.now(UTC)


def _store(n: int, dr_state: str = "DELIVRD", text: str = "Hi") -> list[str]:
    """n messages dispatched over the last n seconds, newest first; their uids."""
    from cloudsms.store.messages import MessageModel

    uids = []
    with MessageModel.batch_write() as batch:
        for i in range(n):
            moment = NOW - timedelta(seconds=i + 1)
            uid = f"{int(moment.timestamp() * 1000):012X}{secrets.token_hex(9).upper()}"
            uids.append(uid)
            batch.save(
                MessageModel(
                    tenant_id="acme",
                    uid=uid,
                    to="+639215347566",
                    text=text,
                    encoding="GSM-7",
                    segments=1,
                    sms_type="business",
                    channel="SIM",
                    dispatch_day=moment.date().isoformat(),
                    dr_state=dr_state,
                    created_at=moment,
                    expires_at=int(moment.timestamp()) + 86400,
                )
            )
    return uids


def _call(context, method: str, path: str, resource: str, **kwargs: Any) -> dict[str, Any]:
    from functions.reports import app

    return app.lambda_handler(api_event(method, path, resource, **kwargs), context)


def _ask(context, tenant_id: str = "acme", **query: str) -> dict[str, Any]:
    response = _call(
        context,
        "POST",
        "/v1/messages/exports",
        "/v1/messages/exports",
        query=query,
        tenant_id=tenant_id,
    )
    assert response["statusCode"] == 202, response["body"]
    return json.loads(response["body"])


def _status(context, export_id: str, tenant_id: str = "acme") -> dict[str, Any]:
    return _call(
        context,
        "GET",
        f"/v1/messages/exports/{export_id}",
        "/v1/messages/exports/{export_id}",
        path_parameters={"export_id": export_id},
        tenant_id=tenant_id,
    )


def _view(context, export_id: str) -> dict[str, Any]:
    response = _status(context, export_id)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def _prepare(aws, context, receive_count: int = 1) -> dict[str, Any]:
    """Hands what waits on the export queue to the export function, as Lambda does."""
    from functions.reports import export

    records = queued_records(aws, "ExportQueue")
    assert records, "nothing was queued"
    records = [received_again(r, receive_count) for r in records]
    answer = export.lambda_handler({"Records": records}, context)
    # What failed comes back at once here, rather than after the queue's visibility timeout.
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for record in records:
        if record["messageId"] in failed:
            boto3.client("sqs").change_message_visibility(
                QueueUrl=aws.physical["ExportQueue"],
                ReceiptHandle=record["receiptHandle"],
                VisibilityTimeout=0,
            )
    return answer


def _file(view: dict[str, Any]) -> bytes:
    """The file behind a ready export's download URL (read from S3: no server here)."""
    from cloudsms.settings import get_settings

    url = urlparse(view["download_url"])
    assert "X-Amz-Signature=" in url.query
    bucket = get_settings().upload_bucket
    # Virtual-hosted (bucket.s3.amazonaws.com/key) or path-style (host/bucket/key).
    key = url.path.lstrip("/").removeprefix(f"{bucket}/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=unquote(key))["Body"].read()


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_prepared_export_holds_what_the_response_export_cuts_short(
    aws, tenant, context, monkeypatch
):
    from cloudsms.services import exports

    _store(300, text=secrets.token_hex(60))
    # The response's limit, small enough to matter for 300 rows.
    monkeypatch.setattr(exports, "MAX_FILE_BYTES", 20_000)
    immediate = _call(
        context, "GET", "/v1/messages/export", "/v1/messages/export", query={"format": "csv"}
    )
    assert immediate["multiValueHeaders"]["X-Export-Truncated"] == ["true"]

    asked = _ask(context, format="csv")
    assert asked["status"] == "preparing" and asked["download_url"] is None
    assert _prepare(aws, context) == {"batchItemFailures": []}
    view = _view(context, asked["export_id"])

    assert (view["status"], view["rows"], view["truncated"]) == ("ready", 300, False)
    assert view["filename"].endswith(".csv")
    rows = _csv_rows(_file(view))
    assert len(rows) == 301
    assert [row[0] for row in rows[1:4]] == ["1", "2", "3"]
    assert rows[1][2] == "921****566"  # masked, as on screen


def test_a_prepared_xlsx_export_has_the_logs_columns(aws, tenant, context):
    uids = _store(3)

    asked = _ask(context)  # .xlsx unless asked otherwise
    _prepare(aws, context)
    view = _view(context, asked["export_id"])

    assert view["format"] == "xlsx" and view["filename"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(_file(view)), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Seq No.", "Country Code", "Phone Number")
    assert [row[7] for row in rows] == uids
    assert view["rows"] == 3


def test_a_prepared_export_uses_the_logs_filters(aws, tenant, context):
    failed = _store(2, dr_state="UNDELIV")
    _store(2)

    asked = _ask(context, format="csv", status="failed")
    _prepare(aws, context)

    rows = _csv_rows(_file(_view(context, asked["export_id"])))
    assert sorted(row[7] for row in rows[1:]) == sorted(failed)


def test_a_prepared_export_stops_at_its_row_limit_and_says_so(aws, tenant, context, monkeypatch):
    from cloudsms.services import exports

    monkeypatch.setattr(exports, "MAX_FILE_ROWS", 2)
    _store(3)

    asked = _ask(context, format="csv")
    _prepare(aws, context)
    view = _view(context, asked["export_id"])

    assert (view["rows"], view["truncated"]) == (2, True)
    assert len(_csv_rows(_file(view))) == 3


def test_a_bad_filter_is_refused_and_nothing_is_queued(aws, tenant, context):
    from cloudsms.store.exports import ExportModel

    response = _call(
        context,
        "POST",
        "/v1/messages/exports",
        "/v1/messages/exports",
        query={"from": "yesterday"},
    )

    assert response["statusCode"] == 400
    assert "'from'" in json.loads(response["body"])["error"]["message"]
    assert queued_records(aws, "ExportQueue") == []
    assert list(ExportModel.query("acme")) == []


def test_a_time_outside_the_years_is_refused_and_nothing_is_queued(aws, tenant, context):
    from cloudsms.store.exports import ExportModel

    response = _call(
        context,
        "POST",
        "/v1/messages/exports",
        "/v1/messages/exports",
        query={"to": "9999-12-31T23:59:59-14:00"},
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["message"] == (
        "'to' must fall in the years 2000 to 2100"
    )
    assert queued_records(aws, "ExportQueue") == []
    assert list(ExportModel.query("acme")) == []


def test_an_export_is_its_tenants_alone(aws, tenant, context):
    from cloudsms.services import tenants

    tenants.create_tenant("other", "Other", "UTC")
    asked = _ask(context, format="csv")

    assert _status(context, asked["export_id"], tenant_id="other")["statusCode"] == 404
    assert _status(context, "0000000000000000AB")["statusCode"] == 404


def test_a_tenant_may_have_three_exports_preparing(aws, tenant, context):
    from cloudsms.store.exports import SLOT_PREFIX, ExportModel

    for _ in range(3):
        _ask(context, format="csv")

    response = _call(context, "POST", "/v1/messages/exports", "/v1/messages/exports")

    assert response["statusCode"] == 429
    assert "3 exports are being prepared" in json.loads(response["body"])["error"]["message"]
    exports = [e for e in ExportModel.query("acme") if not e.export_id.startswith(SLOT_PREFIX)]
    assert len(exports) == 3
    assert len(queued_records(aws, "ExportQueue")) == 3


def test_a_redelivered_request_for_a_ready_export_changes_nothing(
    aws, tenant, context, monkeypatch
):
    from cloudsms.adapters import storage
    from cloudsms.services import prepared_exports

    _store(2)
    asked = _ask(context, format="csv")
    _prepare(aws, context)
    ready = _view(context, asked["export_id"])

    def no_upload(*_: Any, **__: Any) -> None:
        raise AssertionError("the file was written again")

    monkeypatch.setattr(storage, "upload_download", no_upload)
    prepared_exports.prepare("acme", asked["export_id"], lambda: NOW + timedelta(minutes=1))

    again = _view(context, asked["export_id"])
    assert (again["finished_at"], again["rows"]) == (ready["finished_at"], ready["rows"])


def test_an_export_failing_every_attempt_ends_failed(aws, tenant, context, monkeypatch):
    from cloudsms.services import exports

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(exports, "write_file", broken)
    asked = _ask(context, format="csv")

    # The first attempts are reported failed, for SQS to deliver again.
    first = _prepare(aws, context, receive_count=1)
    assert len(first["batchItemFailures"]) == 1
    assert _view(context, asked["export_id"])["status"] == "preparing"

    last = _prepare(aws, context, receive_count=3)
    assert last == {"batchItemFailures": []}
    view = _view(context, asked["export_id"])
    assert view["status"] == "failed"
    assert "please ask for it again" in view["error"]
    assert "disk full" not in json.dumps(view)


def test_a_failed_attempt_comes_back_after_a_wait_of_minutes(aws, tenant, context, monkeypatch):
    from cloudsms.adapters import queues
    from cloudsms.adapters.aws import client
    from cloudsms.services import exports

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk full")

    waits: list[int] = []

    def recorded(queue_url: str, receipt_handle: str, seconds: int) -> None:
        # Not through the best-effort adapter, which would only log a refusal by IAM.
        client("sqs").change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
        waits.append(seconds)

    monkeypatch.setattr(exports, "write_file", broken)
    monkeypatch.setattr(queues, "change_visibility", recorded)
    _ask(context, format="csv")

    _prepare(aws, context, receive_count=1)
    _prepare(aws, context, receive_count=2)

    # Not the queue's 90-minute visibility timeout: every attempt fits in the hour.
    assert waits == [60, 120]


def test_a_request_too_late_to_finish_within_the_hour_ends_the_export_failed(
    aws, tenant, context, monkeypatch
):
    from cloudsms.adapters import storage
    from cloudsms.services import prepared_exports

    def no_upload(*_: Any, **__: Any) -> None:
        raise AssertionError("a file was written")

    monkeypatch.setattr(storage, "upload_download", no_upload)
    _store(1)
    asked = _ask(context, format="csv")
    # From the request's own time (the real clock's): NOW was read when the tests started.
    late = datetime.now(UTC) + timedelta(minutes=50)

    prepared_exports.prepare("acme", asked["export_id"], lambda: late)

    later = prepared_exports.export_view("acme", asked["export_id"], late + timedelta(hours=1))
    assert later["status"] == "failed" and later["finished_at"] == late.isoformat()


def test_an_export_preparing_for_over_an_hour_reads_failed(aws, tenant, context):
    from cloudsms.services import prepared_exports

    asked = _ask(context, format="csv")

    later = prepared_exports.export_view("acme", asked["export_id"], NOW + timedelta(hours=2))

    assert later["status"] == "failed" and later["error"]


def test_a_ready_export_past_its_day_is_expired_without_a_url(aws, tenant, context):
    from cloudsms.services import prepared_exports

    _store(1)
    asked = _ask(context, format="csv")
    _prepare(aws, context)

    later = prepared_exports.export_view("acme", asked["export_id"], NOW + timedelta(days=2))

    assert (later["status"], later["download_url"]) == ("expired", None)


def test_a_text_that_looks_like_a_formula_is_exported_as_text(aws, tenant, context):
    formula = '=HYPERLINK("http://evil.example/x","Click")'
    _store(1, text=formula)

    as_xlsx = _ask(context)
    as_csv = _ask(context, format="csv")
    _prepare(aws, context)  # both

    sheet = load_workbook(io.BytesIO(_file(_view(context, as_xlsx["export_id"])))).active
    cell = sheet["F2"]
    assert (cell.value, cell.data_type) == (formula, "s")  # shown as sent, never run
    rows = _csv_rows(_file(_view(context, as_csv["export_id"])))
    assert rows[1][5] == "'" + formula


def test_an_export_is_finished_when_its_file_is_there(aws, tenant, context):
    from cloudsms.services import prepared_exports

    _store(2)
    asked = _ask(context, format="csv")
    done = NOW + timedelta(seconds=42)

    prepared_exports.prepare("acme", asked["export_id"], lambda: done)

    assert _view(context, asked["export_id"])["finished_at"] == done.isoformat()


def test_a_finished_export_frees_its_slot(aws, tenant, context):
    _store(1)
    for _ in range(3):
        _ask(context, format="csv")
    _prepare(aws, context)  # all three

    for _ in range(3):
        assert _ask(context, format="csv")["status"] == "preparing"


def test_a_slot_held_past_its_deadline_is_free_again(aws, tenant, context):
    from cloudsms.services import prepared_exports
    from cloudsms.services.dispatching_log import LogFilter
    from cloudsms.services.exports import ExportFormat
    from cloudsms.services.tenants import get_tenant

    for _ in range(3):
        _ask(context, format="csv")

    later = prepared_exports.request_export(
        get_tenant("acme"), LogFilter(NOW, NOW), ExportFormat.CSV, NOW + timedelta(hours=2)
    )

    assert later["status"] == "preparing"


def test_a_slot_is_not_an_export(aws, tenant, context):
    _ask(context, format="csv")

    assert _status(context, "slot#0")["statusCode"] == 404
