"""Log exports prepared in the background: what was asked, and where the file is.

An export too large for an API response (a whole mission of 100,000 numbers) is written
to the upload bucket by the export function; its item says how far that has got. The
filter is kept resolved (absolute times), so the file holds what the log showed when the
export was asked for, however long it waits in the queue.
"""

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta

PREPARING = "preparing"
READY = "ready"
FAILED = "failed"
SLOT_PREFIX = "slot#"  # export ids are hex digits, so a slot's never clashes


class ExportModel(Model):
    Meta = table_meta(get_settings().exports_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    # Starts with the time it was asked for, so a tenant's exports sort oldest first.
    export_id = UnicodeAttribute(range_key=True)
    file_format = UnicodeAttribute()
    status = UnicodeAttribute(default=PREPARING)
    # The log filter (services/dispatching_log.LogFilter), its times resolved.
    start = UTCDateTimeAttribute(null=True)
    end = UTCDateTimeAttribute(null=True)
    phone_number = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    mission_name = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    sms_type = UnicodeAttribute(null=True)
    requested_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    # Ready: the file's key in the upload bucket, its name, and what it holds.
    key = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    rows = NumberAttribute(null=True)
    truncated = BooleanAttribute(null=True)
    error = UnicodeAttribute(null=True)
    # The slot it holds while preparing (ExportSlotModel below).
    slot = NumberAttribute(null=True)
    # The file is kept this long (the bucket's lifecycle rule removes it), then TTL
    # removes this item (epoch seconds).
    expires_at = NumberAttribute()


class ExportSlotModel(Model):
    """One of a tenant's few places for an export being prepared, in the same table
    under `slot#N`: an export takes a free slot in the transaction that records it, so
    two requests at once cannot both take the last one. A slot whose holder has been
    preparing past its deadline is free again (its export reads failed by then)."""

    Meta = table_meta(get_settings().exports_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    export_id = UnicodeAttribute(range_key=True)  # "slot#N", beside the exports' ids
    holder = UnicodeAttribute()  # the export id that holds it
    held_until = NumberAttribute()  # epoch seconds
    expires_at = NumberAttribute()  # TTL, a day after held_until


def slot_key(slot: int) -> str:
    return f"{SLOT_PREFIX}{slot}"
