"""Reply routes: which tenants a recipient's reply on a channel is for.

A reply (MO) names only the replying number and the channel it came in on, not the
message it answers. So when the submit consumer hands over messages that offer to
unsubscribe, it first records for each recipient (channel route, number) → tenant, and a
reply finds every tenant that may be meant. Only such messages pay for this write, and
TTL removes a route `reply_route_days` after its last message.
"""

from collections.abc import Collection
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store import batches
from cloudsms.store.base import table_meta


class ReplyRouteModel(Model):
    Meta = table_meta(get_settings().reply_routes_table)

    route_number = UnicodeAttribute(hash_key=True)  # route_key(): "{route}#{E.164}"
    # Two tenants sending to one number through one channel each have a route.
    tenant_id = UnicodeAttribute(range_key=True)
    mission_id = UnicodeAttribute(null=True)
    sender = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute()


def route_key(route_id: str, number: str) -> str:
    return f"{route_id}#{number}"


def record(
    route_id: str,
    tenant_id: str,
    mission_id: str | None,
    sender: str | None,
    numbers: Collection[str],
    now: datetime,
) -> None:
    """Writes the routes of messages about to be handed over (again, when a batch is
    redelivered: a plain put, so writing twice changes nothing but the times).

    Batched 25 a request; unprocessed items are sent again after a wait, and
    `batches.UnprocessedItems` raised when they keep coming back, so the messages are
    not claimed without their routes.
    """
    expires_at = int(now.timestamp()) + get_settings().reply_route_days * 86400
    routes = [
        ReplyRouteModel(
            route_number=route_key(route_id, number),
            tenant_id=tenant_id,
            mission_id=mission_id,
            sender=sender,
            sent_at=now,
            expires_at=expires_at,
        )
        # A request may not hold one key twice, and a list may hold a number twice.
        for number in dict.fromkeys(numbers)
    ]
    batches.put(ReplyRouteModel, routes)


def tenants_replied_to(route_id: str, number: str, now: datetime) -> list[str]:
    """The tenants whose messages on the channel a reply from the number may answer.

    TTL removes expired items only eventually (within days), so expiry is checked too.
    """
    return [
        route.tenant_id
        for route in ReplyRouteModel.query(
            route_key(route_id, number),
            filter_condition=ReplyRouteModel.expires_at > int(now.timestamp()),
        )
    ]
