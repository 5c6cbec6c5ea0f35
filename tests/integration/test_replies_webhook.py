"""Recipients' replies (MO) through the receipt function's URL, mo/{route}: a mission that
offers to unsubscribe records reply routes as it is submitted, and a reply of TD (or
退订, STOP…) blacklists the number for the tenants that sent it such a message."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from cloudsms.domain.mission import MissionFields
from cloudsms.services import blacklist, channels, missions, tenants
from cloudsms.services.submission import submit_mission_recipients, submit_queued
from cloudsms.settings import get_settings
from cloudsms.store.blacklist import BlacklistModel
from cloudsms.store.messages import MessageModel
from cloudsms.store.reply_routes import ReplyRouteModel
from functions.dlr_webhook import app as dlr_app
from tests.integration import missions_api as api
from tests.integration.conftest import (
    FakeContext,
    FakeGateway,
    accepted,
    function_url_event,
    queue_sms,
)

NUMBER = "+639215347566"
OTHER_NUMBER = "+639175550123"


def _now() -> datetime:
    return datetime.now(UTC)


def _after_the_recheck_window() -> datetime:
    """When a message waited long enough on the queue to be looked up on the blacklists
    again as it is handed over."""
    return _now() + timedelta(seconds=get_settings().blacklist_recheck_seconds + 1)


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


# --- replies --------------------------------------------------------------------------


def test_a_td_reply_blacklists_the_number_for_the_tenant_that_offered_it(aws, tenant, globex):
    _send_mission(aws, [NUMBER])
    _send_mission(aws, [NUMBER], allow_unsubscribe=False, tenant_id="globex")

    response = _kannel_reply("TD")

    assert (response["statusCode"], response["body"]) == (200, "unsubscribed")
    assert _blacklisted("acme") == {NUMBER: "replied TD to unsubscribe"}
    # globex sent the number no message offering to unsubscribe: its list is its own.
    assert _blacklisted("globex") == {}


def test_a_mission_dispatched_after_an_unsubscribe_skips_the_number(aws, tenant):
    _send_mission(aws, [NUMBER])
    _kannel_reply(" td. ")

    mission = _send_mission(aws, [NUMBER, OTHER_NUMBER])

    assert (mission["phone_number_amount"], mission["blacklist_amount"]) == (1, 1)
    listed = api.list_of(mission["mission_id"], "blacklisted")["items"]
    assert [item["phone_number"] for item in listed] == ["921****566"]


def test_a_queued_mission_message_is_not_sent_to_a_number_that_unsubscribed_meanwhile(aws, tenant):
    # Dispatched, its messages waiting on the queue (the channel's pace, the recipients'
    # quiet hours, a paused channel): meanwhile the number replies TD to an earlier one.
    _send_mission(aws, [NUMBER])
    fields = MissionFields.model_validate({**api.GUIDE_FIELDS, "allow_unsubscribe": True})
    mission = missions.create_mission(
        tenants.get_tenant("acme"), fields, api.numbers_list([NUMBER, OTHER_NUMBER]), _now()
    )
    bodies = api.queued_bodies(aws)
    assert _kannel_reply("TD")["body"] == "unsubscribed"
    gateway = FakeGateway(accepted())

    for body in bodies:
        submit_mission_recipients(body, _after_the_recheck_window, gateway.factory)

    assert [s.to for s in gateway.submissions] == [OTHER_NUMBER]
    [refused] = [
        m
        for m in MessageModel.query("acme")
        if m.mission_id == mission["mission_id"] and m.to == NUMBER
    ]
    assert (refused.dr_state, refused.reason) == (
        "LOCAL_REJECTED",
        "the number is on the blacklist",
    )


def test_a_queued_one_off_message_is_not_sent_to_a_number_that_unsubscribed_meanwhile(aws, tenant):
    _send_mission(aws, [NUMBER])
    uid = queue_sms(FakeContext(), NUMBER)
    assert _kannel_reply("退订")["body"] == "unsubscribed"
    gateway = FakeGateway(accepted())

    submit_queued("acme", [uid], _after_the_recheck_window, gateway.factory)

    assert gateway.submissions == []
    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.reason) == (
        "LOCAL_REJECTED",
        "the number is on the blacklist",
    )


def test_messages_handed_over_moments_after_their_check_are_not_looked_up_again(
    aws, tenant, monkeypatch
):
    # Given a one-off send and a mission, each checked against the blacklists moments ago
    uid = queue_sms(FakeContext(), NUMBER)
    missions.create_mission(
        tenants.get_tenant("acme"),
        MissionFields.model_validate(api.GUIDE_FIELDS),
        api.numbers_list([OTHER_NUMBER]),
        _now(),
    )
    lookups: list[list[str]] = []
    listed = blacklist.listed
    monkeypatch.setattr(
        blacklist,
        "listed",
        lambda tenant_id, numbers: lookups.append(numbers) or listed(tenant_id, numbers),
    )
    gateway = FakeGateway(accepted())

    # When they are handed over at once
    submit_queued("acme", [uid], _now, gateway.factory)
    for body in api.queued_bodies(aws):
        if "mission_id" in body:
            submit_mission_recipients(body, _now, gateway.factory)

    # Then both go, and neither number is looked up again
    assert sorted(s.to for s in gateway.submissions) == sorted([NUMBER, OTHER_NUMBER])
    assert lookups == []


def test_an_unsubscribe_is_honoured_for_every_tenant_with_a_route(aws, tenant, globex):
    _send_mission(aws, [NUMBER])
    _send_mission(aws, [NUMBER], tenant_id="globex")

    assert _kannel_reply("STOP")["body"] == "unsubscribed"

    assert NUMBER in _blacklisted("acme")
    assert NUMBER in _blacklisted("globex")


def test_a_number_already_blacklisted_keeps_its_reason(aws, tenant):
    _send_mission(aws, [NUMBER])
    api.blacklist([NUMBER], reason="asked by phone")

    assert _kannel_reply("TD")["body"] == "unsubscribed"

    assert _blacklisted("acme") == {NUMBER: "asked by phone"}


def test_a_chinese_reply_in_ucs2_through_kannel_unsubscribes(aws, tenant):
    _send_mission(aws, [NUMBER])
    secret = channels.get_channel("SIM").receipt_secret
    # Kannel without mo-recode hands UCS-2 text over as its UTF-16BE bytes.
    query = urlencode(
        {
            "secret": secret,
            "from": NUMBER,
            "text": "退订".encode("utf-16-be"),
            "charset": "UTF-16BE",
        }
    )
    event = function_url_event("GET", "/mo/SIM")
    event["rawQueryString"] = query

    response = dlr_app.lambda_handler(event, FakeContext())

    assert response["body"] == "unsubscribed"
    assert _blacklisted("acme") == {NUMBER: "replied 退订 to unsubscribe"}


def test_a_mainland_china_mobile_in_national_form_that_also_reads_as_a_us_number_unsubscribes(
    aws, tenant
):
    # 15512345678 is a Mainland China mobile, and with its first digit as the country
    # code a valid +1 551 number: a Chinese SMSC gives the sender in that national form.
    fields = MissionFields.model_validate(
        {**api.GUIDE_FIELDS, "direction": "mainland_china", "allow_unsubscribe": True}
    )
    missions.create_mission(
        tenants.get_tenant("acme"), fields, api.numbers_list(["+8615512345678"]), _now()
    )
    for body in api.queued_bodies(aws):
        submit_mission_recipients(body, _now, FakeGateway(accepted()).factory)

    assert _kannel_reply("退订", sender="15512345678")["body"] == "unsubscribed"

    assert _blacklisted("acme") == {"+8615512345678": "replied 退订 to unsubscribe"}


def test_a_jasmin_reply_is_read_from_its_form_and_answered_ack_jasmin(aws, tenant):
    channels.add_channel("JAS", "jasmin", "http://127.0.0.1:9", "user", "password", "CloudSMS")
    channels.assign_channel("acme", "JAS")
    _send_mission(aws, [NUMBER], channel="JAS")
    content = "退订".encode("utf-16-be")
    form = urlencode(
        {
            "id": "16fd2706-8baf-433b-82eb-8c7fada847da",
            "from": NUMBER.lstrip("+"),  # Jasmin passes the number as the SMSC wrote it
            "to": "10690000",
            "origin-connector": "carrier-a",
            "coding": "8",
            "content": content,
            "binary": content.hex(),
        }
    )
    query = {"secret": channels.get_channel("JAS").receipt_secret}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    event = function_url_event("POST", "/mo/JAS", query, form, headers)

    response = dlr_app.lambda_handler(event, FakeContext())

    assert (response["statusCode"], response["body"]) == (200, "ACK/Jasmin")
    assert _blacklisted("acme") == {NUMBER: "replied 退订 to unsubscribe"}


@pytest.mark.parametrize(
    ("secret", "channel"),
    [("not-the-secret", "SIM"), ("", "SIM"), ("guess", "NOSUCH")],
    ids=["wrong", "missing", "unknown-route"],
)
def test_a_reply_without_the_channels_secret_is_refused_and_changes_nothing(
    aws, tenant, secret, channel
):
    _send_mission(aws, [NUMBER])

    response = _kannel_reply("TD", secret=secret, channel=channel)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"
    assert _blacklisted("acme") == {}


def test_a_reply_that_is_no_unsubscribe_is_ignored(aws, tenant):
    _send_mission(aws, [NUMBER])

    response = _kannel_reply("TD please call me")

    assert (response["statusCode"], response["body"]) == (200, "ignored")
    assert _blacklisted("acme") == {}


def test_an_unsubscribe_from_a_number_no_mission_offered_it_to_finds_no_route(aws, tenant):
    _send_mission(aws, [NUMBER])

    response = _kannel_reply("TD", sender=OTHER_NUMBER)

    assert (response["statusCode"], response["body"]) == (200, "no_route")
    assert _blacklisted("acme") == {}


def test_a_reply_on_another_channel_finds_no_route(aws, tenant):
    channels.add_channel("OTHER", "simulator", "http://127.0.0.1:9", "other", "other")
    _send_mission(aws, [NUMBER])

    assert _kannel_reply("TD", channel="OTHER")["body"] == "no_route"
    assert _blacklisted("acme") == {}


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
