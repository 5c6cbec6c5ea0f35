"""Reply routes: a mission that offers to unsubscribe records, as it is submitted, who may
receive each recipient's reply."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudsms.domain.mission import MissionFields
from cloudsms.services import channels, missions, tenants
from cloudsms.services.submission import submit_mission_recipients
from cloudsms.store.blacklist import BlacklistModel
from cloudsms.store.reply_routes import ReplyRouteModel
from functions.dlr_webhook import app as dlr_app
from tests.integration import missions_api as api
from tests.integration.conftest import FakeContext, FakeGateway, accepted, function_url_event

NUMBER = "+639215347566"
OTHER_NUMBER = "+639175550123"


def _now() -> datetime:
    return datetime.now(UTC)


def _send_mission(
    aws: Any,
    numbers: list[str],
    allow_unsubscribe: bool = True,
    tenant_id: str = "acme",
    channel: str = "SIM",
) -> dict[str, Any]:
    """Creates a mission (dispatched at once) and has the submit consumer hand its messages
    to a gateway that accepts them; returns the mission."""
    fields = MissionFields.model_validate(
        {**api.GUIDE_FIELDS, "channel": channel, "allow_unsubscribe": allow_unsubscribe}
    )
    mission = missions.create_mission(
        tenants.get_tenant(tenant_id), fields, api.numbers_list(numbers), _now()
    )
    for body in api.queued_bodies(aws):
        submit_mission_recipients(body, _now, FakeGateway(accepted()).factory)
    return mission


def _kannel_reply(
    text: str, sender: str = NUMBER, secret: str | None = None, channel: str = "SIM"
) -> dict[str, Any]:
    """A reply as Kannel's sms-service calls its get-url: GET, everything in the query."""
    if secret is None:
        secret = channels.get_channel(channel).receipt_secret
    query = {"from": sender, "to": "10690000", "text": text, "charset": "UTF-8", "coding": "0"}
    if secret:
        query["secret"] = secret
    event = function_url_event("GET", f"/mo/{channel}", query)
    return dlr_app.lambda_handler(event, FakeContext())


def _blacklisted(tenant_id: str) -> dict[str, str]:
    return {item.number: item.reason for item in BlacklistModel.query(tenant_id)}


def _routes() -> list[ReplyRouteModel]:
    return list(ReplyRouteModel.scan())


@pytest.fixture
def globex(tenant: dict[str, str]) -> str:
    """A second tenant granted the same channel SIM."""
    tenants.create_tenant("globex", "Globex", "Asia/Shanghai")
    channels.assign_channel("globex", "SIM")
    return "globex"


# --- reply routes ---------------------------------------------------------------------


def test_a_mission_offering_to_unsubscribe_records_a_reply_route_per_recipient(aws, tenant):
    before = _now()
    mission = _send_mission(aws, [NUMBER, OTHER_NUMBER, NUMBER])

    routes = sorted(_routes(), key=lambda route: route.route_number)

    assert [(r.route_number, r.tenant_id) for r in routes] == [
        (f"SIM#{OTHER_NUMBER}", "acme"),
        (f"SIM#{NUMBER}", "acme"),
    ]
    assert {r.mission_id for r in routes} == {mission["mission_id"]}
    thirty_days = int((before + timedelta(days=30)).timestamp())
    assert all(thirty_days <= r.expires_at <= thirty_days + 60 for r in routes)


def test_a_mission_without_unsubscribe_records_no_reply_route(aws, tenant):
    _send_mission(aws, [NUMBER], allow_unsubscribe=False)

    assert _routes() == []


def test_a_queue_message_from_before_replies_is_still_submitted_without_routes(aws, tenant):
    fields = MissionFields.model_validate({**api.GUIDE_FIELDS, "allow_unsubscribe": True})
    missions.create_mission(tenants.get_tenant("acme"), fields, api.numbers_list([NUMBER]), _now())
    [body] = api.queued_bodies(aws)
    del body["allow_unsubscribe"]
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, _now, gateway.factory)

    assert len(gateway.submissions) == 1
    assert _routes() == []


def test_messages_are_not_claimed_when_their_reply_routes_cannot_be_written(
    aws, tenant, monkeypatch
):
    from pynamodb.exceptions import PutError

    from cloudsms.store import reply_routes
    from cloudsms.store.messages import MessageModel

    def unavailable(*args: Any) -> None:
        raise PutError("Failed to batch write items: max_retry_attempts exceeded")

    monkeypatch.setattr(reply_routes, "record", unavailable)
    fields = MissionFields.model_validate({**api.GUIDE_FIELDS, "allow_unsubscribe": True})
    missions.create_mission(tenants.get_tenant("acme"), fields, api.numbers_list([NUMBER]), _now())
    [body] = api.queued_bodies(aws)
    gateway = FakeGateway(accepted())

    with pytest.raises(PutError):
        submit_mission_recipients(body, _now, gateway.factory)

    # The queue message comes back and finds its messages unclaimed.
    assert gateway.submissions == []
    assert list(MessageModel.query("acme")) == []
