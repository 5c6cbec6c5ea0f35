"""Exports of the dispatching log as .xlsx or .csv, numbers masked as on screen.

An export comes two ways. In the API response (`render`): a Lambda response holds at
most 6 MB, which base64 makes 4.5 MB of file, so it stops at `MAX_ROWS` rows or at that
size, whichever comes first, and says so (`truncated`); with texts of about 90
characters .csv reaches that size at some 20,000 rows. Or prepared in the
background into a file in S3 (`write_file`, services/prepared_exports.py), as the portal
does: up to `MAX_FILE_ROWS` rows, whatever their size.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from cloudsms.domain import phone
from cloudsms.domain.states import DrState, outcome
from cloudsms.services import dispatching_log
from cloudsms.services.dispatching_log import LogFilter
from cloudsms.store.messages import MessageModel
from cloudsms.store.tenants import TenantModel

# Rows in the response. The log is read and the file built within the request, which API
# Gateway ends at 29 s: as .xlsx, 61,874 rows of short texts (built twice to fit 4.5 MB)
# took 35 s of CPU on the machine measured and 25,000 rows 12 s, about 18 s on a Lambda
# vCPU (README.md "Request time on Lambda"). Longer logs are prepared in the background.
MAX_ROWS = 15_000
MAX_FILE_BYTES = 4_500_000
# A prepared export: an Excel sheet holds 1,048,576 rows.
MAX_FILE_ROWS = 1_000_000
# Mission names are looked up for this many messages at a time.
NAME_BATCH = 100
# An .xlsx is about a third of its cells' text (UIDs barely compress); this errs large, so
# that the file is seldom built twice.
XLSX_COMPRESSION = 0.4
# A rebuilt .xlsx aims this far under the limit, as compression varies with the rows kept.
XLSX_MARGIN = 0.9
XLSX_TRIES = 4

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

STATUS_LABELS = {
    "pending": "Pending",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Failed",
    "no_notification": "No Delivery Notification",
}
# As the portal names them (the guide's SMS Type).
SMS_TYPE_LABELS = {
    "verify_code": "Verify Code",
    "business": "Business SMS",
    "marketing": "Marketing SMS",
}


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass(frozen=True)
class ExportFile:
    body: bytes
    content_type: str
    filename: str
    rows: int
    truncated: bool


# The guide's "P2P SMS Business": every message the platform sends goes to a phone.
MOBILE_TERMINATED = "MT"


def _header(zone: str) -> list[str]:
    return [
        "Seq No.",
        "Country Code",
        "Phone Number",
        f"Dispatching Time ({zone})",
        f"Receive Time ({zone})",
        "SMS Content",
        "Segment Quantity",
        "UID",
        "Sender ID",
        "Route ID",
        "Task Name",
        "P2P SMS Business",
        "SMS Type",
        "SMS Status",
        "DR State",
        # Why a message failed: the carrier's code and the words for it (the portal's
        # log shows them in a message's detail; a file has no detail to open).
        "Error Code",
        "Reason",
    ]


# A cell a spreadsheet would read as a formula: a text, a sender id or a mission name
# comes from people outside the platform (a number list's values too).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_STARTS)


def _csv_cell(value: Any) -> Any:
    """Text as text: a leading quote keeps a spreadsheet from running it (OWASP's advice)."""
    return "'" + value if _formula_like(value) else value


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _rows(tenant: TenantModel, messages: Iterable[MessageModel]) -> Iterator[list[Any]]:
    zone = ZoneInfo(tenant.time_zone)
    names: dict[str, str] = {}
    batch: list[MessageModel] = []
    seq = 0

    def flush() -> Iterator[list[Any]]:
        nonlocal seq
        unknown = [m for m in batch if m.mission_id and m.mission_id not in names]
        names.update(dispatching_log.mission_names(tenant.tenant_id, unknown))
        for message in batch:
            seq += 1
            yield [
                seq,
                phone.country_code(message.to),
                phone.mask(message.to),
                _local(message.created_at, zone),
                _local(message.receipt_at, zone),
                message.text,
                int(message.segments),
                message.uid,
                message.sender or "",
                message.channel,
                names.get(message.mission_id or "", ""),
                MOBILE_TERMINATED,
                SMS_TYPE_LABELS.get(message.sms_type, message.sms_type),
                STATUS_LABELS[outcome(DrState(message.dr_state)).value],
                message.dr_state,
                message.error_code or "",
                message.reason or "",
            ]
        batch.clear()

    for message in messages:
        batch.append(message)
        if len(batch) == NAME_BATCH:
            yield from flush()
    yield from flush()


def _csv_line(row: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _write_csv(
    header: list[str], rows: Iterable[list[Any]], out: IO[bytes], max_bytes: float = float("inf")
) -> tuple[int, bool]:
    """Writes the rows while the file stays within max_bytes: (rows written, cut short)."""
    # With a byte order mark, or Excel reads UTF-8 as the system's ANSI code page.
    size = out.write("\ufeff".encode() + _csv_line(header))
    count = 0
    for row in rows:
        line = _csv_line(row)
        if size + len(line) > max_bytes:
            return count, True
        size += out.write(line)
        count += 1
    return count, False


def _csv(header: list[str], rows: Iterator[list[Any]]) -> tuple[bytes, int, bool]:
    buffer = io.BytesIO()
    count, over_size = _write_csv(header, rows, buffer, MAX_FILE_BYTES)
    return buffer.getvalue(), count, over_size


def _write_workbook(header: list[str], rows: Iterable[list[Any]], out: IO[bytes]) -> None:
    # Write-only: rows go to a temporary file as they come, not into memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Dispatching Log")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKLMN", (8, 8, 16, 20, 20, 60, 10, 34), strict=False):
        sheet.column_dimensions[letter].width = width
    titles = [WriteOnlyCell(sheet, value=name) for name in header]
    for title in titles:
        title.font = Font(bold=True)
    sheet.append(titles)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(out)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """A text that looks like a formula is written as text (openpyxl would write a
    formula), so the workbook shows it as it was sent and never runs it."""
    if not _formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    _write_workbook(header, rows, buffer)
    return buffer.getvalue()


def _text_bytes(row: list[Any]) -> int:
    return sum(len(str(value).encode()) for value in row) + len(row)


def _xlsx(header: list[str], rows: Iterator[list[Any]]) -> tuple[bytes, int, bool]:
    """An .xlsx's size is known only once it is compressed. Rows are taken while their
    text, compressed as the workbook will be, should fit; if the built file is too large
    after all, it is built again with as many rows as should fit."""
    kept: list[list[Any]] = []
    text_budget = MAX_FILE_BYTES / XLSX_COMPRESSION
    truncated = False
    for row in rows:
        text_budget -= _text_bytes(row)
        if text_budget < 0:
            truncated = True
            break
        kept.append(row)
    for _ in range(XLSX_TRIES):
        body = _workbook(header, kept)
        if len(body) <= MAX_FILE_BYTES:
            return body, len(kept), truncated
        truncated = True
        kept = kept[: int(len(kept) * MAX_FILE_BYTES / len(body) * XLSX_MARGIN)]
    raise AssertionError("the export did not shrink under the size limit")


def export_log(
    tenant: TenantModel, log: LogFilter, file_format: ExportFormat, now: datetime
) -> ExportFile:
    """The log as a file: at most MAX_ROWS rows and MAX_FILE_BYTES bytes."""
    return render(
        tenant, dispatching_log.messages(tenant.tenant_id, log, MAX_ROWS + 1), file_format, now
    )


def render(
    tenant: TenantModel, messages: Iterator[MessageModel], file_format: ExportFormat, now: datetime
) -> ExportFile:
    """`messages` as a file, up to MAX_ROWS of them and MAX_FILE_BYTES bytes."""
    rows = _rows(tenant, islice(messages, MAX_ROWS))
    header = _header(tenant.time_zone)
    if file_format is ExportFormat.CSV:
        body, count, over_size = _csv(header, rows)
    else:
        body, count, over_size = _xlsx(header, rows)
    return ExportFile(
        body=body,
        content_type=content_type(file_format),
        filename=filename(tenant, file_format, now),
        rows=count,
        # Whatever the rows left unread, one more message means the export is cut short.
        truncated=over_size or next(messages, None) is not None,
    )


def filename(tenant: TenantModel, file_format: ExportFormat, now: datetime) -> str:
    stamp = now.astimezone(ZoneInfo(tenant.time_zone)).strftime("%Y%m%d-%H%M%S")
    return f"dispatching-log-{stamp}.{file_format.value}"


def content_type(file_format: ExportFormat) -> str:
    return CSV_TYPE if file_format is ExportFormat.CSV else XLSX_TYPE


def write_file(
    tenant: TenantModel, messages: Iterator[MessageModel], file_format: ExportFormat, out: IO[bytes]
) -> tuple[int, bool]:
    """`messages` as a file written to `out`, up to MAX_FILE_ROWS of them: (rows, whether
    more matched). The file is streamed: no size limit, little memory."""
    header = _header(tenant.time_zone)
    rows = _rows(tenant, islice(messages, MAX_FILE_ROWS))
    if file_format is ExportFormat.CSV:
        count, _ = _write_csv(header, rows, out)
    else:
        counted = _Counted(rows)
        _write_workbook(header, counted, out)
        count = counted.count
    return count, next(messages, None) is not None


class _Counted:
    """The rows, counted as they are taken."""

    def __init__(self, rows: Iterator[list[Any]]):
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for row in self.rows:
            self.count += 1
            yield row
