"""Messages: one item per recipient of a send, with its delivery state."""

import zlib
from datetime import UTC, datetime

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class MessagesByCarrierId(GlobalSecondaryIndex["MessageModel"]):
    """Finds a message from a receipt that names only the carrier's message id."""

    class Meta:
        index_name = "by-carrier-ref"
        projection = IncludeProjection(["uid"])

    carrier_ref = UnicodeAttribute(hash_key=True)  # "{channel}#{carrier message id}"


class MessagesByMission(GlobalSecondaryIndex["MessageModel"]):
    """A mission's messages, in row order (a mission message's uid ends in its row)."""

    class Meta:
        index_name = "by-mission"
        projection = AllProjection()

    mission_key = UnicodeAttribute(hash_key=True)  # "{tenant}#{mission id}"
    uid = UnicodeAttribute(range_key=True)


# Messages awaiting a receipt are spread over this many index partitions per hour, so that
# a large mission submitted within one hour does not write to one hot index partition.
AWAITING_RECEIPT_SHARDS = 8


class MessagesAwaitingReceipt(GlobalSecondaryIndex["MessageModel"]):
    """Sparse: only submitted messages still waiting for a final receipt are in it, so the
    receipt-timeout sweep finds them without scanning the table."""

    class Meta:
        index_name = "awaiting-receipt"
        # the sweep reads the whole items it moves, in batches
        projection = KeysOnlyProjection()

    awaiting_receipt = UnicodeAttribute(hash_key=True)  # awaiting_receipt_key()
    submitted_at = UTCDateTimeAttribute(range_key=True)


def awaiting_receipt_key(uid: str, submitted_at: datetime) -> str:
    """The index partition of a message submitted at `submitted_at`: its UTC hour and a
    shard chosen by its uid."""
    shard = zlib.crc32(uid.encode()) % AWAITING_RECEIPT_SHARDS
    return f"{hour_of(submitted_at)}#{shard}"


def awaiting_receipt_keys(hour: datetime) -> list[str]:
    """Every index partition of one UTC hour."""
    return [f"{hour_of(hour)}#{shard}" for shard in range(AWAITING_RECEIPT_SHARDS)]


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


class MessageModel(Model):
    Meta = table_meta(get_settings().messages_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    uid = UnicodeAttribute(range_key=True)
    to = UnicodeAttribute()
    text = UnicodeAttribute()
    encoding = UnicodeAttribute()
    segments = NumberAttribute()
    sms_type = UnicodeAttribute()
    channel = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    mission_id = UnicodeAttribute(null=True)
    mission_key = UnicodeAttribute(null=True)
    # The tenant-local date the message was dispatched on: its statistics day.
    dispatch_day = UnicodeAttribute()
    dr_state = UnicodeAttribute()
    error_code = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    carrier_message_id = UnicodeAttribute(null=True)
    carrier_ref = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    submitted_at = UTCDateTimeAttribute(null=True)
    receipt_at = UTCDateTimeAttribute(null=True)
    # Set while the message waits for a final receipt: puts it in the awaiting-receipt index.
    awaiting_receipt = UnicodeAttribute(null=True)
    # Parts of a long message reported delivered, by the gateway's id of each part.
    delivered_parts = UnicodeSetAttribute(null=True)
    # Messages are kept for the retention period, then DynamoDB's TTL removes them.
    expires_at = NumberAttribute()

    by_carrier_ref = MessagesByCarrierId()
    by_mission = MessagesByMission()
    awaiting = MessagesAwaitingReceipt()
