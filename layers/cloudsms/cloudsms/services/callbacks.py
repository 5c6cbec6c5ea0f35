"""Tenant status callbacks: every state a message reaches, POSTed to the tenant, signed.

A state change never waits for a tenant's endpoint, and is never lost between its
write and its callback: every write to a message reaches the CallbackEvents function
through the Messages table's stream, which puts an event on the callback queue for each
change of state (only when the tenant registered a URL, which is looked up in a cache).
A function that wrote a state and stopped at once has still written its stream record,
and a batch of records whose events could not be queued comes again. The callbacks
function delivers each event, retrying with backoff until the endpoint answers 2xx or
the queue gives the event up to its dead-letter queue.

So an event comes at least once: a batch of the stream retried, or a delivery whose
answer was lost, may bring it twice, with the same X-CloudSMS-Event-Id.
"""

import ipaddress
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from cloudsms import clock
from cloudsms.adapters import queues, webhooks
from cloudsms.adapters.secrets import delete_secret, get_secret, put_secret
from cloudsms.answers import sometimes
from cloudsms.cache import ttl_cache
from cloudsms.clock import TimeLeft, no_deadline
from cloudsms.domain import urls
from cloudsms.domain.signatures import SIGNATURE_HEADER, signature
from cloudsms.domain.states import DrState, Outcome, outcome
from cloudsms.errors import BadRequest, Conflict, NotFound
from cloudsms.ids import new_secret, new_time_ordered_id
from cloudsms.observability import logger
from cloudsms.services.redelivery import Poison, RetryLater, backoff_seconds
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, utcnow
from cloudsms.store.callbacks import CallbackModel, secret_name
from cloudsms.store.images import attribute

# The platform's own hand-over states; a tenant hears of a message from SUBMITTED on.
UNREPORTED = frozenset({DrState.QUEUED.value, DrState.SUBMITTING.value})
EVENT_ID_HEADER = "X-CloudSMS-Event-Id"
URL_MAX = 2048


class CallbackRegistration(BaseModel):
    """PUT /v1/callback"""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=URL_MAX, description="https URL to POST to")
    rotate_secret: bool = Field(
        False, description="Issue a new signing secret (a first registration always gets one)"
    )


class Callback(BaseModel):
    """PUT and GET /v1/callback: the registration."""

    url: str
    created_at: datetime
    updated_at: datetime
    signing_secret: str = sometimes(
        "Only in the answer that issued it (the first registration, or rotate_secret): "
        "keep it, it is never shown again"
    )


# The body _event builds, described for the OpenAPI document's webhook.
class StatusEvent(BaseModel):
    """What the platform POSTs to the tenant's callback URL when a message reaches a
    state."""

    uid: str
    mission_id: str | None = Field(description="null for a message sent by POST /v1/sms")
    reference: str | None = Field(description="The reference POST /v1/sms gave")
    to: str = Field(description="E.164")
    dr_state: DrState = Field(description="The state reached: SUBMITTED or a later one")
    status: Outcome = Field(description="The SMS Status that state means")
    error_code: str | None = Field(description="The carrier's error code, if it gave one")
    reason: str | None = Field(description="Why it failed, if it did")
    at: datetime = Field(description="When the state was written")


class _QueuedEvent(BaseModel):
    """A callback-queue message: whose event it is, and the JSON the tenant receives."""

    tenant_id: str
    event: dict[str, Any]


# --- registration -------------------------------------------------------------------------


# IPv6 addresses that stand for the IPv4 address in their last 32 bits, which Python
# counts as global whatever that address is: NAT64's (a VPC's NAT gateway translates them
# to private IPv4 addresses too) and the deprecated IPv4-compatible ones.
_IPV4_INSIDE = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
# NAT64 for a network's own use (RFC 8215): where it leads is that network's business.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local or address in _LOCAL_NAT64:
            return False  # fec0::/10 (deprecated, routed like a private range), local NAT64
        # An IPv4 address written as IPv6 (::ffff:224.0.0.1, 6to4's 2002:e000:1::) is
        # judged as itself.
        inside = address.ipv4_mapped or address.sixtofour
        if inside is None and any(address in network for network in _IPV4_INSIDE):
            inside = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inside is not None:
            address = inside
    # Python counts multicast addresses (224.0.0.0/4) as global; no receiver is one.
    return address.is_global and not address.is_multicast


def _refused(reason: str) -> BadRequest:
    return BadRequest(f"the callback URL {reason}", details=[{"field": "url", "reason": reason}])


def validate_url(url: str, allow_loopback: bool) -> str:
    """An absolute https URL to a public host; plain http only to this host, and this
    host only when running locally (deployed, loopback is the Lambda runtime's own API)."""
    problem = urls.url_problem(url)
    if problem:
        raise _refused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise _refused("must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        # It would be kept and shown with the URL; receivers check the signature instead.
        raise _refused("must not hold a user name or password")
    address = urls.literal_address(host)
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if loopback and not allow_loopback:
        raise _refused("must not point at this host")
    if not loopback and address is not None and not _public(address):
        raise _refused("must point at a public address")
    if parts.scheme != "https" and not loopback:
        raise _refused("must use https")
    return url


def destination(url: str, allow_loopback: bool) -> tuple[webhooks.Address | None, str | None]:
    """Where the platform may POST to the URL's host as it resolves now: the address, or
    why it must not.

    Registration refuses private addresses written as such; a name can resolve to one
    (or be changed to), so every delivery looks again, and a receiver that resolves to
    anything but public addresses (loopback too, when running locally) gets nothing.
    The POST goes to the address looked at here (webhooks.post says why).
    """
    host = urlsplit(url).hostname or ""
    found = webhooks.addresses(host)
    if not found:
        return None, "unreachable: its host name does not resolve"
    if _any_private(found, allow_loopback):
        return None, "refused: its host name resolves to a private address"
    return found[0], None


def _any_private(found: list[webhooks.Address], allow_loopback: bool) -> bool:
    return any(
        not _public(address) and not (address.is_loopback and allow_loopback) for address in found
    )


def _resolves_privately(url: str, allow_loopback: bool) -> bool:
    """Whether the URL's host name resolves now to an address no callback may reach (the
    metadata service, the VPC, loopback). A name that does not resolve yet is let through:
    its owner may be setting it up, and every delivery looks again."""
    host = urlsplit(url).hostname or ""
    if urls.literal_address(host) is not None:
        return False  # judged as written by validate_url
    return _any_private(webhooks.addresses(host), allow_loopback)


def register(tenant_id: str, request: CallbackRegistration, allow_loopback: bool) -> dict:
    """Registers or changes the tenant's callback URL.

    The first registration, and one asking for it, issues a signing secret: the answer
    holds it, and nothing ever shows it again.
    """
    url = validate_url(request.url, allow_loopback)
    if _resolves_privately(url, allow_loopback):
        # Delivery would refuse it every time: the tenant hears so now, not never.
        raise _refused("has a host name that resolves to a private address")
    try:
        item = CallbackModel.get(tenant_id, consistent_read=True)
        replaced: str | None = item.secret_id
    except DoesNotExist:
        item = CallbackModel(tenant_id=tenant_id)
        replaced = None
    issued = None
    if replaced is None or request.rotate_secret:
        issued = new_secret()
        item.secret_id = new_time_ordered_id()
        # Stored before the registration names it, under a name no racing registration
        # shares: whichever registration wins, its secret is the one that signs.
        put_secret(secret_name(tenant_id, item.secret_id), {"signing_secret": issued})
    item.url = url
    item.updated_at = utcnow()
    try:
        item.save()
    except PutError as exc:
        if issued is not None:
            delete_secret(secret_name(tenant_id, item.secret_id))
        if lost_a_race(exc):
            raise Conflict("the callback was changed at the same time; try again") from exc
        raise
    if issued is not None and replaced is not None:
        delete_secret(secret_name(tenant_id, replaced))
    view = _view(item)
    if issued is not None:
        view["signing_secret"] = issued
    return view


def registration(tenant_id: str) -> dict:
    try:
        return _view(CallbackModel.get(tenant_id))
    except DoesNotExist as exc:
        raise NotFound("no callback URL is registered") from exc


def remove(tenant_id: str) -> None:
    """Stops the tenant's callbacks (events already queued are dropped on delivery)."""
    try:
        item = CallbackModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return
    try:
        item.delete()
    except DeleteError as exc:
        if lost_a_race(exc):
            raise Conflict("the callback was changed at the same time; try again") from exc
        raise
    delete_secret(secret_name(tenant_id, item.secret_id))


def _view(item: CallbackModel) -> dict:
    return {
        "url": item.url,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


@ttl_cache(get_settings().callback_cache_seconds)
def _registered(tenant_id: str) -> CallbackModel | None:
    """The tenant's registration, remembered (also when there is none): a state change
    of a tenant without a callback costs no request and no queue message."""
    try:
        return CallbackModel.get(tenant_id)
    except DoesNotExist:
        return None


# --- events ---------------------------------------------------------------------------------


def events_from_changes(records: Iterable[Mapping[str, Any]]) -> int:
    """Queues an event for each change of a message's state in a batch of the Messages
    table's stream, if its tenant has a callback URL; returns how many were queued.

    Raises when they cannot be queued (or the registration cannot be read): the batch
    then comes again, so that no state change goes unreported.
    """
    events = []
    for record in records:
        change = record["dynamodb"]
        try:
            event = _event(
                change.get("OldImage"),
                change.get("NewImage"),
                change.get("ApproximateCreationDateTime"),
            )
        except (KeyError, ValueError):
            # Not a message as the platform writes one: it would fail the same way each
            # time and hold up every later change, so it is logged and left out.
            logger.exception("a stream record that is not a message; no callback")
            continue
        if event is not None:
            events.append(event)
    if events:
        queues.enqueue(get_settings().callback_queue_url, events)
    return len(events)


def _event(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, written: float | None
) -> dict[str, Any] | None:
    """The callback-queue message for one write of a message; None when the write did
    not change the message's state, or the state is not reported, or no one listens."""
    if new is None:
        return None  # removed by its time to live: history, not a change of state
    state = attribute(new, "dr_state")
    if state is None:
        raise KeyError("dr_state")
    if state == attribute(old, "dr_state") or state in UNREPORTED:
        return None
    tenant_id = attribute(new, "tenant_id")
    if tenant_id is None:
        raise KeyError("tenant_id")
    if _registered(tenant_id) is None:
        return None
    return {
        "tenant_id": tenant_id,
        "event": {
            "uid": attribute(new, "uid"),
            "mission_id": attribute(new, "mission_id"),
            "reference": attribute(new, "reference"),
            "to": attribute(new, "to"),
            "dr_state": state,
            "status": outcome(DrState(state)).value,
            "error_code": attribute(new, "error_code"),
            "reason": attribute(new, "reason"),
            "at": _written_at(written).isoformat(),
        },
    }


def _written_at(written: float | None) -> datetime:
    """When the change was written, on the platform's clock (the stream's own time)."""
    if written is None:
        return clock.now()
    offset = timedelta(seconds=get_settings().clock_offset_seconds)
    return datetime.fromtimestamp(float(written), UTC) + offset


# --- delivery -------------------------------------------------------------------------------


# A POST takes at most the connect and read timeouts and this much more (the signing
# secret's read, putting the event back).
POST_MARGIN_SECONDS = 3.0


def deliver(raw: str, receive_count: int, time_left: TimeLeft = no_deadline) -> None:
    """POSTs one queued event to its tenant's URL, signed.

    Raises RetryLater (with the backoff for this receipt) unless the receiver answers
    2xx, and Poison for a queue message that is not an event. `time_left`: the seconds
    before Lambda stops the invocation; an event it cannot hold a POST for goes back on
    the queue untried, rather than be cut off with the rest of the batch (which would come
    back only after the queue's visibility timeout, each delivered event a second time).
    """
    try:
        queued = _QueuedEvent.model_validate_json(raw)
    except ValidationError as error:
        raise Poison(f"not a callback event: {error.error_count()} problem(s)") from error
    settings = get_settings()
    if time_left() < 2 * settings.callback_timeout_seconds + POST_MARGIN_SECONDS:
        # A new queue message: its receive count starts again, as it was not tried.
        queues.enqueue(settings.callback_queue_url, [queued.model_dump()])
        logger.info("no time left to post the event; put back")
        return
    item = _registered(queued.tenant_id)
    if item is None:
        logger.info("callback dropped: the tenant has no callback URL now")
        return
    secret = get_secret(secret_name(queued.tenant_id, item.secret_id))
    body = json.dumps(queued.event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        # The wall clock, never a shifted one: the receiver compares it with its own.
        SIGNATURE_HEADER: signature(secret["signing_secret"], body, int(time.time())),
        # A receiver may see an event twice (a retry after a lost answer): this is its key.
        EVENT_ID_HEADER: f"{queued.event.get('uid')}.{queued.event.get('dr_state')}",
    }
    address, problem = destination(item.url, settings.callback_loopback_allowed)
    if address is not None:
        problem = webhooks.post(item.url, address, body, headers, settings.callback_timeout_seconds)
    if problem is not None:
        wait = backoff_seconds(
            receive_count, settings.callback_retry_base_seconds, settings.callback_retry_max_seconds
        )
        about = {"tenant_id": queued.tenant_id, "uid": str(queued.event.get("uid"))}
        raise RetryLater(wait, f"callback receiver {problem}", about)
