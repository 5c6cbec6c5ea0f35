"""What the operator stops after a tenant's messages were queued: a tenant disabled, or a
country taken off its list, holds for the messages still waiting to be handed to their
gateway (a channel's pace, quiet hours and a paused channel keep them waiting for hours)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from cloudsms import cache
from cloudsms.domain.mission import MissionFields
from cloudsms.services import missions, tenants
from cloudsms.services.submission import submit_mission_recipients, submit_queued
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel
from cloudsms.store.tenants import TenantModel
from functions.admin import app as admin_app
from functions.reports import app as reports_app
from tests.integration import missions_api as api
from tests.integration.conftest import (
    METERED,
    FakeContext,
    FakeGateway,
    accepted,
    count_changes,
    queue_sms,
)

PH_NUMBER = "+639215347566"
OTHER_PH_NUMBER = "+639175550123"
US_NUMBER = "+12025550143"


def _now() -> datetime:
    return datetime.now(UTC)


def _dispatched_mission(numbers: list[str], channel: str = "SIM") -> dict[str, Any]:
    """A mission dispatched at once: its recipients wait on the bulk queue."""
    fields = MissionFields.model_validate({**api.GUIDE_FIELDS, "channel": channel})
    return missions.create_mission(
        tenants.get_tenant("acme"), fields, api.numbers_list(numbers), _now()
    )


def _hand_over(aws: Any, gateway: FakeGateway) -> None:
    """The submit consumer takes every mission queue message waiting on the bulk queue."""
    for body in api.queued_bodies(aws):
        submit_mission_recipients(body, _now, gateway.factory)


def _states(mission_id: str) -> list[tuple[str, str, str | None]]:
    found = [m for m in MessageModel.query("acme") if m.mission_id == mission_id]
    return sorted((m.to, m.dr_state, m.reason) for m in found)


def _prepaid_order(sms_amount: int) -> None:
    """The operator's package of `sms_amount` SMS on the priced channel, ordered for acme."""
    package = {
        "product_name": "SMM",
        "channel": METERED,
        "payment_type": "prepaid",
        "sms_amount": sms_amount,
        "validity_days": 30,
    }
    operator = {"role": "operator", "tenant_id": "ops"}
    status, body = api.call(
        admin_app, "POST", "/v1/admin/packages", "/v1/admin/packages", body=package, **operator
    )
    assert status == 201, body
    path, resource = "/v1/admin/tenants/acme/orders", "/v1/admin/tenants/{tenant_id}/orders"
    status, body = api.call(
        admin_app, "POST", path, resource, body={"package_id": body["package_id"]}, **operator
    )
    assert status == 201, body


def _after_the_tenant_cache() -> None:
    """A warm consumer reads its tenant again after TENANT_CACHE_SECONDS."""
    cache.clear_all()


# --- a disabled tenant ----------------------------------------------------------------


def test_a_queued_one_off_message_of_a_tenant_disabled_meanwhile_is_not_sent(aws, tenant):
    uid = queue_sms(FakeContext(), PH_NUMBER)
    tenants.disable_tenant("acme", _now())
    _after_the_tenant_cache()
    gateway = FakeGateway(accepted())

    submit_queued("acme", [uid], _now, gateway.factory)

    assert gateway.submissions == []
    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.reason) == ("LOCAL_REJECTED", "tenant acme is disabled")


def test_a_dispatched_missions_recipients_are_not_sent_once_its_tenant_is_disabled(aws, tenant):
    mission = _dispatched_mission([PH_NUMBER, OTHER_PH_NUMBER])
    tenants.disable_tenant("acme", _now())
    _after_the_tenant_cache()
    gateway = FakeGateway(accepted())

    _hand_over(aws, gateway)

    assert gateway.submissions == []
    assert _states(mission["mission_id"]) == [
        (OTHER_PH_NUMBER, "LOCAL_REJECTED", "tenant acme is disabled"),
        (PH_NUMBER, "LOCAL_REJECTED", "tenant acme is disabled"),
    ]
    count_changes()
    assert missions.read_mission("acme", mission["mission_id"])["progress"]["pending"] == 0


def test_a_tenant_enabled_again_before_its_messages_are_handed_over_sends_them(aws, tenant):
    uid = queue_sms(FakeContext(), PH_NUMBER)
    tenants.disable_tenant("acme", _now())
    tenants.enable_tenant("acme")
    _after_the_tenant_cache()
    gateway = FakeGateway(accepted())

    submit_queued("acme", [uid], _now, gateway.factory)

    assert [s.to for s in gateway.submissions] == [PH_NUMBER]
    assert MessageModel.get("acme", uid).dr_state == "SUBMITTED"


def test_a_disabled_tenants_messages_held_by_a_paused_channel_are_refused_not_held(aws, tenant):
    from cloudsms.services import channels

    uid = queue_sms(FakeContext(), PH_NUMBER)
    channels.change_channel("SIM", {"paused": True})
    tenants.disable_tenant("acme", _now())
    _after_the_tenant_cache()

    submit_queued("acme", [uid], _now, FakeGateway(accepted()).factory)

    # Refused now: not held on the queue until the channel is resumed, to be refused then
    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.reason) == ("LOCAL_REJECTED", "tenant acme is disabled")


def _dispatched_days_ago(body: dict[str, Any], days: int) -> dict[str, Any]:
    """A mission's queue message as it comes back `days` after its dispatch (a long pause)."""
    dispatched = datetime.fromisoformat(body["dispatched_at"])
    return {**body, "dispatched_at": (dispatched - timedelta(days=days)).isoformat()}


def test_a_disabled_tenants_mission_refused_days_after_its_dispatch_on_a_paused_channel_is_noted(
    aws, tenant
):
    # Given a mission whose queue message waited days on a paused channel
    from cloudsms.services import channels

    mission = _dispatched_mission([PH_NUMBER])
    channels.change_channel("SIM", {"paused": True})
    [body] = api.queued_bodies(aws)

    # When its tenant is disabled, and the consumer refuses its messages
    tenants.disable_tenant("acme", _now())
    _after_the_tenant_cache()
    submit_mission_recipients(_dispatched_days_ago(body, 3), _now, FakeGateway(accepted()).factory)

    # Then they are written now, so the mission says so for the dispatching log, which
    # looks for its messages by its dispatch time only for a day
    assert _states(mission["mission_id"]) == [
        (PH_NUMBER, "LOCAL_REJECTED", "tenant acme is disabled")
    ]
    assert MissionModel.get("acme", mission["mission_id"]).sending_until is not None


def test_a_missions_message_to_a_country_taken_off_refused_on_a_paused_channel_is_noted(
    aws, tenant
):
    # Given a mission whose queue message waited days on a paused channel
    from cloudsms.services import channels

    tenants.set_countries("acme", ["PH", "US"])
    mission = _dispatched_mission([US_NUMBER])
    channels.change_channel("SIM", {"paused": True})
    [body] = api.queued_bodies(aws)

    # When its recipient's country is taken off the tenant's list, and the consumer
    # refuses the message
    tenants.set_countries("acme", ["PH"])
    _after_the_tenant_cache()
    submit_mission_recipients(_dispatched_days_ago(body, 3), _now, FakeGateway(accepted()).factory)

    # Then the mission says it wrote messages now, for the dispatching log
    assert _states(mission["mission_id"]) == [
        (US_NUMBER, "LOCAL_REJECTED", "country US is not allowed for this tenant")
    ]
    assert MissionModel.get("acme", mission["mission_id"]).sending_until is not None


def test_a_paused_channels_held_mission_messages_are_not_noted_for_the_log(aws, tenant):
    # Given a mission of an enabled tenant whose queue message waits days on a paused channel
    from cloudsms.services import channels

    mission = _dispatched_mission([PH_NUMBER])
    channels.change_channel("SIM", {"paused": True})
    _after_the_tenant_cache()
    [body] = api.queued_bodies(aws)

    submit_mission_recipients(_dispatched_days_ago(body, 3), _now, FakeGateway(accepted()).factory)

    # Then nothing is written, and nothing noted: a write per hop of a long pause for nothing
    assert _states(mission["mission_id"]) == []
    assert MissionModel.get("acme", mission["mission_id"]).sending_until is None


def test_one_read_of_the_tenant_decides_a_queue_message_so_no_quiet_hours_are_skipped(
    aws, tenant, monkeypatch
):
    # Given a mission's recipient asleep (03:00 in Manila), and its tenant read disabled
    # by the consumer, then enabled again: the tenant's cache ran out mid-queue-message
    from cloudsms.services import submission

    read_disabled = TenantModel.get("acme")
    read_disabled.disabled_at = _now()
    reads = iter([read_disabled])
    monkeypatch.setattr(submission, "_tenant", lambda _: next(reads, TenantModel.get("acme")))
    night_in_manila = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    body = {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": "SIM",
        "sms_type": "marketing",
        "quiet_hours": True,
        "recipients": [
            {
                "uid": "M1000000000001",
                "to": PH_NUMBER,
                "text": "Hi",
                "encoding": "GSM-7",
                "segments": 1,
            }
        ],
    }
    gateway = FakeGateway(accepted())

    submit_mission_recipients(body, lambda: night_in_manila, gateway.factory)

    # Then it is not sent in its quiet hours (which a disabled tenant's messages skip, to
    # be refused at once)
    assert gateway.submissions == []


def test_the_sms_of_a_disabled_tenants_queued_messages_go_back_to_its_order(aws, tenant, metered):
    # Given a prepaid order of 10 SMS, two of which a dispatched mission took
    from cloudsms.services import channels

    channels.assign_channel("acme", METERED)
    _prepaid_order(sms_amount=10)
    _dispatched_mission([PH_NUMBER, OTHER_PH_NUMBER], channel=METERED)

    # When the tenant is disabled before they are handed over
    tenants.disable_tenant("acme", _now())
    _after_the_tenant_cache()
    _hand_over(aws, FakeGateway(accepted()))
    count_changes()  # refunds are counted from the Messages stream

    # Then the order has its 10 SMS again
    status, body = api.call(reports_app, "GET", "/v1/orders", "/v1/orders")
    assert status == 200, body
    assert [order["remaining"] for order in body["items"]] == [10]


# --- a country taken off the tenant's list --------------------------------------------


def test_a_queued_one_off_message_to_a_country_taken_off_the_list_is_not_sent(aws, tenant):
    tenants.set_countries("acme", ["PH", "US"])
    to_us = queue_sms(FakeContext(), US_NUMBER)
    to_ph = queue_sms(FakeContext(), PH_NUMBER)
    tenants.set_countries("acme", ["PH"])
    _after_the_tenant_cache()
    gateway = FakeGateway(accepted())

    submit_queued("acme", [to_us, to_ph], _now, gateway.factory)

    assert [s.to for s in gateway.submissions] == [PH_NUMBER]
    refused = MessageModel.get("acme", to_us)
    assert (refused.dr_state, refused.reason) == (
        "LOCAL_REJECTED",
        "country US is not allowed for this tenant",
    )


def test_a_dispatched_missions_recipient_in_a_country_taken_off_the_list_is_not_sent(aws, tenant):
    tenants.set_countries("acme", ["PH", "US"])
    mission = _dispatched_mission([US_NUMBER, PH_NUMBER])
    tenants.set_countries("acme", ["PH"])
    _after_the_tenant_cache()
    gateway = FakeGateway(accepted())

    _hand_over(aws, gateway)

    assert [s.to for s in gateway.submissions] == [PH_NUMBER]
    assert _states(mission["mission_id"]) == [
        (US_NUMBER, "LOCAL_REJECTED", "country US is not allowed for this tenant"),
        (PH_NUMBER, "SUBMITTED", None),
    ]
