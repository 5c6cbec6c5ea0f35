"""Bulk dispatch missions through the send function's handler, against moto.

The tenant's channel points at a gateway nothing listens on: these tests stop at the
submit queue, which is where a mission's dispatch ends.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from cloudsms.adapters.aws import client
from cloudsms.services import dispatch, missions
from cloudsms.store.missions import MissionModel
from tests.integration import missions_api as api
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    HEADER,
    MORNING,
    NOON_UTC,
    create_scheduled,
    numbers_list,
    queued_bodies,
    queued_recipients,
)
from tests.unit import numberlist_corpus as corpus


@pytest.fixture
def sqs_requests() -> Iterator[list[str]]:
    """The names of the SQS requests the platform makes while the test runs."""
    made: list[str] = []
    events = client("sqs").meta.events

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    events.register("before-call.sqs", record, unique_id="test-sqs-requests")
    yield made
    events.unregister("before-call.sqs", unique_id="test-sqs-requests")


# --- creating ----------------------------------------------------------------------------


def test_a_mission_with_the_guides_list_is_sent_with_each_row_rendered(aws, tenant):
    status, mission = api.create_with_list(corpus.guide_xlsx())

    assert status == 201, mission
    assert (mission["status"], mission["phone_number_amount"]) == ("Sent", 2)
    assert [(r["to"], r["text"]) for r in queued_recipients(aws)] == [
        (
            "+639215347566",
            "[CloudSMS] Hello Amy, your pin code is 123456, get more info via link: www.baidu.com",
        ),
        (
            "+639215347566",
            "[CloudSMS] Hello Bob, your pin code is 123456, get more info via link: "
            "www.sina.com.cn",
        ),
    ]


def test_a_created_mission_reads_back_with_the_guides_columns(aws, tenant):
    _, created = api.create_with_list(corpus.guide_xlsx())

    status, mission = api.get_mission(created["mission_id"])

    assert status == 200
    assert mission["name"] == "Guide example"
    assert mission["direction"] == "international"
    assert mission["variables"] == ["Name", "website"]
    assert (
        mission["phone_number_amount"],
        mission["failure_amount"],
        mission["blacklist_amount"],
    ) == (2, 0, 0)
    assert mission["dispatching_date"] is not None
    assert mission["progress"] == {
        "submitted": 0,
        "delivered": 0,
        "failed": 0,
        "no_notification": 0,
        "pending": 2,
    }


@pytest.mark.parametrize(
    "value",
    ['say "hi"', "back\\slash", "two\nlines", "tab\there", "张三 😊", "a\u2028b }{"],
    ids=["quotes", "backslash", "newline", "tab", "emoji", "separators"],
)
def test_a_value_json_must_escape_reaches_the_queue_exactly_as_rendered(aws, tenant, value):
    data = corpus.xlsx([["Phone Number", "Name"], ["+639215347566", value]])

    api.create_with_list(data, content="Hello ${Name}!")

    [recipient] = queued_recipients(aws)
    assert recipient["text"] == f"[CloudSMS] Hello {value}!"


def test_a_mission_created_again_with_its_idempotency_key_is_created_once(aws, tenant):
    data = numbers_list(["+639215347566", "+639175550123"])
    key = {"Idempotency-Key": "mission-1"}

    first = api.post_form("/v1/missions", GUIDE_FIELDS, data, headers=key)
    again = api.post_form("/v1/missions", GUIDE_FIELDS, data, headers=key)
    other_list = api.post_form(
        "/v1/missions", GUIDE_FIELDS, numbers_list(["+639215347566"]), headers=key
    )

    assert first[0] == again[0] == 201
    assert again[1]["mission_id"] == first[1]["mission_id"]
    assert len(api.list_missions()["items"]) == 1
    assert len(queued_recipients(aws)) == 2
    assert other_list[0] == 409


def test_a_mission_sent_again_while_the_first_is_being_created_is_409_in_progress(
    aws, tenant, monkeypatch
):
    data = numbers_list(["+639215347566"])
    key = {"Idempotency-Key": "mission-2"}
    create = missions.create_mission
    again = []

    def sent_again_meanwhile(*args: Any, **kwargs: Any) -> dict[str, Any]:
        # The portal's second click, while this first request is still at work.
        again.append(api.post_form("/v1/missions", GUIDE_FIELDS, data, headers=key))
        return create(*args, **kwargs)

    monkeypatch.setattr(missions, "create_mission", sent_again_meanwhile)

    first = api.post_form("/v1/missions", GUIDE_FIELDS, data, headers=key)

    [(status, answer)] = again
    assert first[0] == 201
    # Told apart from a key reused for another request (409 "conflict"): wait, then look.
    assert (status, answer["error"]["code"]) == (409, "in_progress")
    assert len(api.list_missions()["items"]) == 1


def test_a_verify_code_mission_goes_to_the_bulk_queue_not_ahead_of_single_codes(aws, tenant):
    data = corpus.xlsx([["Phone Number"], ["+639215347566"]])

    status, _ = api.create_with_list(data, sms_type="verify_code", content="Your code is 1234")

    assert status == 201
    assert len(queued_recipients(aws)) == 1  # the bulk queue
    assert queued_recipients(aws, "OtpSubmitQueue") == []


def test_abnormal_rows_are_counted_and_listed_with_their_row_numbers(aws, tenant):
    data = corpus.xlsx(
        [
            HEADER,
            ["+639215347566", "Amy", "a.com"],
            ["12345", "Bob", "b.com"],
            ["+639175550123", None, "c.com"],
            ["+8613800138000", "Dan", "d.com"],
            ["+639175550124", "Eve", "e.com", "extra"],
            ["+639175550125", "Fay", "f.com"],
        ]
    )

    _, mission = api.create_with_list(data)
    abnormal = api.list_of(mission["mission_id"], "abnormal")["items"]

    assert (mission["phone_number_amount"], mission["failure_amount"]) == (2, 4)
    assert [(a["row"], a["raw"]) for a in abnormal] == [
        (3, "12345"),
        (4, "+639175550123"),
        (5, "+8613800138000"),
        (6, "+639175550124"),
    ]
    assert abnormal[0]["reason"] == "not a valid phone number"
    assert "is empty" in abnormal[1]["reason"]
    assert abnormal[2]["reason"] == "international missions cannot send to +86 numbers"
    assert abnormal[3]["reason"].startswith("too many columns")


def test_a_missions_messages_page_with_their_total_on_the_first_page(aws, tenant):
    from cloudsms.services.submission import submit_mission_recipients
    from tests.integration.conftest import FakeGateway, accepted

    numbers = [f"+6392153475{n:02d}" for n in range(3)]
    _, mission = api.create_with_list(numbers_list(numbers))
    [body] = api.queued_bodies(aws)
    submit_mission_recipients(
        body, lambda: datetime.now(UTC), FakeGateway(*[accepted()] * 3).factory
    )

    first = api.list_of(mission["mission_id"], "messages", {"page_size": "2"})
    query = {"page_size": "1", "cursor": first["next_cursor"]}
    second = api.list_of(mission["mission_id"], "messages", query)

    assert (first["total"], first["total_exact"]) == (3, True)
    assert len(first["items"]) + len(second["items"]) == 3
    assert "total" not in second
    # the second page ends the list: no cursor to an empty third
    assert second["next_cursor"] is None


def test_abnormal_rows_page_with_a_cursor(aws, tenant):
    _, mission = api.create_with_list(numbers_list(["+639215347566", *["123"] * 15]))

    first = api.list_of(mission["mission_id"], "abnormal")
    second = api.list_of(mission["mission_id"], "abnormal", {"cursor": first["next_cursor"]})

    assert [a["row"] for a in first["items"]] == list(range(3, 13))
    assert [a["row"] for a in second["items"]] == list(range(13, 18))
    assert second["next_cursor"] is None
    assert (first["total"], first["total_exact"]) == (15, True)


@pytest.mark.parametrize("cursor", ["\u00b2", "99999999999999999999", "-1"])
def test_a_cursor_that_is_no_row_number_is_refused(aws, tenant, cursor):
    _, mission = api.create_with_list(numbers_list(["+639215347566", "123"]))

    status, answer = api.call(
        api.send_app,
        "GET",
        f"/v1/missions/{mission['mission_id']}/abnormal",
        "/v1/missions/{mission_id}/abnormal",
        query={"cursor": cursor},
    )

    assert status == 400, answer


# --- blacklists ----------------------------------------------------------------------------


def test_tenant_and_platform_blacklisted_numbers_are_counted_listed_masked_and_not_sent(
    aws, tenant
):
    api.blacklist(["+639175550123"])
    api.blacklist(["+639175550124"], platform=True)
    data = numbers_list(["+639215347566", "+639175550123", "+639175550124"])

    _, mission = api.create_with_list(data)
    listed = api.list_of(mission["mission_id"], "blacklisted")["items"]

    assert (mission["phone_number_amount"], mission["blacklist_amount"]) == (1, 2)
    assert listed == [
        {"row": 3, "country_code": 63, "phone_number": "917****123"},
        {"row": 4, "country_code": 63, "phone_number": "917****124"},
    ]
    assert [r["to"] for r in queued_recipients(aws)] == ["+639215347566"]


def test_another_tenants_blacklist_does_not_apply(aws, tenant):
    from cloudsms.services import blacklist

    blacklist.add_numbers("other", ["+639175550123"])

    _, mission = api.create_with_list(numbers_list(["+639175550123"]))

    assert (mission["phone_number_amount"], mission["blacklist_amount"]) == (1, 0)


def test_a_number_blacklisted_after_scheduling_is_not_enqueued_and_counted_as_blacklisted(
    aws, tenant
):
    mission = create_scheduled(["+639215347566", "+639175550123", "+639175550126"])
    api.blacklist(["+639175550123"])

    outcome = dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)

    _, fired = api.get_mission(mission["mission_id"])
    assert outcome == "dispatched"
    assert [r["to"] for r in queued_recipients(aws)] == ["+639215347566", "+639175550126"]
    assert (fired["phone_number_amount"], fired["blacklist_amount"]) == (2, 1)
    assert api.list_of(mission["mission_id"], "blacklisted")["items"] == [
        {"row": 3, "country_code": 63, "phone_number": "917****123"}
    ]


# --- dispatching --------------------------------------------------------------------------


def test_a_tenants_queue_messages_are_one_fair_queue_group(aws, tenant):
    api.create_with_list(numbers_list(["+639215347566", "+639175550123"]))

    received = client("sqs").receive_message(
        QueueUrl=aws.physical["BulkSubmitQueue"], AttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]

    assert [m["Attributes"]["MessageGroupId"] for m in received] == ["acme"]


def test_dispatch_puts_many_recipients_in_each_sqs_message_and_ten_messages_per_request(
    aws, tenant, sqs_requests
):
    numbers = [f"+6391755{i:05d}" for i in range(1000)]

    _, mission = api.create_with_list(numbers_list(numbers))

    bodies = queued_bodies(aws)
    assert mission["phone_number_amount"] == 1000
    assert sum(len(b["recipients"]) for b in bodies) == 1000
    assert len(bodies) == 10
    assert sqs_requests.count("SendMessageBatch") == 1
    assert "SendMessage" not in sqs_requests


def test_a_hundred_full_length_single_part_messages_fit_one_sqs_message(aws, tenant, sqs_requests):
    # Up to 160 septets with the signature, whose brackets take two each.
    content = "${Name}: " + "x" * 137
    numbers = [f"+6391755{i:05d}" for i in range(1000)]

    api.create_with_list(numbers_list(numbers), content=content)

    bodies = queued_bodies(aws)
    recipients = [r for b in bodies for r in b["recipients"]]
    assert max(len(r["text"]) for r in recipients) == 158
    assert {r["segments"] for r in recipients} == {1}
    assert len(bodies) == 10
    assert sqs_requests.count("SendMessageBatch") == 1


def test_long_unicode_messages_are_split_to_stay_within_sqs_limits(aws, tenant):
    content = "${Name}" + "你" * 1400  # escaped in JSON: six bytes a character
    numbers = [f"+6391755{i:05d}" for i in range(100)]

    _, mission = api.create_with_list(numbers_list(numbers), content=content)

    bodies = queued_bodies(aws)
    assert mission["status"] == "Sent"
    assert sum(len(b["recipients"]) for b in bodies) == 100
    assert max(len(json.dumps(b)) for b in bodies) <= 1_048_576 // 10


def test_dispatching_a_mission_again_while_it_is_sending_enqueues_the_same_uids(aws, tenant):
    from cloudsms.store.missions import MissionModel

    mission = create_scheduled(["+639215347566", "+639175550123"])
    dispatch.fire_scheduled("acme", mission["mission_id"], NOON_UTC)
    first = [r["uid"] for r in queued_recipients(aws)]
    # As a dispatch that died after enqueueing leaves it, and a retried invocation finds it.
    stored = MissionModel.get("acme", mission["mission_id"])
    stored.update(actions=[MissionModel.status.set("Sending")])

    again = dispatch.dispatch("acme", mission["mission_id"], NOON_UTC)

    assert again is True
    assert [r["uid"] for r in queued_recipients(aws)] == first
    assert len(set(first)) == 2


def test_a_sent_mission_is_not_dispatched_again(aws, tenant):
    _, mission = api.create_with_list(corpus.guide_xlsx())
    queued_bodies(aws)

    again = dispatch.dispatch("acme", mission["mission_id"], MORNING)

    assert again is False
    assert queued_bodies(aws) == []


def test_a_mission_is_sent_though_a_read_just_after_its_creation_does_not_see_it_yet(
    aws, tenant, monkeypatch
):
    # DynamoDB's eventually consistent read may miss an item written a moment ago.
    get = MissionModel.get

    def lagging(*key: Any, consistent_read: bool = False, **options: Any) -> MissionModel:
        if not consistent_read:
            raise DoesNotExist()
        return get(*key, consistent_read=True, **options)

    monkeypatch.setattr(MissionModel, "get", lagging)

    status, mission = api.create_with_list(corpus.guide_xlsx())

    assert status == 201, mission
    assert mission["status"] == "Sent"
    assert len(queued_recipients(aws)) == 2


def test_a_content_at_the_limit_with_variables_is_sent_signed_as_one_without_them(aws, tenant):
    # The portal counts the content alone: the signature and the unsubscribe sentence
    # come on top of its 1,500 characters, with variables or without.
    content = "A" * 1490 + " ${Name}"
    rows = [["Phone Number", "Name"], ["+639215347566", "Amy"]]

    status, mission = api.create_with_list(
        corpus.xlsx(rows), content=content, allow_unsubscribe="true"
    )

    assert status == 201, mission
    [recipient] = queued_recipients(aws)
    assert recipient["text"] == f"[CloudSMS] {'A' * 1490} Amy Reply TD to unsubscribe"
