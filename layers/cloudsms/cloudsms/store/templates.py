"""SMS templates: a tenant's reusable contents with their variables."""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow

# Tenant ids hold no '#', so an owner's names never share a partition with templates.
NAMES_SUFFIX = "#names"


class TemplateModel(Model):
    Meta = table_meta(get_settings().templates_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    template_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    content = UnicodeAttribute()
    sms_type = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)


class TemplateNameModel(Model):
    """A name one of an owner's templates has, in the same table under
    `{owner}#names`: a template takes its name in the transaction that creates or
    renames it, on condition that no other holds it, so two requests at once cannot
    both give one owner two templates of the same name."""

    Meta = table_meta(get_settings().templates_table)

    tenant_id = UnicodeAttribute(hash_key=True)  # "{owner}#names"
    template_id = UnicodeAttribute(range_key=True)  # the name, case-folded
    holder = UnicodeAttribute()  # the id of the template that has it


def names_of(owner: str) -> str:
    return f"{owner}{NAMES_SUFFIX}"
