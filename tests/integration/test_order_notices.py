"""Order notices: the hourly sweep tells the operator, on NoticeTopic, of a post-paid order
past its warning or prohibit threshold (once a month each) and of a prepaid order running
low or used up (once each). Run through the sweep's handler, so that the publish is made
under the function's policies."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from cloudsms import clock
from cloudsms.adapters import topics
from cloudsms.domain import money
from cloudsms.services import order_notices, orders
from cloudsms.services.orders import PackageFields
from cloudsms.settings import get_settings
from cloudsms.store.counters import CounterModel, channel_day, tenant_channel_scope
from cloudsms.store.messages import MessageModel
from cloudsms.store.orders import OrderModel
from functions.dlr_webhook import sweep as sweep_handler
from tests.integration.conftest import METERED
from tests.integration.receipts_helpers import message, submit

# 12:00 in Asia/Shanghai (acme's zone), 20 November.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture
def notices(aws) -> list[dict[str, Any]]:
    """What NoticeTopic carries, read from a queue subscribed to it (as the operator's
    own subscriber would): each as {"subject", "message", "attributes"}, filled by
    `_read`."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="notices-read")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    boto3.client("sns", region_name="us-east-1").subscribe(
        TopicArn=aws.physical["NoticeTopic"], Protocol="sqs", Endpoint=arn["QueueArn"]
    )
    return []


def _read(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The notices published since the last read."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="notices-read")["QueueUrl"]
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for received in batch:
            envelope = json.loads(received["Body"])
            found.append(
                {
                    "subject": envelope["Subject"],
                    "message": envelope["Message"],
                    "attributes": {k: v["Value"] for k, v in envelope["MessageAttributes"].items()},
                }
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
    notices.extend(found)
    return found


def _order(now: datetime = NOW - timedelta(days=1), **terms: Any) -> str:
    fields = PackageFields.model_validate(
        {"product_name": "SMM", "channel": METERED, "payment_type": "prepaid", **terms}
    )
    package = orders.create_package(fields, now)
    return str(orders.place_order("acme", package["package_id"], now)["order_number"])


def _postpaid() -> str:
    return _order(payment_type="postpaid", warning_usd="10", prohibit_usd="15")


def _prepaid(amount: int = 100) -> str:
    return _order(sms_amount=amount, validity_days=30)


def _spent(usd: str, day: str = "2026-11-20") -> None:
    """The channel's spending of a day (acme's), as the counters count it."""
    scope, period = tenant_channel_scope("acme"), channel_day(day, METERED)
    CounterModel(scope, period, postpaid_cost=money.micros(Decimal(usd))).save()


def _taken(order_number: str, sms: int) -> None:
    OrderModel("acme", order_number).update(actions=[OrderModel.reserved.set(sms)])


def _run(context, now: datetime = NOW) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(clock, "now", lambda: now)
        return sweep_handler.lambda_handler({"source": "aws.scheduler"}, context)  # type: ignore[no-any-return]


def _states(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(n["attributes"]["order_number"], n["attributes"]["state"]) for n in found]


# --- post-paid ---------------------------------------------------------------------------


def test_a_postpaid_order_past_its_warning_is_noticed_once(aws, metered, notices, context):
    number = _postpaid()
    _spent("11.5")

    result = _run(context)
    again = _run(context)

    (notice,) = _read(notices)
    assert (result["order_notices"], again["order_notices"]) == (1, 0)
    assert notice["attributes"] == {"tenant_id": "acme", "order_number": number, "state": "warning"}
    assert notice["subject"] == f"CloudSMS order warning: {number}"
    for line in (
        "Tenant: Acme (acme)",
        f"Order: {number}",
        "Channel: PH_PACK",
        "State: warning",
        "This month (2026-11, Asia/Shanghai): USD 11.5 spent; warning at USD 10,"
        " prohibited at USD 15",
    ):
        assert line in notice["message"].splitlines()
    assert "Product: SMM (package " in notice["message"]


def test_a_postpaid_order_past_its_prohibit_threshold_is_noticed_prohibited(
    aws, metered, notices, context
):
    number = _postpaid()
    _spent("11")
    _run(context)
    _spent("4", day="2026-11-19")  # 15 USD this month

    _run(context)

    assert _states(_read(notices)) == [(number, "warning"), (number, "prohibited")]


def test_a_postpaid_order_is_noticed_again_in_a_new_month(aws, metered, notices, context):
    number = _postpaid()
    _spent("11")
    _run(context)

    quiet = _run(context, datetime(2026, 12, 1, 4, tzinfo=UTC))  # no spending in December yet
    _spent("10", day="2026-12-01")
    noticed = _run(context, datetime(2026, 12, 1, 5, tzinfo=UTC))

    assert (quiet["order_notices"], noticed["order_notices"]) == (0, 1)
    assert _states(_read(notices)) == [(number, "warning"), (number, "warning")]


def test_a_postpaid_order_below_its_warning_is_not_noticed(aws, metered, notices, context):
    _postpaid()
    _spent("9.99")

    assert _run(context)["order_notices"] == 0
    assert _read(notices) == []


def test_a_notice_is_logged_as_a_warning_naming_the_order(aws, metered, notices, context, caplog):
    number = _postpaid()
    _spent("15")

    _run(context)

    (line,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert (line.tenant, line.order, line.channel, line.state) == (  # type: ignore[attr-defined]
        "acme",
        number,
        METERED,
        "prohibited",
    )


# --- prepaid -----------------------------------------------------------------------------


def test_a_prepaid_order_with_a_tenth_left_is_noticed_running_low(aws, metered, notices, context):
    number = _prepaid(amount=100)
    _taken(number, 90)

    _run(context)

    (notice,) = _read(notices)
    assert notice["attributes"]["state"] == "running_low"
    assert "Remaining: 10 of 100 SMS, valid until 2026-12-19 12:00 (Asia/Shanghai)" in (
        notice["message"].splitlines()
    )


def test_a_prepaid_order_used_up_is_noticed_used_up_once(aws, metered, notices, context):
    number = _prepaid(amount=100)
    _taken(number, 95)
    _run(context)
    _taken(number, 100)

    _run(context)
    _run(context)

    assert _states(_read(notices)) == [(number, "running_low"), (number, "used_up")]


def test_a_prepaid_order_with_more_than_a_tenth_left_is_not_noticed(aws, metered, notices, context):
    number = _prepaid(amount=100)
    _taken(number, 89)

    assert _run(context)["order_notices"] == 0
    assert _read(notices) == []


def test_a_cancelled_order_is_not_noticed(aws, metered, notices, context):
    used_up = _prepaid()
    _taken(used_up, 100)
    prohibited = _postpaid()
    _spent("20")
    orders.cancel_order("acme", used_up, NOW)
    orders.cancel_order("acme", prohibited, NOW)

    assert _run(context)["order_notices"] == 0
    assert _read(notices) == []


def test_an_expired_order_is_not_noticed(aws, metered, notices, context):
    number = _prepaid()
    _taken(number, 100)

    assert _run(context, NOW + timedelta(days=30))["order_notices"] == 0
    assert _read(notices) == []


# --- once, and failures ------------------------------------------------------------------


def test_a_run_that_read_the_order_before_another_claimed_its_notice_sends_none(
    aws, metered, notices, context, monkeypatch
):
    number = _prepaid()
    _taken(number, 100)
    # Two runs at once: both read the order before either claimed its notice.
    read_before = list(OrderModel.scan())
    _run(context)
    monkeypatch.setattr(OrderModel, "scan", classmethod(lambda cls, *a, **k: iter(read_before)))

    again = _run(context)

    assert again["order_notices"] == 0
    assert _states(_read(notices)) == [(number, "used_up")]


def _publish_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("SNS is unavailable")

    monkeypatch.setattr(topics, "publish", down)


def test_notices_failing_leave_the_sweeps_work_done_and_fail_the_run(
    aws, tenant, metered, notices, context, monkeypatch
):
    uid = submit(context, "SIM")
    overdue = message(uid).submitted_at + timedelta(hours=get_settings().receipt_timeout_hours + 1)
    number = _order(overdue - timedelta(days=1), sms_amount=100, validity_days=30)
    _taken(number, 100)
    _publish_fails(monkeypatch)

    with pytest.raises(RuntimeError, match="SNS is unavailable"):
        _run(context, overdue)

    assert MessageModel.get("acme", uid).dr_state == "UNKNOWN"
    assert _read(notices) == []


def test_an_order_that_cannot_be_looked_at_leaves_the_others_noticed_and_fails_the_run(
    aws, metered, notices, context, monkeypatch
):
    # Placed first, so read first: its spending cannot be read.
    _order(NOW - timedelta(days=2), payment_type="postpaid", warning_usd="10", prohibit_usd="15")
    used_up = _prepaid()
    _taken(used_up, 100)

    def unreadable(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the counters are unavailable")

    monkeypatch.setattr(order_notices, "month_cost", unreadable)

    with pytest.raises(RuntimeError, match="the counters are unavailable"):
        _run(context)

    assert _states(_read(notices)) == [(used_up, "used_up")]


def test_a_notice_whose_publish_failed_is_sent_by_the_next_run(
    aws, metered, notices, context, monkeypatch
):
    number = _prepaid()
    _taken(number, 100)
    with monkeypatch.context() as patched:
        _publish_fails(patched)
        with pytest.raises(RuntimeError):
            _run(context)

    _run(context)

    assert _states(_read(notices)) == [(number, "used_up")]
