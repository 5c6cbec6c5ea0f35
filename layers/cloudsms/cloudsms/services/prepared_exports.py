"""Log exports prepared in the background, for logs too large for an API response.

A tenant asks for one (`request_export`: the filter is checked and resolved at once, and
the request is queued), the export function writes the file to the upload bucket
(`prepare`), and the tenant polls (`export_view`) until it is ready and downloads it
from a presigned URL. A whole mission of 100,000 numbers fits; the API response's
export stops at about 20,000 rows as .csv.
"""

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError

from cloudsms import ids
from cloudsms.adapters import queues, storage
from cloudsms.domain.sms_type import SmsType
from cloudsms.domain.states import Outcome
from cloudsms.errors import Conflict, NotFound, TooManyRequests, cut
from cloudsms.observability import logger
from cloudsms.services import dispatching_log, exports
from cloudsms.services.dispatching_log import LogFilter
from cloudsms.services.exports import ExportFormat
from cloudsms.services.redelivery import RetryLater, backoff_seconds
from cloudsms.services.tenants import get_tenant
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, transaction
from cloudsms.store.exports import (
    FAILED,
    PREPARING,
    READY,
    SLOT_PREFIX,
    ExportModel,
    ExportSlotModel,
    slot_key,
)
from cloudsms.store.tenants import TenantModel

# A tenant may have this many exports being prepared at once; each can hold the export
# function for minutes.
MAX_PREPARING = 3
# An export still preparing this long after it was asked for has failed, and its slot
# is free again. Every attempt fits in it: three (the export queue's maxReceiveCount) of
# at most ATTEMPT_TIME (the export function's Timeout), with a wait of 1, then 2 minutes
# after a failed one, take at most 48 minutes.
GIVE_UP_AFTER = timedelta(hours=1)
ATTEMPTS = 3
ATTEMPT_TIME = timedelta(minutes=15)
RETRY_WAIT_SECONDS = 60
RETRY_WAIT_MAX_SECONDS = 120
# A slot item outlives its deadline by a day before TTL removes it.
SLOT_KEPT_SECONDS = 24 * 3600
EXPIRED = "expired"  # ready, but its file is removed
FAILURE = "the export could not be prepared; please ask for it again"
ExportStatus = Literal["preparing", "ready", "failed", "expired"]


class PreparedExport(BaseModel):
    """POST /v1/messages/exports and GET /v1/messages/exports/{export_id}"""

    export_id: str
    status: ExportStatus = Field(
        description="preparing; ready (download_url); failed (error); expired (its file "
        "is removed, after a day by default)"
    )
    format: ExportFormat
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime = Field(description="When its file is removed")
    rows: int | None = Field(description="Rows in the file, once written")
    truncated: bool | None = Field(description="Whether more rows matched than it holds")
    filename: str | None
    download_url: str | None = Field(description="When ready: valid for 15 minutes by default")
    error: str | None = Field(description="When failed: why")


def request_export(
    tenant: TenantModel, log: LogFilter, file_format: ExportFormat, now: datetime
) -> dict[str, Any]:
    """Records the export in one of the tenant's free slots and queues it; answers its
    view (status "preparing")."""
    export = ExportModel(
        tenant_id=tenant.tenant_id,
        export_id=ids.new_time_ordered_id(),
        file_format=file_format.value,
        start=log.start,
        end=log.end,
        phone_number=log.phone_number,
        uid=log.uid,
        mission_name=log.mission_name,
        outcome=log.status.value if log.status else None,
        sms_type=log.sms_type.value if log.sms_type else None,
        requested_at=now,
        expires_at=int((now + timedelta(days=get_settings().export_retention_days)).timestamp()),
    )
    _record_in_a_free_slot(export, now)
    try:
        queues.enqueue(
            get_settings().export_queue_url,
            [{"tenant_id": export.tenant_id, "export_id": export.export_id}],
        )
    except Exception:
        # Not queued, so it would never be prepared: end it and free its slot.
        _fail(export, now)
        raise
    logger.info("export requested", export_id=export.export_id, file_format=file_format.value)
    return _view(export, now)


def export_view(tenant_id: str, export_id: str, now: datetime) -> dict[str, Any]:
    if export_id.startswith(SLOT_PREFIX):  # a slot's item is not an export
        raise NotFound(f"no export {cut(export_id)}")
    try:
        export = ExportModel.get(tenant_id, export_id, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(f"no export {cut(export_id)}") from error
    return _view(export, now)


def attempt(tenant_id: str, export_id: str, receipt: int, now: Callable[[], datetime]) -> bool:
    """The `receipt`th attempt at preparing an export; returns whether it wrote the file.

    A failed attempt raises RetryLater, for the request to come back after a short wait,
    but the last one marks the export failed, so that its tenant stops waiting for it.
    """
    try:
        return prepare(tenant_id, export_id, now)
    except Exception as error:
        if receipt >= ATTEMPTS:
            logger.exception("export failed on its last attempt", export_id=export_id)
            _fail_stored(tenant_id, export_id, now())
            return False
        # Logged here: the wait's own log line carries no traceback.
        logger.exception("export failed; it is tried again", export_id=export_id)
        wait = backoff_seconds(receipt, RETRY_WAIT_SECONDS, RETRY_WAIT_MAX_SECONDS)
        raise RetryLater(wait, "the export failed") from error


def prepare(tenant_id: str, export_id: str, now: Callable[[], datetime]) -> bool:
    """Writes the export's file and marks it ready; returns whether it did. A redelivered
    request for an export that is ready already does nothing; two attempts at once write
    the same file."""
    try:
        export = ExportModel.get(tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        logger.warning("export request for an export that is gone", export_id=export_id)
        return False
    if export.status != PREPARING:
        return False
    if now() + ATTEMPT_TIME > export.requested_at + GIVE_UP_AFTER:
        # Delivered late (after an attempt the function's timeout cut short, SQS waits
        # out the queue's visibility timeout): it could end after its tenant was told it
        # failed, and after its slot was taken again.
        logger.warning("export request too late to finish in time", export_id=export_id)
        _fail(export, now())
        return False
    tenant = get_tenant(tenant_id)
    file_format = ExportFormat(export.file_format)
    name = exports.filename(tenant, file_format, export.requested_at)
    key = f"exports/{tenant_id}/{export_id}/{name}"
    messages = dispatching_log.messages(tenant_id, _log_filter(export), exports.MAX_FILE_ROWS + 1)
    with tempfile.TemporaryFile() as file:
        rows, truncated = exports.write_file(tenant, messages, file_format, file)
        file.seek(0)
        storage.upload_download(file, key, exports.content_type(file_format), name)
    _finish(
        export,
        now(),  # when the file is there, not when preparing began
        ExportModel.status.set(READY),
        ExportModel.key.set(key),
        ExportModel.filename.set(name),
        ExportModel.rows.set(rows),
        ExportModel.truncated.set(truncated),
    )
    logger.info("export ready", export_id=export_id, rows=rows, truncated=truncated)
    return True


def _fail_stored(tenant_id: str, export_id: str, now: datetime) -> None:
    try:
        export = ExportModel.get(tenant_id, export_id, consistent_read=True)
    except DoesNotExist:
        return
    _fail(export, now)


def _fail(export: ExportModel, now: datetime) -> None:
    """Marks an export failed (unless it is finished already) and frees its slot."""
    _finish(export, now, ExportModel.status.set(FAILED), ExportModel.error.set(FAILURE))


def _finish(export: ExportModel, now: datetime, *actions: Any) -> None:
    try:
        export.update(
            actions=[*actions, ExportModel.finished_at.set(now)],
            condition=ExportModel.status == PREPARING,
        )
    except UpdateError as error:
        # Another attempt finished it first: its answer stands.
        if not lost_a_race(error):
            raise
    _free_slot(export)


def _record_in_a_free_slot(export: ExportModel, now: datetime) -> None:
    """Saves the export together with a free slot, in one transaction: two requests at
    once cannot both take the last slot, and no slot is taken without its export."""
    held_until = int((now + GIVE_UP_AFTER).timestamp())
    for slot in range(MAX_PREPARING):
        export.slot = slot
        holder = ExportSlotModel(
            export.tenant_id,
            slot_key(slot),
            holder=export.export_id,
            held_until=held_until,
            expires_at=held_until + SLOT_KEPT_SECONDS,
        )
        free = ExportSlotModel.export_id.does_not_exist() | (
            ExportSlotModel.held_until < int(now.timestamp())
        )
        try:
            with transaction() as write:
                write.save(holder, condition=free)
                write.save(export, condition=ExportModel.export_id.does_not_exist())
            return
        except TransactWriteError as error:
            if not lost_a_race(error):
                raise
            reasons = error.cancellation_reasons or []
            if len(reasons) > 1 and reasons[1] is not None:
                # The id is the time and 24 random bits: a clash is a retry's business.
                raise Conflict("please ask for the export again") from error
    raise TooManyRequests(f"{MAX_PREPARING} exports are being prepared; wait until one is ready")


def _free_slot(export: ExportModel) -> None:
    if export.slot is None:
        return
    try:
        ExportSlotModel(export.tenant_id, slot_key(int(export.slot))).delete(
            condition=ExportSlotModel.holder == export.export_id
        )
    except DeleteError as error:
        # Taken again after its deadline, by another export: that one holds it now.
        if not lost_a_race(error):
            raise


def _log_filter(export: ExportModel) -> LogFilter:
    return LogFilter(
        start=export.start,
        end=export.end,
        phone_number=export.phone_number,
        uid=export.uid,
        mission_name=export.mission_name,
        status=Outcome(export.outcome) if export.outcome else None,
        sms_type=SmsType(export.sms_type) if export.sms_type else None,
    )


def _status(export: ExportModel, now: datetime) -> str:
    if export.status == PREPARING and now - export.requested_at > GIVE_UP_AFTER:
        return FAILED
    return export.status


def _view(export: ExportModel, now: datetime) -> dict[str, Any]:
    status = _status(export, now)
    expires_at = datetime.fromtimestamp(export.expires_at, tz=now.tzinfo)
    view: dict[str, Any] = {
        "export_id": export.export_id,
        "status": status,
        "format": export.file_format,
        "requested_at": export.requested_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
        "expires_at": expires_at.isoformat(),
        "rows": export.rows,
        "truncated": export.truncated,
        "filename": export.filename,
        "download_url": None,
        "error": None,
    }
    if status == FAILED:
        view["error"] = export.error or FAILURE
    elif status == READY and export.key:
        if now >= expires_at:
            view["status"] = EXPIRED
        else:
            view["download_url"] = storage.presigned_get(
                export.key, get_settings().download_url_seconds
            )
    return view
