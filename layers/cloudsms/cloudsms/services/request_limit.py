"""A tenant's request limit: how fast its keys may make the requests that create
messages (POST /v1/sms, the CMI API's SMS_SEND_REQUEST, POST /v1/missions) or preview a
mission (POST /v1/missions/preview, which reads a whole list as a creation does).

Every tenant shares the stage's requests a second, the functions' concurrency and the
tables: without a limit, one tenant's runaway retry loop would starve every other
tenant's verify codes, and run up a post-paid bill without end. So each tenant has a
token bucket of requests, the stack's (TENANT_REQUEST_RATE a second, bursts of
TENANT_REQUEST_BURST) unless the operator set its own; a request the bucket cannot pay
for is refused (429) with the seconds until it could be (Retry-After), before anything
is written or queued. Reading (reports, statistics, a message, a mission) is not limited.

The bucket is the channels' (services/throughput.py): one item per tenant in the
throughput table, taken from by conditional writes, so the limit holds however many
containers answer the tenant at once. Its key is "tenant#" and the tenant id, which no
channel's route id can be (letters, digits, '_' and '-' only).
"""

import math
from datetime import datetime

from pynamodb.exceptions import GetError, UpdateError

from cloudsms.errors import TooManyRequests
from cloudsms.observability import logger
from cloudsms.services.tenants import RequestLimit, request_limit
from cloudsms.services.throughput import TokenBuckets
from cloudsms.store.tenants import TenantModel
from cloudsms.store.throughput import DynamoBucketStore

BUCKET_PREFIX = "tenant#"
# What DynamoDB answers a write it throttled, once the SDK's own retries are spent.
THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


def rule(limit: RequestLimit) -> str:
    return f"{limit.rate} requests a second, in bursts of up to {limit.burst}"


_buckets = TokenBuckets(DynamoBucketStore(), burst_seconds=1.0)


def take_request(tenant: TenantModel, now: datetime) -> None:
    """Takes one request from the tenant's bucket, or raises TooManyRequests with the
    whole seconds until the bucket has one again."""
    limit = request_limit(tenant)
    if limit.rate <= 0:
        return
    try:
        grant = _buckets.take(
            BUCKET_PREFIX + tenant.tenant_id,
            limit.rate,
            [1],
            now.timestamp(),
            capacity=limit.burst,
        )
    except (UpdateError, GetError) as error:
        if error.cause_response_code not in THROTTLED:
            raise
        # Refused, not let through. The bucket is one item per tenant, which DynamoDB
        # throttles at about a thousand writes a second, the highest limit a tenant can
        # have: a tenant whose bucket is throttled is the noisy neighbour itself, and
        # letting its requests through would lift its limit just when the others need
        # it most (each one writing messages to the tables they share). A client that
        # keeps to its limit loses one retry at worst; nothing was written.
        logger.warning("a tenant's request bucket was throttled", tenant_id=tenant.tenant_id)
        raise TooManyRequests(
            f"too many requests ({rule(limit)} for this tenant): try again in 1 second",
            retry_after=1,
        ) from error
    if grant.messages == 0:
        wait = max(1, math.ceil(grant.wait_seconds))
        raise TooManyRequests(
            f"too many requests: this tenant may make {rule(limit)} that send messages, "
            f"create or preview missions; try again in {wait} second{'s' if wait > 1 else ''}",
            retry_after=wait,
        )
