"""Product Order Mgt: packages (the operator's), orders of them, and sending charged to
the orders: prepaid SMS taken when messages are accepted or a mission is dispatched,
given back for messages no gateway took, post-paid thresholds on the month's spending."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from cloudsms import clock
from cloudsms.domain.mission import MissionFields
from cloudsms.errors import Conflict, Forbidden
from cloudsms.services import channels, dispatch, missions, orders, staging
from cloudsms.services.submission import SubmitResult, submit_mission_recipients, submit_queued
from cloudsms.services.tenants import get_tenant
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from cloudsms.store.missions import MissionModel
from cloudsms.store.orders import OrderModel, PackageModel
from cloudsms.store.tenants import TenantModel
from functions.admin import app as admin_app
from functions.reports import app as reports_app
from functions.schedule import app as schedule_app
from functions.send import app as send_app
from tests.integration.conftest import (
    METERED,
    FakeContext,
    FakeGateway,
    accepted,
    count_changes,
    counters_of,
    fail_the_second_batch_write,
    function_url_event,
    queue_sms,
    throttled,
)
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    HEADER,
    MORNING,
    NOON,
    NOON_UTC,
    blacklist,
    call,
    create_with_list,
    numbers_list,
    queued_bodies,
    schedules,
)
from tests.unit import numberlist_corpus as corpus

PH_NUMBER = "+639215347566"
LONG_TEXT = "A notification long enough to take two segments of GSM-7. " * 3  # 177 chars
REFUSED = SubmitResult(accepted=False, reason="Unknown subscriber")


def _admin(method: str, path: str, resource: str, body: Any = None, role: str = "operator"):
    return call(admin_app, method, path, resource, body=body, role=role, tenant_id="ops")


def _package(**terms: Any) -> dict[str, Any]:
    fields = {"product_name": "SMM", "channel": METERED, "payment_type": "prepaid", **terms}
    if fields["payment_type"] == "prepaid":
        fields.setdefault("sms_amount", 10)
        fields.setdefault("validity_days", 30)
    status, body = _admin("POST", "/v1/admin/packages", "/v1/admin/packages", fields)
    assert status == 201, body
    return body  # type: ignore[no-any-return]


def _order(package_id: str, tenant_id: str = "acme") -> dict[str, Any]:
    path = f"/v1/admin/tenants/{tenant_id}/orders"
    status, body = _admin(
        "POST", path, "/v1/admin/tenants/{tenant_id}/orders", {"package_id": package_id}
    )
    assert status == 201, body
    return body  # type: ignore[no-any-return]


def _orders(tenant_id: str = "acme") -> list[dict[str, Any]]:
    count_changes()  # refunds are counted from the Messages stream
    status, body = call(reports_app, "GET", "/v1/orders", "/v1/orders", tenant_id=tenant_id)
    assert status == 200, body
    return body["items"]  # type: ignore[no-any-return]


def _remaining() -> int:
    (order,) = _orders()
    return int(order["remaining"])


def _send(context, to: list[str], text: str = "Hello") -> tuple[int, Any]:
    body = {"to": to, "text": text, "sms_type": "business", "channel": METERED}
    return call(send_app, "POST", "/v1/sms", "/v1/sms", body=body)


# --- the catalogue and orders ---------------------------------------------------------


def test_an_order_number_holds_its_order_time_in_the_tenants_time_zone(aws, tenant, metered):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    order = _order(_package(sms_amount=200, validity_days=30)["package_id"])

    local = datetime.fromisoformat(order["ordered_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert order["order_number"][len("CloudSMS_") : -4] == f"{local:%Y%m%d%H%M%S}"


def test_an_ordered_prepaid_package_shows_with_the_guides_columns(aws, tenant, metered):
    package = _package(sms_amount=200, validity_days=30)
    placed = _order(package["package_id"])

    (order,) = _orders()

    assert order == placed
    assert order["order_number"].startswith("CloudSMS_")
    assert len(package["package_id"]) == 12 and package["package_id"].isdigit()
    assert {k: order[k] for k in ("product_name", "tenant_id", "tenant_name", "channel")} == {
        "product_name": "SMM",
        "tenant_id": "acme",
        "tenant_name": "Acme",
        "channel": METERED,
    }
    assert (order["payment_type"], order["validity_days"]) == ("prepaid", 30)
    assert (order["sms_amount"], order["remaining"], order["status"]) == (200, 200, "activated")
    ordered = datetime.fromisoformat(order["ordered_at"])
    assert datetime.fromisoformat(order["expires_at"]) - ordered == timedelta(days=30)
    assert METERED in get_tenant("acme").channels


def test_orders_placed_in_the_same_second_are_listed_latest_first(
    aws, tenant, metered, monkeypatch
):
    package = _package()
    # The later order draws the smaller last digits of its order number.
    draws = [9999, 0]
    monkeypatch.setattr(orders.secrets, "randbelow", lambda _: draws.pop(0))
    earlier = orders.place_order("acme", package["package_id"], MORNING + timedelta(seconds=0.1))
    later = orders.place_order("acme", package["package_id"], MORNING + timedelta(seconds=0.6))
    path = "/v1/admin/tenants/acme/orders"

    _, listed = _admin("GET", path, "/v1/admin/tenants/{tenant_id}/orders")

    latest_first = [later["order_number"], earlier["order_number"]]
    assert [o["order_number"] for o in _orders()] == latest_first
    assert [o["order_number"] for o in listed["items"]] == latest_first


def test_a_postpaid_package_has_thresholds_and_no_amount(aws, tenant, metered):
    package = _package(payment_type="postpaid", warning_usd="10000", prohibit_usd="15000")
    _order(package["package_id"])

    (order,) = _orders()

    assert (order["warning_usd"], order["prohibit_usd"]) == ("10000", "15000")
    assert (order["sms_amount"], order["remaining"], order["expires_at"]) == (None, None, None)
    assert (order["month_cost_usd"], order["status"]) == ("0", "ordered")


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"sms_amount": None}, "needs sms_amount and validity_days"),
        ({"warning_usd": "5"}, "thresholds are for post-paid"),
        (
            {"payment_type": "postpaid", "warning_usd": "9", "prohibit_usd": "5"},
            "warning_usd must not be above prohibit_usd",
        ),
        ({"payment_type": "postpaid", "warning_usd": "5"}, "needs warning_usd and prohibit_usd"),
        ({"sms_amount": 0}, "greater than or equal to 1"),
        ({"sms_amount": True}, "valid integer"),  # not 1
        ({"validity_days": True}, "valid integer"),
    ],
)
def test_a_package_with_inconsistent_terms_is_refused_with_the_reason(
    aws, tenant, metered, terms, reason
):
    fields = {"product_name": "SMM", "channel": METERED, "payment_type": "prepaid"}
    fields |= {"sms_amount": 10, "validity_days": 30} if "payment_type" not in terms else {}
    fields |= terms
    fields = {k: v for k, v in fields.items() if v is not None}

    status, body = _admin("POST", "/v1/admin/packages", "/v1/admin/packages", fields)

    assert status == 400
    assert reason in str(body), body


@pytest.mark.parametrize(
    ("model", "write"),
    [(PackageModel, "save"), (OrderModel, "save"), (TenantModel, "update")],
    ids=["package", "order", "tenant"],
)
def test_a_write_dynamodb_refuses_is_raised_not_taken_for_a_drawn_number_or_a_missing_tenant(
    aws, tenant, metered, monkeypatch, model, write
):
    from pynamodb.exceptions import PutError, PynamoDBException, UpdateError

    package = _package()

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(PutError if write == "save" else UpdateError)

    monkeypatch.setattr(model, write, refused)

    with pytest.raises(PynamoDBException):
        if model is PackageModel:
            fields = {key: package[key] for key in ("product_name", "channel", "payment_type")}
            terms = orders.PackageFields.model_validate(
                {**fields, "sms_amount": 10, "validity_days": 30}
            )
            orders.create_package(terms, datetime.now(UTC))
        else:
            orders.place_order("acme", package["package_id"], datetime.now(UTC))


@pytest.mark.parametrize(
    ("product_name", "reason"),
    [
        ("\u0000\u0001\u001b", "the product name holds"),
        ("a\nb\r\n", "the product name holds"),
        (" ", "the product name is empty"),
    ],
)
def test_a_product_name_that_is_not_one_line_is_refused_naming_it(
    aws, tenant, metered, product_name, reason
):
    fields = {"product_name": product_name, "channel": METERED, "payment_type": "prepaid"}
    fields |= {"sms_amount": 10, "validity_days": 30}

    status, body = _admin("POST", "/v1/admin/packages", "/v1/admin/packages", fields)

    assert status == 400
    [detail] = body["error"]["details"]
    assert detail["field"] == "product_name"
    assert detail["reason"].startswith(reason)


def test_a_product_name_is_kept_without_the_spaces_around_it(aws, tenant, metered):
    assert _package(product_name="  SMM PH  ")["product_name"] == "SMM PH"


def test_packages_and_orders_are_the_operators(aws, tenant, metered):
    status, body = _admin("GET", "/v1/admin/packages", "/v1/admin/packages", role="tenant")
    assert (status, body["error"]["message"]) == (403, "this needs an operator key")
    unknown = _admin(
        "POST",
        "/v1/admin/tenants/acme/orders",
        "/v1/admin/tenants/{tenant_id}/orders",
        {"package_id": "000000000000"},
    )
    assert unknown[0] == 404
    nobody = _admin(
        "POST",
        "/v1/admin/tenants/nobody/orders",
        "/v1/admin/tenants/{tenant_id}/orders",
        {"package_id": _package()["package_id"]},
    )
    assert (nobody[0], nobody[1]["error"]["message"]) == (404, "tenant nobody does not exist")
    missing_channel = _admin(
        "POST",
        "/v1/admin/packages",
        "/v1/admin/packages",
        {
            "product_name": "X",
            "channel": "NOPE",
            "payment_type": "prepaid",
            "sms_amount": 1,
            "validity_days": 1,
        },
    )
    assert missing_channel[0] == 404


# --- prepaid: one-off sends ----------------------------------------------------------


def test_sending_takes_segments_from_the_prepaid_order_and_refuses_what_is_not_left(
    aws, tenant, metered, context
):
    _order(_package(sms_amount=5)["package_id"])

    first = _send(context, [PH_NUMBER, "+639175550123"], LONG_TEXT)  # 2 × 2 segments
    too_many = _send(context, [PH_NUMBER, "+639175550124"])  # 2 more: only 1 is left
    last = _send(context, [PH_NUMBER])

    assert first[0] == 202, first
    assert too_many[0] == 403
    assert too_many[1]["error"]["message"] == (
        f"the prepaid packages of channel {METERED} have 1 SMS left; this needs 2"
    )
    assert last[0] == 202
    (order,) = _orders()
    assert (order["remaining"], order["status"]) == (0, "used_up")
    stored = list(MessageModel.query("acme"))
    assert len(stored) == 3  # the refused request stored nothing
    assert {m.order_number for m in stored} == {order["order_number"]}


def test_an_unmetered_channel_sends_without_an_order(aws, tenant, metered, context):
    _order(_package()["package_id"])

    uid = queue_sms(context, PH_NUMBER, channel="SIM")

    assert MessageModel.get("acme", uid).order_number is None
    assert _remaining() == 10


def test_an_expired_prepaid_order_cannot_be_used(aws, tenant, metered, context):
    _order(_package(validity_days=1)["package_id"])
    later = datetime.now(UTC) + timedelta(days=2)

    with pytest.raises(Forbidden, match="its prepaid orders are valid only until"):
        orders.charge(get_tenant("acme"), METERED, [1], later)
    assert _orders()[0]["status"] == "activated"  # now it still is


def test_the_order_expiring_first_pays_and_the_next_takes_over(aws, tenant, metered, context):
    short = _order(_package(sms_amount=2, validity_days=7)["package_id"])
    long = _order(_package(sms_amount=10, validity_days=30)["package_id"])

    _send(context, [PH_NUMBER, "+639175550123"])  # the short one's 2
    _send(context, [PH_NUMBER])  # the long one's

    remaining = {o["order_number"]: o["remaining"] for o in _orders()}
    assert remaining == {short["order_number"]: 0, long["order_number"]: 9}


def test_concurrent_sends_never_spend_more_than_the_order_holds(
    aws, tenant, metered, atomic_dynamodb
):
    _order(_package(sms_amount=7)["package_id"])
    acme = get_tenant("acme")
    now = datetime.now(UTC)

    def one(_: int) -> str:
        try:
            orders.charge(acme, METERED, [1], now)
        except Forbidden:
            return "refused"  # nothing left
        except Conflict:
            return "conflict"  # lost the race five times: the caller sends again
        return "taken"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(one, range(20)))

    remaining = _remaining()
    assert remaining >= 0
    assert outcomes["taken"] + remaining == 7
    assert outcomes["refused"] + outcomes["conflict"] == 20 - outcomes["taken"]
    if not outcomes["conflict"]:
        assert outcomes["taken"] == 7


def test_a_message_the_gateway_refuses_gives_its_sms_back_once(aws, tenant, metered, context):
    _order(_package(sms_amount=10)["package_id"])
    status, body = _send(context, [PH_NUMBER, "+639175550123"], LONG_TEXT)
    assert status == 202, body
    refused, taken = (m["uid"] for m in body["messages"])
    gateway = FakeGateway(REFUSED, accepted("c-2"))

    submit_queued("acme", [refused, taken], lambda: datetime.now(UTC), gateway.factory)

    assert _remaining() == 8  # 10 - 4 + the refused one's 2
    assert _remaining() == 8  # the stream read again: not given back twice
    assert MessageModel.get("acme", refused).dr_state == "SUBMIT_FAILED"


# Kannel's receipt when the SMSC refuses the submit_sm (%d bit 16, %A its NACK), for a
# while or for good; and a network's rejection after the SMSC took the message.
THROTTLED_NACK = {"status": "16", "answer": "NACK/0x00000058/Throttling error"}
INVALID_NACK = {"status": "16", "answer": "NACK/0x0000000B/Invalid destination address"}
NETWORK_REJECTD = {"status": "2", "answer": "id:c-1 sub:001 dlvrd:000 stat:REJECTD err:011"}


def _receipt(uid: str, fields: dict[str, str], hand_over: int = 0) -> str:
    """Kannel calls the message's dlr-url; returns the webhook's answer."""
    from functions.dlr_webhook import app as dlr_app

    secret = channels.get_channel(METERED).receipt_secret
    query = {"tenant": "acme", "uid": uid, "secret": secret, "smsc_msgid": "c-1", **fields}
    if hand_over:
        query["try"] = str(hand_over)  # each hand-over's dlr-url names it, but the first
    response = dlr_app.lambda_handler(
        function_url_event("GET", f"/dlr/{METERED}", query), FakeContext()
    )
    return str(response["body"])


def _hand_over(*uids: str) -> None:
    """The submit consumer takes the messages from their queue; the gateway accepts."""
    gateway = FakeGateway(*(accepted(f"c-{uid}") for uid in uids))
    submit_queued("acme", list(uids), lambda: datetime.now(UTC), gateway.factory)


def _tenants_day(uid: str) -> dict[str, int]:
    return counters_of("tenant#acme", MessageModel.get("acme", uid).dispatch_day)


def test_a_message_the_smsc_refuses_for_good_after_its_resubmissions_costs_nothing(
    aws, tenant, metered, context
):
    _order(_package(sms_amount=10)["package_id"])
    # One segment at 0.01 USD: a long message is not sent again (its other parts may
    # have been delivered), so its refusal stands at once.
    status, body = _send(context, [PH_NUMBER], "A notification of one segment.")
    assert status == 202, body
    uid = body["messages"][0]["uid"]
    _hand_over(uid)
    for hand_over in range(3):  # SMSC_REFUSAL_RESUBMISSIONS
        assert _receipt(uid, THROTTLED_NACK, hand_over) == "resubmitted"
        _hand_over(uid)
    assert (_remaining(), _tenants_day(uid)["cost"]) == (9, 10_000)  # handed over: charged

    last = _receipt(uid, THROTTLED_NACK, hand_over=3)
    again = _receipt(uid, THROTTLED_NACK, hand_over=3)  # the gateway sends it twice
    late = _receipt(uid, {"status": "1", "answer": "id:c-1 stat:DELIVRD err:000"}, 3)

    assert (last, again, late) == ("moved", "ignored", "ignored")
    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.cost) == ("SUBMIT_FAILED", 0)
    assert (message.error_code, message.reason) == (
        "NACK/0x00000058/Throttling error",
        "the SMSC refused it (NACK/0x00000058/Throttling error)",
    )
    assert _remaining() == 10  # its SMS back
    assert _remaining() == 10  # the stream counted again: not given back twice
    counted = _tenants_day(uid)
    assert (counted["submitted"], counted["segments"], counted["cost"]) == (0, 0, 0)
    assert (counted["failed"], counted["delivered"]) == (1, 0)


def test_a_refusal_by_the_smsc_costs_nothing_and_a_networks_rejection_stays_billed(
    aws, tenant, metered, context
):
    _order(_package(sms_amount=10)["package_id"])
    status, body = _send(context, [PH_NUMBER, "+639175550123"], LONG_TEXT)  # 2 × 2 segments
    assert status == 202, body
    refused, rejected = (m["uid"] for m in body["messages"])
    _hand_over(refused, rejected)

    assert _receipt(refused, INVALID_NACK) == "moved"  # the SMSC never had it
    assert _receipt(rejected, NETWORK_REJECTD) == "moved"  # the SMSC took it

    assert MessageModel.get("acme", refused).dr_state == "SUBMIT_FAILED"
    assert MessageModel.get("acme", rejected).dr_state == "REJECTD"
    assert _remaining() == 8  # 10 - 4 + the refused one's 2
    counted = _tenants_day(refused)
    assert (counted["submitted"], counted["cost"], counted["failed"]) == (1, 20_000, 2)


def test_a_refusal_by_the_smsc_before_the_gateways_answer_is_recorded_costs_nothing(
    aws, tenant, metered, context
):
    _order(_package(sms_amount=10)["package_id"])
    status, body = _send(context, [PH_NUMBER], LONG_TEXT)
    assert status == 202, body
    uid = body["messages"][0]["uid"]

    class NackedFirst(FakeGateway):
        """Kannel's receipt of the SMSC's refusal overtakes its answer to sendsms."""

        def submit(self, submission):
            assert _receipt(uid, INVALID_NACK) == "moved"
            return super().submit(submission)

    gateway = NackedFirst(accepted("c-1"))
    submit_queued("acme", [uid], lambda: datetime.now(UTC), gateway.factory)

    message = MessageModel.get("acme", uid)
    assert (message.dr_state, message.cost, message.carrier_message_id) == (
        "SUBMIT_FAILED",
        0,
        "c-1",
    )
    assert _remaining() == 10
    counted = _tenants_day(uid)
    assert (counted["submitted"], counted["cost"], counted["failed"]) == (0, 0, 1)


def test_sms_taken_for_a_send_that_could_not_be_stored_are_given_back(
    aws, tenant, metered, context, monkeypatch
):
    _order(_package(sms_amount=10)["package_id"])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(batches, "put", broken)
    with pytest.raises(RuntimeError):
        from cloudsms.services.sending import SendRequest, send_sms

        request = SendRequest(to=[PH_NUMBER], text="Hi", sms_type="business", channel=METERED)
        send_sms(get_tenant("acme"), request, datetime.now(UTC))
    monkeypatch.undo()

    assert _remaining() == 10


def test_sms_of_a_send_whose_storing_failed_halfway_are_all_given_back_once(
    aws, tenant, metered, context, monkeypatch
):
    from pynamodb.exceptions import PutError

    from cloudsms.services.sending import SendRequest, send_sms

    _order(_package(sms_amount=100)["package_id"])
    fail_the_second_batch_write(monkeypatch)
    numbers = [f"+6391755501{n:02d}" for n in range(30)]  # 25 a request: two requests
    request = SendRequest(to=numbers, text="Hi", sms_type="business", channel=METERED)
    with pytest.raises(PutError):
        send_sms(get_tenant("acme"), request, datetime.now(UTC))
    monkeypatch.undo()

    assert _remaining() == 100  # the 5 not stored here, the 25 refused from the stream
    assert _remaining() == 100  # the stream read again: not given back twice


# --- prepaid: missions -------------------------------------------------------------------


def test_a_mission_is_charged_when_dispatched_and_its_messages_carry_the_order(
    aws, tenant, metered
):
    placed = _order(_package(sms_amount=10)["package_id"])

    status, mission = create_with_list(
        numbers_list([PH_NUMBER, "+639175550123", "+639175550126"]), channel=METERED
    )

    assert status == 201, mission
    assert mission["status"] == "Sent"
    assert _remaining() == 10 - mission["segments"]
    (body,) = queued_bodies(aws)
    assert body["order_number"] == placed["order_number"]
    refused_all = FakeGateway(REFUSED, REFUSED, REFUSED)
    submit_mission_recipients(body, lambda: datetime.now(UTC), refused_all.factory)
    assert {m.order_number for m in MessageModel.query("acme")} == {placed["order_number"]}
    assert _remaining() == 10  # every message came back: no gateway took any


def test_a_mission_the_order_cannot_pay_for_is_refused_whole(aws, tenant, metered):
    _order(_package(sms_amount=2)["package_id"])

    status, body = create_with_list(
        numbers_list([PH_NUMBER, "+639175550123", "+639175550126"]), channel=METERED
    )

    assert status == 403
    assert "have 2 SMS left" in body["error"]["message"]
    assert list(MissionModel.query("acme")) == []
    assert queued_bodies(aws) == []
    assert _remaining() == 2


def test_a_scheduled_mission_the_order_can_no_longer_pay_for_fails_with_the_reason(
    aws, tenant, metered, context
):
    _order(_package(sms_amount=3)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    created = missions.create_mission(
        get_tenant("acme"), fields, numbers_list([PH_NUMBER, "+639175550123"]), MORNING
    )
    _send(context, [PH_NUMBER, "+639175550124"])  # spends 2 of the 3 meanwhile

    outcome = dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    fired = missions.read_mission("acme", created["mission_id"])
    assert outcome == "skipped: the mission is Failed"
    assert fired["status"] == "Failed"
    assert "have 1 SMS left; this needs 2" in fired["failure_reason"]
    assert [b for b in queued_bodies(aws) if "mission_id" in b] == []
    assert _remaining() == 1


def _local(time: str) -> str:
    """An order's time as a refusal names it: in acme's zone, to the minute."""
    return f"{datetime.fromisoformat(time).astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}"


def test_a_scheduled_mission_whose_only_order_expires_before_its_time_is_refused(
    aws, tenant, metered
):
    order = _order(_package(sms_amount=10, validity_days=1)["package_id"])
    now = datetime.now(UTC)
    shanghai = (now + timedelta(days=2)).astimezone(ZoneInfo("Asia/Shanghai"))
    at_noon = shanghai.replace(hour=12, minute=0, second=0, microsecond=0).isoformat()
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "dispatch_at": at_noon, "channel": METERED}
    )
    acme, numbers = get_tenant("acme"), numbers_list([PH_NUMBER])

    preview = missions.preview(acme, fields, numbers, now)
    with pytest.raises(Forbidden) as refused:
        missions.create_mission(acme, fields, numbers, now)

    # The order has not expired (it shows activated): the reason says it ends before then
    reason = f"its prepaid orders are valid only until {_local(order['expires_at'])}, not at"
    assert reason in refused.value.message
    assert reason in preview["payment_refusal"]
    assert list(MissionModel.query("acme")) == []


def _noon_in(days: int, now: datetime) -> str:
    """Noon in Shanghai, the tenant's zone, on the day `days` after `now`: between 12 and
    36 hours after `now` for one day."""
    shanghai = (now + timedelta(days=days)).astimezone(ZoneInfo("Asia/Shanghai"))
    return shanghai.replace(hour=12, minute=0, second=0, microsecond=0).isoformat()


def test_a_scheduled_mission_moved_past_its_only_orders_expiry_is_refused_and_stays(
    aws, tenant, metered
):
    # Given an order valid two days and a mission scheduled inside them
    order = _order(_package(sms_amount=10, validity_days=2)["package_id"])
    now = datetime.now(UTC)
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "dispatch_at": _noon_in(1, now), "channel": METERED}
    )
    created = missions.create_mission(get_tenant("acme"), fields, numbers_list([PH_NUMBER]), now)

    # When it is moved to a time after the order expires
    refused = _refused_move(created, _noon_in(3, now))

    # Then the move is refused as creating it for that time is, and nothing changed,
    # naming when the order ends and the time asked for, as it has not expired yet
    assert refused == (
        f"no valid package of channel {METERED}: its prepaid orders are valid only until "
        f"{_local(order['expires_at'])}, not at {_local(_noon_in(3, now))} (Asia/Shanghai)"
    )
    assert _remaining() == 10


def _refused_move(mission: dict[str, Any], dispatch_at: str) -> str:
    """Moves a scheduled mission to `dispatch_at`, checks the move was refused (403) and
    left the mission and its schedule as they were, and returns the reason."""
    [before] = [s for n, s in schedules().items() if mission["mission_id"] in n]
    status, body = call(
        schedule_app,
        "PATCH",
        f"/v1/missions/{mission['mission_id']}",
        "/v1/missions/{mission_id}",
        body={"dispatch_at": dispatch_at},
    )
    assert status == 403, body
    kept = missions.read_mission("acme", mission["mission_id"], consistent=True)
    assert (kept["status"], kept["dispatch_at"]) == ("Scheduled", mission["dispatch_at"])
    [after] = [s for n, s in schedules().items() if mission["mission_id"] in n]
    assert after["ScheduleExpression"] == before["ScheduleExpression"]
    return str(body["error"]["message"])


# --- what the missions scheduled already will take ------------------------------------


def _numbers(count: int, first: int = 0) -> list[str]:
    return [f"+6391755{n:05d}" for n in range(first, first + count)]


def _schedule(count: int, days: int, now: datetime, first: int = 0) -> dict[str, Any]:
    """A mission of `count` one-segment SMS, scheduled for noon `days` after `now`."""
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "dispatch_at": _noon_in(days, now), "channel": METERED}
    )
    created = missions.create_mission(
        get_tenant("acme"), fields, numbers_list(_numbers(count, first)), now
    )
    assert (created["status"], created["segments"]) == ("Scheduled", count)
    return created


def _refused_schedule(count: int, days: int, now: datetime) -> str:
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "dispatch_at": _noon_in(days, now), "channel": METERED}
    )
    acme, numbers = get_tenant("acme"), numbers_list(_numbers(count, 100))
    preview = missions.preview(acme, fields, numbers, now)
    with pytest.raises(Forbidden) as refused:
        missions.create_mission(acme, fields, numbers, now)
    assert preview["payment_refusal"] == refused.value.message
    return refused.value.message


def _scheduled_ids() -> set[str]:
    return {m.mission_id for m in MissionModel.query("acme") if m.status == "Scheduled"}


def test_a_mission_the_orders_pay_for_only_without_the_ones_scheduled_before_is_refused(
    aws, tenant, metered
):
    # Given 5 SMS, 3 of them for a mission scheduled tomorrow
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    earlier = _schedule(3, 1, now)

    # When another of 3 is scheduled the day after: the order holds 5 now
    reason = _refused_schedule(3, 2, now)

    # Then it is refused now, naming what the first takes, not failed at its time
    assert reason == (
        f"the prepaid packages of channel {METERED} have 5 SMS left, 3 of them for 1 mission"
        " scheduled before this one; this needs 3"
    )
    assert _scheduled_ids() == {earlier["mission_id"]}
    assert _remaining() == 5  # a check takes nothing


def test_a_mission_that_would_leave_a_later_scheduled_one_unpaid_is_refused(aws, tenant, metered):
    # Given 5 SMS, 3 of them for a mission scheduled the day after tomorrow
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    later = _schedule(3, 2, now)

    # When one of 3 is scheduled tomorrow, which the order could pay for
    reason = _refused_schedule(3, 1, now)

    # Then it is refused: dispatched first, it would leave the later one unpaid
    assert reason == (
        f"the prepaid packages of channel {METERED} have 5 SMS left; this needs 3, and would"
        f" leave mission {later['mission_id']}, scheduled for {_local(later['dispatch_at'])}"
        " (Asia/Shanghai), without the 3 it needs"
    )
    assert _scheduled_ids() == {later["mission_id"]}


def test_a_move_that_would_leave_a_later_scheduled_one_unpaid_is_refused_and_stays(
    aws, tenant, metered, context
):
    # Given an order of 5 SMS, a mission of 3 the day after tomorrow and one of 2 in five
    # days, and a one-off send that spent 1 SMS since: the later one is short of 1 now
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    later = _schedule(3, 2, now)
    moved = _schedule(2, 5, now, first=10)
    assert _send(context, [PH_NUMBER])[0] == 202

    # When the second is moved to tomorrow, ahead of the first
    refused = _refused_move(moved, _noon_in(1, now))

    # Then the move is refused, as the first mission would be left with 2 SMS, and the
    # mission stays where it was
    assert refused == (
        f"the prepaid packages of channel {METERED} have 4 SMS left; this needs 2, and would"
        f" leave mission {later['mission_id']}, scheduled for {_local(later['dispatch_at'])}"
        " (Asia/Shanghai), without the 3 it needs"
    )


def test_a_moved_mission_is_not_counted_at_its_old_time(aws, tenant, metered):
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    mission = _schedule(3, 1, now)

    status, body = call(
        schedule_app,
        "PATCH",
        f"/v1/missions/{mission['mission_id']}",
        "/v1/missions/{mission_id}",
        body={"dispatch_at": _noon_in(2, now)},
    )

    assert status == 200, body
    assert datetime.fromisoformat(body["dispatch_at"]) == datetime.fromisoformat(_noon_in(2, now))


def test_missions_the_orders_hold_enough_for_are_all_accepted_up_to_what_they_hold(
    aws, tenant, metered
):
    _order(_package(sms_amount=6)["package_id"])
    now = datetime.now(UTC)

    first, second = _schedule(3, 1, now), _schedule(3, 2, now, first=10)

    assert _scheduled_ids() == {first["mission_id"], second["mission_id"]}
    assert _refused_schedule(1, 3, now) == (
        f"the prepaid packages of channel {METERED} have 6 SMS left, 6 of them for 2 missions"
        " scheduled before this one; this needs 1"
    )


def test_with_a_postpaid_order_the_missions_scheduled_before_refuse_nothing(aws, tenant, metered):
    _order(_package(sms_amount=5)["package_id"])
    _order(_package(payment_type="postpaid", warning_usd="5", prohibit_usd="10")["package_id"])
    now = datetime.now(UTC)

    first, second = _schedule(3, 1, now), _schedule(3, 2, now, first=10)

    # Post-paid takes what the prepaid order cannot, as a dispatch would
    assert _scheduled_ids() == {first["mission_id"], second["mission_id"]}


def test_a_cancelled_or_dispatched_mission_no_longer_counts(aws, tenant, metered):
    # Given 6 SMS, all of them for two missions scheduled
    _order(_package(sms_amount=6)["package_id"])
    now = datetime.now(UTC)
    first, second = _schedule(3, 1, now), _schedule(3, 2, now, first=10)
    assert "6 of them for 2 missions" in _refused_schedule(1, 3, now)

    # When the second is cancelled, its SMS are for others again
    status, body = call(
        schedule_app,
        "POST",
        f"/v1/missions/{second['mission_id']}/cancel",
        "/v1/missions/{mission_id}/cancel",
    )
    assert status == 200, body
    third = _schedule(1, 3, now, first=20)

    # And when the first is dispatched, its SMS are taken from the order, not counted
    # again: 3 left, 1 of them for the third
    at = datetime.fromisoformat(first["dispatch_at"])
    assert dispatch.fire_scheduled("acme", first["mission_id"], at) == "dispatched"
    assert _remaining() == 3
    fourth = _schedule(2, 4, now, first=30)
    assert _scheduled_ids() == {third["mission_id"], fourth["mission_id"]}


def _missions_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The items each query of the missions table reads (its ScannedCount: what DynamoDB
    bills, before any filter), from now on."""
    from pynamodb.connection.base import Connection

    read: list[int] = []
    query = Connection.query

    def counted(self: Connection, table_name: str, *args: Any, **kwargs: Any) -> Any:
        answer = query(self, table_name, *args, **kwargs)
        if table_name == MissionModel.Meta.table_name:
            read.append(answer["ScannedCount"])
        return answer

    monkeypatch.setattr(Connection, "query", counted)
    return read


def test_the_check_reads_the_missions_scheduled_not_every_mission_the_tenant_sent(
    aws, tenant, metered, monkeypatch
):
    # Given a tenant with a history of 40 missions sent on the channel (missions are
    # never deleted) and one scheduled on it, 3 of its 5 SMS
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    for n in range(40):
        MissionModel(
            "acme",
            f"sent-{n:03d}",
            name="Sent before",
            direction="international",
            sms_type="business",
            content="Hello",
            channel=METERED,
            status="Sent",
            dispatch_at=now - timedelta(days=1),
            segments=1,
        ).save()
    earlier = _schedule(3, 1, now)
    read = _missions_read(monkeypatch)

    # When another mission is checked, and refused for what the first takes
    assert "3 of them for 1 mission" in _refused_schedule(3, 2, now)

    # Then each check (the preview's, the create's) read the scheduled mission, and none
    # of those sent
    assert read == [1, 1]
    assert _scheduled_ids() == {earlier["mission_id"]}


def test_an_uploaded_list_the_missions_scheduled_before_leave_unpaid_fails_at_once(
    aws, tenant, metered
):
    # Given 5 SMS, 3 of them for a mission scheduled tomorrow, and a mission scheduled
    # the day after created with JSON: Uploading, it is not counted
    _order(_package(sms_amount=5)["package_id"])
    now = datetime.now(UTC)
    _schedule(3, 1, now)
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "dispatch_at": _noon_in(2, now), "channel": METERED}
    )
    uploading = missions.create_mission(get_tenant("acme"), fields, None, now)
    _schedule(2, 3, now, first=10)  # the 2 left: the uploading one holds none

    # When its list of 3 numbers arrives
    boto3.client("s3").put_object(
        Bucket=aws.environment["UPLOAD_BUCKET"],
        Key=missions.upload_key("acme", uploading["mission_id"]),
        Body=numbers_list(_numbers(3, 20)),
    )
    missions.ingest_upload("acme", uploading["mission_id"], lambda: now + timedelta(minutes=1))

    # Then it fails now, with the reason, as a mission created with its list is refused
    uploaded = missions.read_mission("acme", uploading["mission_id"])
    assert uploaded["status"] == "Failed"
    assert uploaded["failure_reason"] == (
        f"the prepaid packages of channel {METERED} have 5 SMS left, 3 of them for 1 mission"
        " scheduled before this one; this needs 3"
    )


def test_a_scheduled_mission_whose_uploaded_list_the_order_cannot_pay_for_fails_at_once(
    aws, tenant, metered
):
    # Given a mission created with JSON, scheduled for noon, and an order of 2 SMS
    _order(_package(sms_amount=2)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    created = missions.create_mission(get_tenant("acme"), fields, None, MORNING)
    key = missions.upload_key("acme", created["mission_id"])
    boto3.client("s3").put_object(
        Bucket=aws.environment["UPLOAD_BUCKET"],
        Key=key,
        Body=numbers_list([PH_NUMBER, "+639175550123", "+639175550126"]),
    )

    # When its list of 3 numbers arrives
    missions.ingest_upload("acme", created["mission_id"], lambda: MORNING + timedelta(minutes=1))

    # Then it fails now with the reason, as a request carrying the list is refused,
    # rather than wait Scheduled until noon to fail
    uploaded = missions.read_mission("acme", created["mission_id"])
    assert uploaded["status"] == "Failed"
    assert "have 2 SMS left; this needs 3" in uploaded["failure_reason"]
    assert schedules() == {}
    assert _remaining() == 2


def test_a_mission_that_failed_at_dispatch_has_nothing_pending(aws, tenant, metered, context):
    _order(_package(sms_amount=3)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    created = missions.create_mission(
        get_tenant("acme"), fields, numbers_list([PH_NUMBER, "+639175550123"]), MORNING
    )
    _send(context, [PH_NUMBER, "+639175550124"])  # spends 2 of the 3 meanwhile

    dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    fired = missions.read_mission("acme", created["mission_id"])
    assert created["progress"]["pending"] == 2
    assert (fired["status"], fired["progress"]["pending"]) == ("Failed", 0)


def test_numbers_blacklisted_before_dispatch_give_their_sms_back(aws, tenant, metered):
    _order(_package(sms_amount=10)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    created = missions.create_mission(
        get_tenant("acme"),
        fields,
        numbers_list([PH_NUMBER, "+639175550123", "+639175550126"]),
        MORNING,
    )
    blacklist(["+639175550123"])

    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"

    per_recipient = created["segments"] // 3
    assert _remaining() == 10 - 2 * per_recipient


def test_a_mission_shows_the_sms_it_is_charged_once_numbers_blacklisted_at_dispatch_are_back(
    aws, tenant, metered
):
    _order(_package(sms_amount=10)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    numbers = numbers_list([PH_NUMBER, "+639175550123", "+639175550126"])
    created = missions.create_mission(get_tenant("acme"), fields, numbers, MORNING)
    blacklist(["+639175550123"])

    dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    shown = missions.read_mission("acme", created["mission_id"])
    assert (shown["phone_number_amount"], shown["blacklist_amount"]) == (2, 1)
    assert shown["segments"] == 10 - _remaining() == created["segments"] * 2 // 3


def test_a_mission_whose_every_number_was_blacklisted_by_dispatch_fails_and_keeps_no_sms(
    aws, tenant, metered
):
    _order(_package(sms_amount=10)["package_id"])
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    numbers = numbers_list([PH_NUMBER, "+639175550123"])
    created = missions.create_mission(get_tenant("acme"), fields, numbers, MORNING)
    blacklist([PH_NUMBER, "+639175550123"])

    dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    shown = missions.read_mission("acme", created["mission_id"])
    assert shown["status"] == "Failed"
    assert "all 2 were blacklisted after the list was uploaded" in shown["failure_reason"]
    assert (shown["phone_number_amount"], shown["blacklist_amount"]) == (0, 2)
    assert _remaining() == 10
    assert not queued_bodies(aws)


# --- post-paid ---------------------------------------------------------------------------


def _spend(context, messages: int) -> None:
    """Sends `messages` one-segment SMS on the metered channel, accepted by a gateway."""
    status, body = _send(context, [f"+6391755501{i:02d}" for i in range(messages)])
    assert status == 202, body
    uids = [m["uid"] for m in body["messages"]]
    gateway = FakeGateway(*(accepted(f"c-{uid}") for uid in uids))
    submit_queued("acme", uids, lambda: clock.now(), gateway.factory)
    count_changes()


def test_postpaid_warns_then_prohibits_on_the_months_spending(
    aws, tenant, metered, context, clock_at_an_hours_start
):
    package = _package(payment_type="postpaid", warning_usd="0.02", prohibit_usd="0.04")
    _order(package["package_id"])

    _spend(context, 2)  # 0.02 USD
    assert (_orders()[0]["status"], _orders()[0]["month_cost_usd"]) == ("warning", "0.02")
    _spend(context, 2)  # 0.04 USD
    status, body = _send(context, [PH_NUMBER])

    assert _orders()[0]["status"] == "prohibited"
    assert status == 403
    assert "has reached the prohibit threshold (USD 0.04)" in body["error"]["message"]


def test_prepaid_goes_first_and_postpaid_takes_what_it_cannot(aws, tenant, metered, context):
    prepaid = _order(_package(sms_amount=1)["package_id"])
    postpaid = _order(
        _package(payment_type="postpaid", warning_usd="5", prohibit_usd="10")["package_id"]
    )

    _spend(context, 1)
    _spend(context, 1)  # accepted (202), though the prepaid order is used up

    by_number = {o["order_number"]: o for o in _orders()}
    assert by_number[prepaid["order_number"]]["remaining"] == 0
    # The post-paid order's spending is what it paid for: not the prepaid message.
    assert by_number[postpaid["order_number"]]["month_cost_usd"] == "0.01"
    uids = [m.uid for m in MessageModel.query("acme")]
    assert sorted(str(MessageModel.get("acme", u).order_number) for u in uids) == sorted(
        [prepaid["order_number"], "None"]
    )


# --- a dispatch that stops halfway, and races ------------------------------------------


def _scheduled_on_metered(numbers: list[str]) -> dict[str, Any]:
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    return missions.create_mission(get_tenant("acme"), fields, numbers_list(numbers), MORNING)


def test_a_firing_retried_after_its_dispatch_stopped_finishes_it_and_charges_once(
    aws, tenant, metered, monkeypatch
):
    _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered([PH_NUMBER, "+639175550123"])
    enqueue = dispatch.queues.enqueue

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(dispatch.queues, "enqueue", down)
    with pytest.raises(RuntimeError):
        dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)
    assert missions.read_mission("acme", created["mission_id"])["status"] == "Sending"
    monkeypatch.setattr(dispatch.queues, "enqueue", enqueue)

    outcome = dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    assert outcome == "dispatched"
    assert missions.read_mission("acme", created["mission_id"])["status"] == "Sent"
    (body,) = [b for b in queued_bodies(aws) if "mission_id" in b]
    assert len(body["recipients"]) == 2
    assert _remaining() == 10 - created["segments"]


def test_a_claim_whose_answer_was_lost_is_known_by_its_own_write(aws, tenant, metered, monkeypatch):
    """The transaction was applied but its answer lost (a timeout): the write that comes
    back finds the condition gone and the claim is recognised as this dispatch's own."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import TransactWriteError

    _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered([PH_NUMBER])
    write_claim = dispatch._write_claim

    def applied_but_unanswered(*args: Any, **kwargs: Any) -> None:
        write_claim(*args, **kwargs)
        error = ClientError({"Error": {"Code": "TransactionCanceledException"}}, "Transact")
        raise TransactWriteError("answer lost", cause=error)

    monkeypatch.setattr(dispatch, "_write_claim", applied_but_unanswered)

    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"
    assert missions.read_mission("acme", created["mission_id"])["status"] == "Sent"
    assert _remaining() == 10 - created["segments"]


def _claims_lose_races(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """The claim's first `times` writes lose a race (writing nothing), as to a one-off send
    spending the order; returns the keys of the staged recipient lists claims read."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import TransactWriteError

    claim, write_claim, read_lines = (
        dispatch._claim_for_dispatch,
        dispatch._write_claim,
        dispatch.storage.read_json_lines,
    )
    lost, read = [0], []

    def racing(*args: Any, **kwargs: Any) -> None:
        if lost[0] < times:
            lost[0] += 1
            error = ClientError({"Error": {"Code": "TransactionCanceledException"}}, "Transact")
            raise TransactWriteError("lost a race", cause=error)
        write_claim(*args, **kwargs)

    claiming = [False]

    def claim_watched(*args: Any, **kwargs: Any) -> bool:
        claiming[0] = True
        try:
            return claim(*args, **kwargs)
        finally:
            claiming[0] = False

    def read_watched(key: str) -> Any:
        if claiming[0] and key.endswith(staging.RECIPIENTS):
            read.append(key)
        return read_lines(key)

    monkeypatch.setattr(dispatch, "_write_claim", racing)
    monkeypatch.setattr(dispatch, "_claim_for_dispatch", claim_watched)
    monkeypatch.setattr(dispatch.storage, "read_json_lines", read_watched)
    return read


def test_a_claim_that_loses_races_reads_the_staged_list_once(aws, tenant, metered, monkeypatch):
    # Given a mission on a prepaid package whose claim loses two races to other writes
    _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered([PH_NUMBER, "+639175550123"])
    read = _claims_lose_races(monkeypatch, times=2)

    # When it is dispatched: three attempts at the claim
    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"

    # Then its staged list was read once for the three (about 1 s for 100,000 numbers),
    # and it is charged once
    assert len(read) == 1
    assert _remaining() == 10 - created["segments"]


def test_a_claim_on_an_unmetered_channel_reads_no_staged_list(aws, tenant, metered, monkeypatch):
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON})
    created = missions.create_mission(
        get_tenant("acme"), fields, numbers_list([PH_NUMBER]), MORNING
    )
    read = _claims_lose_races(monkeypatch, times=1)

    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"

    assert read == []


def test_a_mission_refused_for_its_orders_leaves_no_staged_files(aws, tenant, metered):
    from tests.integration.missions_api import staged_keys

    _order(_package(sms_amount=1)["package_id"])

    status, _ = create_with_list(numbers_list([PH_NUMBER, "+639175550123"]), channel=METERED)

    assert status == 403
    assert staged_keys(aws) == []


def test_the_preview_says_why_the_orders_would_refuse_a_mission(aws, tenant, metered):
    from tests.integration.missions_api import post_form

    _order(_package(sms_amount=1)["package_id"])
    fields = {**GUIDE_FIELDS, "channel": METERED}
    numbers = numbers_list([PH_NUMBER, "+639175550123"])

    status, preview = post_form("/v1/missions/preview", fields, numbers)
    _, small = post_form("/v1/missions/preview", fields, numbers_list([PH_NUMBER]))
    _, free = post_form("/v1/missions/preview", {**GUIDE_FIELDS, "channel": "SIM"}, numbers)

    assert status == 200, preview
    assert preview["payment_refusal"] == (
        f"the prepaid packages of channel {METERED} have 1 SMS left;"
        f" this needs {preview['segments']}"
    )
    assert (small["segments"], small["payment_refusal"]) == (1, None)  # exactly what is left
    assert free["payment_refusal"] is None
    assert _remaining() == 1  # a preview takes nothing


# --- cancelling an order (the operator's) ---------------------------------------------


def _cancel(order_number: str, tenant_id: str = "acme", role: str = "operator"):
    path = f"/v1/admin/tenants/{tenant_id}/orders/{order_number}/cancel"
    resource = "/v1/admin/tenants/{tenant_id}/orders/{order_number}/cancel"
    return _admin("POST", path, resource, role=role)


def test_a_cancelled_order_reads_back_cancelled_with_what_was_left(aws, tenant, metered, context):
    placed = _order(_package(sms_amount=10)["package_id"])
    _send(context, [PH_NUMBER])

    status, cancelled = _cancel(placed["order_number"])

    assert status == 200, cancelled
    assert (cancelled["status"], cancelled["remaining"]) == ("cancelled", 9)
    assert cancelled["cancelled_at"] is not None
    (listed,) = _orders()
    _, operators = _admin(
        "GET", "/v1/admin/tenants/acme/orders", "/v1/admin/tenants/{tenant_id}/orders"
    )
    assert listed == cancelled == operators["items"][0]
    assert placed["cancelled_at"] is None


def test_an_order_is_cancelled_once_and_only_by_the_operator(aws, tenant, metered):
    placed = _order(_package()["package_id"])
    number = placed["order_number"]

    by_tenant = _cancel(number, role="tenant")
    first = _cancel(number)
    again = _cancel(number)
    unknown = _cancel("CloudSMS_202611271200000000")
    other_tenant = _cancel(number, tenant_id="nobody")

    assert (by_tenant[0], by_tenant[1]["error"]["message"]) == (403, "this needs an operator key")
    assert first[0] == 200
    assert again[0] == 409
    assert again[1]["error"]["message"] == (
        f"order {number} was cancelled already, at {first[1]['cancelled_at']}"
    )
    assert (unknown[0], unknown[1]["error"]["message"]) == (
        404,
        "order CloudSMS_202611271200000000 of tenant acme does not exist",
    )
    assert (other_tenant[0], other_tenant[1]["error"]["message"]) == (
        404,
        "tenant nobody does not exist",
    )


def test_an_expired_order_may_be_cancelled(aws, tenant, metered):
    placed = _order(_package(validity_days=1)["package_id"])
    later = datetime.now(UTC) + timedelta(days=2)

    cancelled = orders.cancel_order("acme", placed["order_number"], later)

    assert cancelled["status"] == "cancelled"


def test_a_cancelled_order_pays_for_no_send(aws, tenant, metered, context):
    mistaken = _order(_package(sms_amount=10)["package_id"])
    _cancel(mistaken["order_number"])

    status, body = _send(context, [PH_NUMBER])

    assert status == 403
    assert body["error"]["message"] == (
        f"no valid package of channel {METERED}: its orders were cancelled"
    )
    assert list(MessageModel.query("acme")) == []
    assert _remaining() == 10


def test_after_a_cancel_the_other_orders_pay_and_refuse_what_they_cannot(
    aws, tenant, metered, context
):
    mistaken = _order(_package(sms_amount=10, validity_days=7)["package_id"])
    other = _order(_package(sms_amount=1, validity_days=30)["package_id"])
    _cancel(mistaken["order_number"])

    two = _send(context, [PH_NUMBER, "+639175550123"])
    one = _send(context, [PH_NUMBER])

    assert two[0] == 403
    assert two[1]["error"]["message"] == (
        f"the prepaid packages of channel {METERED} have 1 SMS left; this needs 2"
    )
    assert one[0] == 202
    remaining = {o["order_number"]: o["remaining"] for o in _orders()}
    assert remaining == {mistaken["order_number"]: 10, other["order_number"]: 0}


def test_a_channel_whose_orders_expired_or_were_cancelled_says_both(aws, tenant, metered):
    _order(_package(validity_days=1)["package_id"])
    mistaken = _order(_package(validity_days=30)["package_id"])
    orders.cancel_order("acme", mistaken["order_number"], datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(days=2)

    with pytest.raises(Forbidden, match="its orders were cancelled or are valid only until"):
        orders.charge(get_tenant("acme"), METERED, [1], later)


def test_a_cancelled_postpaid_order_no_longer_lets_its_channel_send(aws, tenant, metered, context):
    package = _package(payment_type="postpaid", warning_usd="5", prohibit_usd="10")
    mistaken = _order(package["package_id"])
    _cancel(mistaken["order_number"])

    status, body = _send(context, [PH_NUMBER])

    # The channel stays metered: cancelling its only order does not make it send unpaid.
    assert status == 403
    assert "its orders were cancelled" in body["error"]["message"]
    (order,) = _orders()
    assert (order["status"], order["month_cost_usd"]) == ("cancelled", "0")


def test_a_mission_is_refused_when_its_only_order_was_cancelled(aws, tenant, metered):
    mistaken = _order(_package(sms_amount=10)["package_id"])
    _cancel(mistaken["order_number"])

    status, body = create_with_list(numbers_list([PH_NUMBER]), channel=METERED)

    assert status == 403
    assert "its orders were cancelled" in body["error"]["message"]
    assert list(MissionModel.query("acme")) == []


def test_a_scheduled_mission_whose_order_was_cancelled_fails_at_its_time(aws, tenant, metered):
    mistaken = _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered([PH_NUMBER, "+639175550123"])
    orders.cancel_order("acme", mistaken["order_number"], MORNING + timedelta(hours=1))

    outcome = dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    fired = missions.read_mission("acme", created["mission_id"])
    assert outcome == "skipped: the mission is Failed"
    assert "its orders were cancelled" in fired["failure_reason"]
    assert [b for b in queued_bodies(aws) if "mission_id" in b] == []
    assert _remaining() == 10


def test_a_charge_read_before_a_cancel_is_not_written_after_it(aws, tenant, metered):
    placed = _order(_package(sms_amount=10)["package_id"])
    now = datetime.now(UTC)
    read_before = orders.charge_for(get_tenant("acme"), METERED, [1], now)
    orders.cancel_order("acme", placed["order_number"], now)

    assert not orders.take(read_before)
    assert _remaining() == 10


def test_a_dispatch_racing_a_cancel_takes_nothing_from_the_cancelled_order(
    aws, tenant, metered, monkeypatch
):
    placed = _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered([PH_NUMBER])
    charge_for = orders.charge_for

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> orders.Charge | None:
        found = charge_for(*args, **kwargs)
        if not OrderModel.get("acme", placed["order_number"]).cancelled_at:
            orders.cancel_order("acme", placed["order_number"], NOON_UTC)
        return found

    monkeypatch.setattr(orders, "charge_for", cancelled_meanwhile)

    dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    fired = missions.read_mission("acme", created["mission_id"])
    assert fired["status"] == "Failed"
    assert "its orders were cancelled" in fired["failure_reason"]
    assert _remaining() == 10


def test_sends_racing_a_cancel_take_nothing_from_the_order_once_it_is_cancelled(
    aws, tenant, metered, atomic_dynamodb, monkeypatch
):
    import time

    placed = _order(_package(sms_amount=100)["package_id"])
    acme = get_tenant("acme")
    now = datetime.now(UTC)
    charge_for = orders.charge_for

    def slow(*args: Any, **kwargs: Any) -> orders.Charge | None:
        found = charge_for(*args, **kwargs)
        time.sleep(0.01)  # between reading the order and writing the charge, as a cancel may
        return found

    monkeypatch.setattr(orders, "charge_for", slow)
    cancelled_at: list[int] = []
    taken: list[int] = []

    def one(i: int) -> str:
        if i == 5:
            orders.cancel_order("acme", placed["order_number"], now)
            cancelled_at.append(int(OrderModel.get("acme", placed["order_number"]).reserved))
            return "cancelled"
        try:
            orders.charge(acme, METERED, [1], now)
        except Forbidden:
            return "refused"
        taken.append(1)
        return "taken"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(one, range(30)))

    reserved = int(OrderModel.get("acme", placed["order_number"]).reserved)
    # Every SMS taken was taken before the cancel: none after it.
    assert reserved == outcomes["taken"] == cancelled_at[0]
    assert outcomes["cancelled"] == 1
    assert outcomes["taken"] + outcomes["refused"] == 29


def test_sms_refunded_after_a_cancel_are_not_given_back_to_use(aws, tenant, metered, context):
    placed = _order(_package(sms_amount=4)["package_id"])
    status, body = _send(context, [PH_NUMBER, "+639175550123"], LONG_TEXT)  # 2 × 2 segments
    assert status == 202, body
    refused, taken = (m["uid"] for m in body["messages"])
    _cancel(placed["order_number"])
    gateway = FakeGateway(REFUSED, accepted("c-2"))

    submit_queued("acme", [refused, taken], lambda: datetime.now(UTC), gateway.factory)

    (order,) = _orders()  # the refund is counted, without error
    assert (order["status"], order["remaining"]) == ("cancelled", 2)
    with pytest.raises(Forbidden, match="its orders were cancelled"):
        orders.charge(get_tenant("acme"), METERED, [1], datetime.now(UTC))


def test_the_console_command_cancels_an_order_once(aws, tenant, metered, monkeypatch):
    from tests.integration.conftest import run_cli

    placed = _order(_package()["package_id"])

    cancelled = run_cli("order-cancel", "acme", placed["order_number"])

    assert (cancelled["order_number"], cancelled["status"]) == (placed["order_number"], "cancelled")
    with pytest.raises(SystemExit, match="was cancelled already"):
        run_cli("order-cancel", "acme", placed["order_number"])


# --- a request paid by several orders --------------------------------------------------


def _two_orders(first: int, second: int) -> tuple[str, str]:
    """Two prepaid orders of the channel: the first expires first, so it pays first."""
    short = _order(_package(sms_amount=first, validity_days=7)["package_id"])
    long = _order(_package(sms_amount=second, validity_days=30)["package_id"])
    return short["order_number"], long["order_number"]


def _left() -> dict[str, int]:
    return {o["order_number"]: o["remaining"] for o in _orders()}


THREE = [PH_NUMBER, "+639175550123", "+639175550126"]


def test_a_send_no_one_order_holds_is_paid_by_two_each_message_by_one(
    aws, tenant, metered, context
):
    short, long = _two_orders(4, 10)

    status, body = _send(context, THREE, LONG_TEXT)  # 3 × 2 segments

    assert status == 202, body
    payers = [MessageModel.get("acme", m["uid"]).order_number for m in body["messages"]]
    assert payers == [short, short, long]  # the one expiring first while it holds them
    assert _left() == {short: 0, long: 8}


def test_a_message_paid_by_the_second_order_gives_its_sms_back_to_it(aws, tenant, metered, context):
    short, long = _two_orders(2, 10)
    status, body = _send(context, THREE, LONG_TEXT)  # the short order pays the first
    assert status == 202, body
    uids = [m["uid"] for m in body["messages"]]
    gateway = FakeGateway(accepted("c-1"), REFUSED, accepted("c-3"))

    submit_queued("acme", uids, lambda: datetime.now(UTC), gateway.factory)

    assert _left() == {short: 0, long: 10 - 4 + 2}
    assert _left() == {short: 0, long: 8}  # the stream read again: not given back twice


def test_a_message_is_not_split_between_two_orders(aws, tenant, metered, context):
    short, long = _two_orders(3, 10)

    status, body = _send(context, THREE, LONG_TEXT)

    assert status == 202, body
    payers = [MessageModel.get("acme", m["uid"]).order_number for m in body["messages"]]
    assert payers == [short, long, long]  # the second message's 2 SMS do not fit in 1
    assert _left() == {short: 1, long: 6}


def test_a_send_whose_second_order_is_spent_meanwhile_takes_nothing_from_the_first(
    aws, tenant, metered, context, monkeypatch
):
    short, long = _two_orders(4, 4)
    charge_for = orders.charge_for

    def spent_meanwhile(*args: Any, **kwargs: Any) -> orders.Charge | None:
        found = charge_for(*args, **kwargs)
        if int(OrderModel.get("acme", long).reserved) == 0:
            OrderModel("acme", long).update(actions=[OrderModel.reserved.add(4)])
        return found

    monkeypatch.setattr(orders, "charge_for", spent_meanwhile)

    status, body = _send(context, THREE, LONG_TEXT)  # 6: both orders, until one is spent

    assert status == 403, body
    assert body["error"]["message"] == (
        f"the prepaid packages of channel {METERED} have 4 SMS left; this needs 6"
    )
    assert _left() == {short: 4, long: 0}  # the first order's take was not written alone
    assert list(MessageModel.query("acme")) == []


def test_a_send_the_orders_hold_only_in_pieces_of_messages_is_refused_whole(
    aws, tenant, metered, context
):
    short, long = _two_orders(3, 3)

    status, body = _send(context, THREE, LONG_TEXT)  # 3 × 2: the third fits in neither

    assert status == 403, body
    assert body["error"]["message"] == (
        f"the prepaid packages of channel {METERED} have 6 SMS left, but each message is"
        " paid by one package and they do not hold whole messages for the 6 this needs"
    )
    assert _left() == {short: 3, long: 3}
    assert list(MessageModel.query("acme")) == []


def test_a_mission_sent_at_once_the_orders_hold_only_in_pieces_of_messages_is_refused(
    aws, tenant, metered
):
    # Given two orders of 3 SMS and a list of three 2-SMS messages: 6 SMS, but the third
    # message fits in neither order's rest
    short, long = _two_orders(3, 3)
    fields = MissionFields.model_validate(
        {**GUIDE_FIELDS, "content": LONG_TEXT, "channel": METERED}
    )
    acme, numbers = get_tenant("acme"), corpus.csv_file([["Phone"], *([n] for n in THREE)])

    # When it is previewed and created, to be sent at once
    preview = missions.preview(acme, fields, numbers, datetime.now(UTC))
    with pytest.raises(Forbidden) as refused:
        missions.create_mission(acme, fields, numbers, datetime.now(UTC))

    # Then both refuse it, as a one-off send of the same messages is, rather than create
    # a mission that fails at once; nothing is taken
    reason = (
        f"the prepaid packages of channel {METERED} have 6 SMS left, but each message is"
        " paid by one package and they do not hold whole messages for the 6 this needs"
    )
    assert (refused.value.message, preview["payment_refusal"]) == (reason, reason)
    assert list(MissionModel.query("acme")) == []
    assert _left() == {short: 3, long: 3}


def test_a_mission_paid_from_more_orders_than_one_write_can_take_is_refused_whole(
    aws, tenant, metered
):
    # Given 100 prepaid orders of 1 SMS (a tenant topping up by the unit) and a list of
    # 100 numbers: the SMS are there, but the claim and the 100 takes would be more
    # items than DynamoDB writes in one transaction
    package = _package(sms_amount=1)["package_id"]
    for _ in range(100):
        _order(package)
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "channel": METERED})
    numbers = numbers_list(_numbers(100))

    # When it is created, to be sent at once
    with pytest.raises(Forbidden) as refused:
        missions.create_mission(get_tenant("acme"), fields, numbers, datetime.now(UTC))

    # Then it is refused saying why, and nothing is taken
    assert refused.value.message == (
        f"this would be paid from 100 prepaid packages of channel {METERED}; at most"
        f" {orders.MAX_PAYING_ORDERS} pay one request: send it in smaller ones"
    )
    assert list(MissionModel.query("acme")) == []
    assert set(_left().values()) == {1}


def test_concurrent_sends_across_two_orders_never_spend_more_than_they_hold(
    aws, tenant, metered, atomic_dynamodb
):
    short, long = _two_orders(4, 5)
    acme = get_tenant("acme")
    now = datetime.now(UTC)

    def one(_: int) -> str:
        try:
            payers = orders.charge(acme, METERED, [1, 1, 1], now)
        except Forbidden:
            return "refused"
        except Conflict:
            return "conflict"
        assert None not in payers
        return "taken"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(one, range(12)))

    left = _left()
    assert min(left.values()) >= 0
    assert 3 * outcomes["taken"] + left[short] + left[long] == 9
    if not outcomes["conflict"]:
        assert outcomes["taken"] == 3  # 3 of A; 1 of A and 2 of B; 3 of B


def test_a_scheduled_mission_only_two_orders_pay_together_is_accepted(aws, tenant, metered):
    short, long = _two_orders(2, 2)
    now = datetime.now(UTC)

    created = _schedule(3, 2, now)

    assert created["status"] == "Scheduled"


def _by_order(bodies: list[dict[str, Any]]) -> dict[str | None, list[str]]:
    """The recipients each queue message carries, by the order it names."""
    carried: dict[str | None, list[str]] = {}
    for body in bodies:
        carried.setdefault(body["order_number"], []).extend(r["to"] for r in body["recipients"])
    return carried


def test_a_mission_is_paid_by_two_orders_in_its_recipients_order_and_retried_charges_once(
    aws, tenant, metered, monkeypatch
):
    short, long = _two_orders(2, 10)
    created = _scheduled_on_metered(THREE)
    assert created["segments"] == 3  # one SMS a recipient
    enqueue = dispatch.queues.enqueue

    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SQS is unavailable")

    monkeypatch.setattr(dispatch.queues, "enqueue", down)
    with pytest.raises(RuntimeError):
        dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)
    monkeypatch.setattr(dispatch.queues, "enqueue", enqueue)

    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"

    assert _left() == {short: 0, long: 9}
    bodies = [b for b in queued_bodies(aws) if "mission_id" in b]
    assert _by_order(bodies) == {short: THREE[:2], long: THREE[2:]}
    for body in bodies:
        submit_mission_recipients(body, lambda: datetime.now(UTC), FakeGateway(REFUSED).factory)
    payers = {m.to: m.order_number for m in MessageModel.query("acme")}
    assert payers == {THREE[0]: short, THREE[1]: short, THREE[2]: long}
    assert _left() == {short: 2, long: 10}  # every message came back to its own order


def test_numbers_blacklisted_before_dispatch_give_their_sms_back_to_the_order_that_paid(
    aws, tenant, metered
):
    short, long = _two_orders(2, 10)
    created = _scheduled_on_metered(THREE)
    assert created["segments"] == 3  # one SMS a recipient
    blacklist([THREE[0], THREE[2]])

    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"

    assert _left() == {short: 1, long: 10}
    shown = missions.read_mission("acme", created["mission_id"])
    assert shown["segments"] == 1


def test_prepaid_pays_the_messages_it_holds_and_postpaid_the_rest(
    aws, tenant, metered, context, clock_at_an_hours_start
):
    prepaid = _order(_package(sms_amount=1)["package_id"])
    postpaid = _order(
        _package(payment_type="postpaid", warning_usd="5", prohibit_usd="10")["package_id"]
    )

    _spend(context, 2)

    by_number = {o["order_number"]: o for o in _orders()}
    assert by_number[prepaid["order_number"]]["remaining"] == 0
    assert by_number[postpaid["order_number"]]["month_cost_usd"] == "0.01"
    payers = [m.order_number for m in MessageModel.query("acme")]
    assert sorted(str(p) for p in payers) == sorted([prepaid["order_number"], "None"])


def test_a_mission_is_paid_when_each_message_fits_an_order_though_not_in_the_lists_order(
    aws, tenant, metered
):
    # Given an order of 1 SMS expiring first and one of 2, and a mission whose first
    # message takes 2 SMS (a long name) and whose second takes 1: 3 SMS, as they hold
    short, long = _two_orders(1, 2)
    second = "+639175550123"
    rows = [HEADER, [PH_NUMBER, "N" * 120, "site.com"], [second, "Ann", "site.com"]]
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON, "channel": METERED})
    created = missions.create_mission(get_tenant("acme"), fields, corpus.xlsx(rows), MORNING)
    assert (created["status"], created["segments"]) == ("Scheduled", 3)

    # When it is dispatched
    outcome = dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)

    # Then the first message is paid by the second order and the second by the first,
    # rather than the mission failing with 1 SMS left unused in the first order
    assert outcome == "dispatched", missions.read_mission("acme", created["mission_id"])
    assert _left() == {short: 0, long: 0}
    bodies = [b for b in queued_bodies(aws) if "mission_id" in b]
    assert _by_order(bodies) == {long: [PH_NUMBER], short: [second]}


def test_a_send_pays_a_smaller_message_from_the_order_a_larger_one_passed_over(
    aws, tenant, metered, context
):
    # Given an order of 1 SMS expiring first and a post-paid one
    prepaid = _order(_package(sms_amount=1)["package_id"])["order_number"]
    _order(_package(payment_type="postpaid", warning_usd="5", prohibit_usd="10")["package_id"])
    acme = get_tenant("acme")

    # When a request's first message takes 2 SMS and its second 1
    payers = orders.charge(acme, METERED, [2, 1], datetime.now(UTC))

    # Then the prepaid order pays the second, and post-paid only the first
    assert payers == [None, prepaid]
    assert _left()[prepaid] == 0


def test_a_number_blacklisted_after_a_dispatch_sent_it_is_not_given_back_when_it_resumes(
    aws, tenant, metered, monkeypatch
):
    # Given a mission of three whose dispatch queued them all, then stopped before it was
    # recorded Sent (its function timed out, say)
    _order(_package(sms_amount=10)["package_id"])
    created = _scheduled_on_metered(THREE)
    record_sent = dispatch._record_sent

    def stopped(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(dispatch, "_record_sent", stopped)
    with pytest.raises(RuntimeError):
        dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC)
    monkeypatch.setattr(dispatch, "_record_sent", record_sent)

    # When the queued messages are sent, the first number is then blacklisted (it replied
    # TD to its message), and the dispatch is resumed, queueing the three again
    def submit_queued_missions() -> None:
        for body in [b for b in queued_bodies(aws) if "mission_id" in b]:
            gateway = FakeGateway(accepted(), accepted(), accepted())
            submit_mission_recipients(body, lambda: datetime.now(UTC), gateway.factory)

    submit_queued_missions()
    blacklist([THREE[0]])
    assert dispatch.fire_scheduled("acme", created["mission_id"], NOON_UTC) == "dispatched"
    submit_queued_missions()

    # Then the three were sent and are charged, and the mission counts none blacklisted
    assert {m.to: m.dr_state for m in MessageModel.query("acme")} == dict.fromkeys(
        THREE, "SUBMITTED"
    )
    assert _remaining() == 10 - 3
    shown = missions.read_mission("acme", created["mission_id"])
    assert (shown["phone_number_amount"], shown["blacklist_amount"], shown["segments"]) == (3, 0, 3)
