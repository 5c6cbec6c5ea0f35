"""SMS templates: a tenant's reusable contents with their variables."""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class TemplateModel(Model):
    Meta = table_meta(get_settings().templates_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    template_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    content = UnicodeAttribute()
    sms_type = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
