"""Messages: one item per recipient of a send, with its delivery state."""

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class MessagesByCarrierId(GlobalSecondaryIndex["MessageModel"]):
    """Finds a message from a receipt that names only the carrier's message id."""

    class Meta:
        index_name = "by-carrier-ref"
        projection = IncludeProjection(["uid"])

    # "{channel}#{carrier message id}", set only when the gateway's id is not our uid:
    # a receipt naming our uid (Kannel's, the simulator's) finds its message by key.
    carrier_ref = UnicodeAttribute(hash_key=True)


class MessageModel(Model):
    Meta = table_meta(get_settings().messages_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    uid = UnicodeAttribute(range_key=True)
    to = UnicodeAttribute()
    text = UnicodeAttribute()
    encoding = UnicodeAttribute()
    segments = NumberAttribute()
    # Micro-USD at the channel's price, set when a gateway accepts the message.
    cost = NumberAttribute(null=True)
    sms_type = UnicodeAttribute()
    channel = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    mission_id = UnicodeAttribute(null=True)
    # The prepaid order its SMS were taken from, if any: refunded there if it never
    # reaches a gateway.
    order_number = UnicodeAttribute(null=True)
    # The tenant-local date the message was dispatched on: its statistics day.
    dispatch_day = UnicodeAttribute()
    dr_state = UnicodeAttribute()
    error_code = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    # Submissions the SMSC refused for a while (throttled, queue full) and that were
    # handed over again (services/receipts.py).
    resubmissions = NumberAttribute(null=True)
    carrier_message_id = UnicodeAttribute(null=True)
    carrier_ref = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    submitted_at = UTCDateTimeAttribute(null=True)
    receipt_at = UTCDateTimeAttribute(null=True)
    # Parts of a long message reported delivered, by the gateway's id of each part.
    delivered_parts = UnicodeSetAttribute(null=True)
    # Messages are kept for the retention period, then DynamoDB's TTL removes them.
    expires_at = NumberAttribute()

    by_carrier_ref = MessagesByCarrierId()


def log_fields(message: MessageModel) -> dict[str, str]:
    """What a log line says of a message, for the on-call to find it and its channel by:
    never its number or its text."""
    fields = {"uid": message.uid, "tenant_id": message.tenant_id, "channel": message.channel}
    if message.mission_id:
        fields["mission_id"] = message.mission_id
    return fields
