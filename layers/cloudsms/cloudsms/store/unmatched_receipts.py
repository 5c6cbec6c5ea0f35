"""Receipts that matched no message, kept for reconciliation rather than dropped.

A hub may report a message before we have recorded its id (the receipt overtook the
submit's answer), or report an id we never sent. The receipt-timeout sweep retries the
first kind; the operator lists them all. DynamoDB's TTL removes them after the
retention period.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta


class UnmatchedReceiptModel(Model):
    Meta = table_meta(get_settings().unmatched_receipts_table)

    route_id = UnicodeAttribute(hash_key=True)
    receipt_id = UnicodeAttribute(range_key=True)  # time-ordered: a route's oldest first
    carrier_message_id = UnicodeAttribute(null=True)
    # What the receipt named, as the gateway gave it: our uid and tenant, when it did.
    uid = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    error_code = UnicodeAttribute(null=True)
    # The receipt's own fields, without the query that carried our receipt secret.
    raw = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    # Set when a later look found the message and the receipt was applied to it.
    reconciled_at = UTCDateTimeAttribute(null=True)
    reconciled_uid = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()
