"""Messages: one item per recipient of a send, with its delivery state."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
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
    # Messages are kept for the retention period, then DynamoDB's TTL removes them.
    expires_at = NumberAttribute()

    by_carrier_ref = MessagesByCarrierId()
    by_mission = MessagesByMission()
