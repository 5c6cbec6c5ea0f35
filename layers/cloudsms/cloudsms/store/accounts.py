"""Portal accounts (a person's name and password), and the verify codes of the log-in page
and its count of failed log-ins per address.

An account logs in to the portal; what it then holds is a session, which is an API key
of kind "session" (store/api_keys.py) that expires, so that the authorizer resolves keys
and sessions alike.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta, utcnow


class AccountsByTenant(GlobalSecondaryIndex["AccountModel"]):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    account_name = UnicodeAttribute(range_key=True)


class AccountModel(Model):
    Meta = table_meta(get_settings().accounts_table)

    # People log in by name alone, so a name is unique across tenants, whatever its case:
    # the key is the name in lower case, and the name as written is kept beside it.
    account_name = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute()
    account_type = UnicodeAttribute()  # "tenant"
    tenant_id = UnicodeAttribute()
    role = UnicodeAttribute()  # "tenant_manager"
    # "scrypt$n$r$p$salt$hash" (domain/passwords.py); never the password itself.
    password_hash = UnicodeAttribute()
    # Set by the operator's reset (and at creation): the portal asks for a new password
    # before anything else.
    must_change_password = NumberAttribute(default=1)
    failed_logins = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    password_changed_at = UTCDateTimeAttribute(null=True)
    disabled_at = UTCDateTimeAttribute(null=True)
    # When its sessions were last ended (a password reset or change, disabling). Each
    # session keeps the value it saw at log-in, and the authorizer refuses one whose value
    # is not the account's: ending sessions through the tenant index alone would miss one
    # the index does not show yet, or one a log-in that read the old password opens after.
    sessions_ended_at = UTCDateTimeAttribute(null=True)

    by_tenant = AccountsByTenant()


class CaptchaModel(Model):
    """The answer to one verify-code image, usable once and only for a few minutes."""

    Meta = table_meta(get_settings().captchas_table)

    captcha_id = UnicodeAttribute(hash_key=True)
    answer_hash = UnicodeAttribute()
    expires_at = NumberAttribute()  # epoch seconds; TTL removes the item after


class LoginFailuresModel(Model):
    """Log-ins refused from one source address in one fixed window
    (services/login_limit.py): one item per address and window, counted by atomic adds."""

    Meta = table_meta(get_settings().login_failures_table)

    address = UnicodeAttribute(hash_key=True)  # an IPv4 address, or an IPv6 one's /64
    window_start = NumberAttribute(range_key=True)  # epoch seconds
    failures = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds, the window's end; TTL removes it after
