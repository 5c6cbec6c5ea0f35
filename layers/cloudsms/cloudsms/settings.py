"""Settings, read once from the environment into a typed object.

The environment is set by template.yaml when deployed and by the local stack (from the
same template) when run on one machine. Nothing else in the package reads os.environ.
"""

from functools import lru_cache
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    aws_region: str = "us-east-1"
    # Set only locally: where the emulator listens. Deployed, boto3's defaults apply.
    aws_endpoint_url: str | None = None

    tenants_table: str = "cloudsms-tenants"
    api_keys_table: str = "cloudsms-api-keys"
    messages_table: str = "cloudsms-messages"
    counters_table: str = "cloudsms-counters"
    channels_table: str = "cloudsms-channels"
    idempotency_table: str = "cloudsms-idempotency"
    missions_table: str = "cloudsms-missions"
    blacklist_table: str = "cloudsms-blacklist"
    templates_table: str = "cloudsms-templates"
    unmatched_receipts_table: str = "cloudsms-unmatched-receipts"
    receipt_watch_table: str = "cloudsms-receipt-watch"
    reply_routes_table: str = "cloudsms-reply-routes"
    packages_table: str = "cloudsms-packages"
    orders_table: str = "cloudsms-orders"
    exports_table: str = "cloudsms-exports"
    accounts_table: str = "cloudsms-accounts"
    captchas_table: str = "cloudsms-captchas"
    login_failures_table: str = "cloudsms-login-failures"
    audit_table: str = "cloudsms-audit"
    # How long the audit trail keeps an entry (the template's AuditRetentionDays).
    audit_retention_days: Annotated[int, Field(ge=1)] = 400

    otp_queue_url: str = ""
    bulk_queue_url: str = ""
    upload_bucket: str = ""

    # Where carriers post delivery receipts: {receipt_base_url}/dlr/{channel}. Deployed,
    # the receipt function's URL, which ends with "/" (the join takes either form).
    receipt_base_url: str = "http://127.0.0.1:3000"
    default_time_zone: str = "Asia/Shanghai"
    # The portal's origin, allowed to call the API from a browser (CORS).
    portal_origin: str = "*"
    # How long an authorizer keeps a resolved key in memory; a revoked key stops
    # working at the latest this long after revocation.
    auth_cache_seconds: int = 60
    # Portal accounts: a session lasts this long; this many wrong passwords in a row lock
    # an account for lock_minutes; a verify-code image is good this long, once.
    session_hours: int = 8
    max_failed_logins: int = 5
    lock_minutes: int = 15
    captcha_seconds: int = 300
    # Log-ins refused from one source address (wrong name, password or verify code) are
    # counted in fixed windows of this many minutes; past the limit, the address may not
    # try again (nor draw a verify code) until the window ends: the account lock alone
    # would let a stranger keep anyone's account locked, or try one password on many.
    max_failed_logins_per_address: int = 20
    address_window_minutes: int = 15
    idempotency_expiry_seconds: int = 24 * 3600
    # Messages per SQS message: moto and SQS both prefer few large messages.
    recipients_per_queue_message: int = 100
    gateway_timeout_seconds: float = 5.0
    # The portal's limit on a number list; 100,000 numbers need about 2.3 MB as xlsx.
    number_list_max_bytes: int = 1_048_576
    # How long a presigned upload URL for a number list stays valid.
    upload_url_seconds: int = 3600
    # Log exports too large for an API response are prepared in the background (the
    # export queue), kept this many days, and downloaded by presigned URLs valid this long.
    export_queue_url: str = ""
    export_retention_days: int = 1
    download_url_seconds: int = 900

    # Scheduled missions (EventBridge Scheduler).
    schedule_group: str = "cloudsms-dev"
    scheduler_role_arn: str = ""
    schedule_function_arn: str = ""
    schedule_dead_letter_arn: str = ""
    ingest_dead_letter_arn: str = ""
    # The portal's rule: a mission can be cancelled until 5 minutes before its time.
    cancel_cutoff_seconds: int = 300
    # A dispatch time must be at least this far ahead, and at most this many days.
    min_lead_seconds: int = 300
    max_schedule_days: int = 35
    # A tenant's sending window when it has not set its own ("HH:MM-HH:MM", inclusive).
    default_sending_window: str = "08:00-22:00"
    clock_offset_seconds: float = 0.0
    # Message items are removed by DynamoDB's TTL this many days after creation.
    message_retention_days: int = 180
    # Channel credentials live in Secrets Manager under this prefix + route id.
    channel_secret_prefix: str = "cloudsms/dev/channels/"

    # Receipts: a message with no final receipt this long after submission becomes
    # UNKNOWN ("No Delivery Notification"); the hourly sweep also looks this many hours
    # further back, so that runs it missed are caught up.
    receipt_timeout_hours: int = 72
    receipt_sweep_lookback_hours: int = 48
    # The sweep also judges the messages of the UTC hour that began this many hours
    # before its own: a channel whose messages then got (almost) no final receipt is
    # reported (services/receipt_silence.py). At least 1, or the hour is not over.
    receipt_silence_hours: Annotated[int, Field(ge=1)] = 2
    # A channel whose final receipts of that hour (20 at least) are DELIVRD less often
    # than this is reported too (the template's ChannelDeliveryFloor; 0: never), unless
    # the channel has a delivery floor of its own.
    channel_delivery_floor: Annotated[float, Field(ge=0, le=1)] = 0.5
    # Receipts that match no message are kept this long for reconciliation.
    unmatched_receipt_retention_days: int = 30
    # A recipient of a message that offers to unsubscribe may reply this long after it.
    reply_route_days: int = 30

    # Channel throughput: one token bucket per channel, shared by every submit consumer.
    throughput_table: str = "cloudsms-throughput"
    # A bucket holds this many seconds of its channel's throughput: the largest burst.
    throughput_burst_seconds: float = 1.0
    # A tenant's request limit (services/request_limit.py), unless the operator set its
    # own: the requests that create messages (POST /v1/sms, the CMI API's sends, POST
    # /v1/missions) or preview a mission its keys may make, this many a second on average, up to
    # `tenant_request_burst` at once. 0 a second: not limited.
    tenant_request_rate: Annotated[int, Field(ge=0)] = 50
    tenant_request_burst: Annotated[int, Field(ge=1)] = 100
    # A claimed message whose submission is not recorded this long after its claim is
    # settled as UNKNOWN. Longer than a submit invocation can live (its timeout).
    submit_lease_seconds: int = 60
    # A message handed to its gateway this long or longer after its number was checked
    # against the blacklists (its acceptance, or its mission's dispatch) is looked up
    # again first: it may have waited hours on the queue (services/submission.py).
    blacklist_recheck_seconds: int = 300
    # A record that hit a temporary gateway failure comes back after base * 2^(n-1)
    # seconds on its n-th receipt, at most the cap.
    submit_retry_base_seconds: int = 5
    submit_retry_max_seconds: int = 300
    # A message the SMSC refused for a while (a receipt with a temporary SMPP status, such
    # as throttling) is handed over again, at most this many times, with the same backoff.
    smsc_refusal_resubmissions: int = 3
    # The messages of a paused channel go back on the queue, unclaimed, for this long
    # (at most SQS's 15-minute delay): how soon after a resume they are sent.
    paused_channel_retry_seconds: Annotated[int, Field(ge=1, le=900)] = 60

    # The SNS topic the operator is told on when an order reaches a threshold
    # (services/order_notices.py; the template's NoticeTopic).
    notice_topic_arn: str = ""

    # Tenant status callbacks: registrations, their queue and their signing secrets.
    callbacks_table: str = "cloudsms-callbacks"
    callback_queue_url: str = ""
    callback_secret_prefix: str = "cloudsms/dev/callbacks/"
    callback_timeout_seconds: float = 5.0
    callback_retry_base_seconds: int = 10
    callback_retry_max_seconds: int = 3600
    # A registered, changed or removed callback URL takes effect within this long.
    callback_cache_seconds: int = 60
    # Set only by the local stack (and the tests): receivers may be on this machine.
    # Deployed, a loopback address is the Lambda runtime's own API.
    callback_loopback_allowed: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
