"""Recipients' replies (MO): a reply asking to unsubscribe blacklists its number.

- A reply arrives at the receipt function's URL, `mo/{route}`, authenticated as a
  receipt is, by the channel's receipt secret in the URL's query: a wrong or missing one,
  or a route that does not exist, is refused before anything is read or written.
- It is read the way the channel's gateway hands replies over: Jasmin's HTTP client
  connector form, otherwise Kannel's sms-service get-url query (domain/replies.py).
- A reply that is an unsubscribe keyword adds the number to the blacklist of every tenant
  with a reply route for it on the channel: tenants that sent it a message offering to
  unsubscribe in the last `reply_route_days` (store/reply_routes.py). A reply names no
  message, so when several did, the opt-out is honoured for each rather than for none.
- Anything else changes nothing. Either way the gateway is answered 200, so that it does
  not send the reply again, with what happened: "unsubscribed", "ignored" (not an
  unsubscribe) or "no_route" (no tenant offered this number to unsubscribe on the channel).
- Neither the text nor the whole number is ever logged.
"""

from collections.abc import Mapping
from datetime import datetime

from cloudsms.domain import phone
from cloudsms.domain.replies import reply_from_jasmin, reply_from_kannel, unsubscribe_keyword
from cloudsms.errors import BadRequest
from cloudsms.observability import logger, metrics
from cloudsms.services import blacklist
from cloudsms.services.receipts import authenticated_channel
from cloudsms.store import reply_routes

UNSUBSCRIBED, IGNORED, NO_ROUTE = "unsubscribed", "ignored", "no_route"


def record_reply(route_id: str, fields: Mapping[str, bytes], now: datetime) -> str:
    """Acts on one reply; returns what happened. `fields` are the query and any form
    fields, as bytes: the text's coding is known only once the gateway's fields are."""
    secret = fields["secret"].decode("utf-8", errors="replace") if "secret" in fields else None
    channel = authenticated_channel(route_id, secret, now)
    try:
        if channel.gateway_type == "jasmin":
            reply = reply_from_jasmin(fields)
        else:
            reply = reply_from_kannel(fields)
    except ValueError as error:
        raise BadRequest(f"unreadable reply: {error}") from error
    keyword = unsubscribe_keyword(reply.text)
    if keyword is None:
        logger.debug("a reply that is no unsubscribe", extra={"route": route_id})
        return IGNORED
    try:
        numbers = phone.readings(reply.sender)
    except phone.InvalidNumber:
        logger.warning(
            "an unsubscribe reply from a number that cannot be read",
            extra={"route": route_id, "from": phone.mask_numbers_in(reply.sender)},
        )
        return NO_ROUTE
    # A sender read two ways (a Mainland China mobile without its country code) is each
    # number a tenant offered to unsubscribe: the one its messages went to.
    routes = {n: reply_routes.tenants_replied_to(route_id, n, now) for n in numbers}
    routes = {number: tenants for number, tenants in routes.items() if tenants}
    if not routes:
        logger.info(
            "an unsubscribe reply from a number no message offered it to",
            extra={"route": route_id, "number": phone.mask(numbers[0])},
        )
        return NO_ROUTE
    for number, tenants in routes.items():
        for tenant_id in tenants:
            blacklist.add_numbers(tenant_id, [number], f"replied {keyword} to unsubscribe")
        logger.info(
            "a number unsubscribed by reply",
            extra={"route": route_id, "number": phone.mask(number), "tenants": tenants},
        )
    metrics.add_metric(name="RepliesUnsubscribed", unit="Count", value=1)
    return UNSUBSCRIBED
