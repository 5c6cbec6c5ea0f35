"""Product packages (the operator's catalogue) and the orders tenants hold of them.

A package sells a business channel, prepaid (an amount of SMS usable for a number of
days) or post-paid (billed afterwards, with a monthly warning and prohibit threshold in
USD). An order copies the package's terms when it is placed, so that changing the
catalogue never changes what a tenant bought.
"""

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow

PREPAID = "prepaid"
POSTPAID = "postpaid"


class PackageModel(Model):
    Meta = table_meta(get_settings().packages_table)

    package_id = UnicodeAttribute(hash_key=True)
    product_name = UnicodeAttribute()
    channel = UnicodeAttribute()
    payment_type = UnicodeAttribute()  # prepaid | postpaid
    # Prepaid: the SMS (billed segments) it holds, and for how many days after ordering.
    sms_amount = NumberAttribute(null=True)
    validity_days = NumberAttribute(null=True)
    # Post-paid: the month's spending on the channel that warns, and that stops sending
    # (micro-USD, as every amount of money here).
    warning_cost = NumberAttribute(null=True)
    prohibit_cost = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)


class OrderModel(Model):
    Meta = table_meta(get_settings().orders_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    # "CloudSMS_{YYYYMMDDhhmmss}{4 digits}": sorts in the order orders were placed.
    order_number = UnicodeAttribute(range_key=True)
    package_id = UnicodeAttribute()
    product_name = UnicodeAttribute()
    channel = UnicodeAttribute()
    payment_type = UnicodeAttribute()
    sms_amount = NumberAttribute(null=True)
    validity_days = NumberAttribute(null=True)
    warning_cost = NumberAttribute(null=True)
    prohibit_cost = NumberAttribute(null=True)
    ordered_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)
    # Prepaid: SMS taken from the amount when messages were accepted. What comes back
    # for messages that never reached a gateway is counted apart (the order's counter,
    # `refunded`), from the Messages stream, exactly once per message.
    reserved = NumberAttribute(default=0)
    # Set once, by the operator (services/orders.cancel_order): from then on the order pays
    # for nothing, and every charge's condition requires it absent.
    cancelled_at = UTCDateTimeAttribute(null=True)
    # The notices the operator was sent about the order (services/order_notices.py), each
    # claimed by adding it here with a conditional write: "warning 2026-11" and
    # "prohibited 2026-11" (post-paid, a month each), "running_low" and "used_up".
    notices = UnicodeSetAttribute(null=True)
