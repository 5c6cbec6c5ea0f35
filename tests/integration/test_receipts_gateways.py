"""Receipts from each kind of gateway through the dlr webhook: Jasmin's form, a hub's JSON,
raw SMPP receipt text; found by our uid or by the carrier's id; unmatched ones kept; long
messages delivered only when every part is; counters changed once per transition."""

import base64
import json

import pytest

from cloudsms.store.base import utcnow
from cloudsms.store.unmatched_receipts import UnmatchedReceiptModel
from functions.admin import app as admin_app
from tests.integration.conftest import api_event
from tests.integration.receipts_helpers import (
    LONG_TEXT,
    add_channel,
    counted,
    kannel,
    message,
    ours,
    post_receipt,
    submit,
)

JASMIN_ID = "2a8f7b43-6e0c-4e7f-9a0e-1c9d4c2b8e11"


def _jasmin_receipt(stat: str, level: str = "2", err: str = "000") -> dict[str, str]:
    return {
        "id": JASMIN_ID,
        "message_status": stat,
        "level": level,
        "connector": "carrier-a",
        "id_smsc": "9f00aa",
        "sub": "001",
        "dlvrd": "001",
        "subdate": "2511261010",
        "donedate": "2511261011",
        "err": err,
        "text": "Hello",
    }


# --- Jasmin --------------------------------------------------------------------------------


def test_a_jasmin_receipt_moves_the_message_and_is_answered_ack_jasmin(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)

    response = post_receipt(context, "JAS", ours("JAS", uid), _jasmin_receipt("DELIVRD"))

    assert (response["statusCode"], response["body"]) == (200, "ACK/Jasmin")
    assert message(uid).dr_state == "DELIVRD"
    assert counted(uid)["delivered"] == 1


def test_a_jasmin_smsc_level_receipt_is_only_an_acknowledgement(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)
    level1 = {"id": JASMIN_ID, "message_status": "ESME_ROK", "level": "1", "connector": "c"}

    response = post_receipt(context, "JAS", ours("JAS", uid), level1)

    assert response["body"] == "ACK/Jasmin"
    assert message(uid).dr_state == "ACCEPTD"


@pytest.mark.parametrize("status", ["ESME_RTHROTTLED", "ESME_RMSGQFUL", "ESME_RSYSERR"])
def test_a_jasmin_refusal_that_jasmin_submits_again_itself_is_not_handed_over_again(
    aws, tenant, context, status
):
    # Jasmin's SMPP client submits these again itself (jasmin.cfg submit_error_retrial, by
    # default up to 20 times for a throttled one) after the level-1 receipt: sending the
    # message again from here would deliver it twice.
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)
    level1 = {"id": JASMIN_ID, "message_status": status, "level": "1", "connector": "c"}

    response = post_receipt(context, "JAS", ours("JAS", uid), level1)

    assert response["body"] == "ACK/Jasmin"
    sent = message(uid)
    assert (sent.dr_state, sent.error_code, sent.resubmissions) == ("ENROUTE", status, None)


def test_a_jasmin_refusal_jasmin_does_not_retry_fails_the_message(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)
    level1 = {"id": JASMIN_ID, "message_status": "ESME_RINVDSTADR", "level": "1"}

    post_receipt(context, "JAS", ours("JAS", uid), level1)

    # The SMSC refused the submit_sm: refused at submission, like a refusal in the answer.
    refused = message(uid)
    assert (refused.dr_state, refused.error_code) == ("SUBMIT_FAILED", "ESME_RINVDSTADR")


def test_a_jasmin_receipt_is_answered_ack_jasmin_even_when_it_changes_nothing(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)
    post_receipt(context, "JAS", ours("JAS", uid), _jasmin_receipt("DELIVRD"))

    again = post_receipt(context, "JAS", ours("JAS", uid), _jasmin_receipt("DELIVRD"))

    assert (again["statusCode"], again["body"]) == (200, "ACK/Jasmin")
    assert counted(uid)["delivered"] == 1


def test_a_forged_jasmin_receipt_is_refused_and_changes_nothing(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)

    response = post_receipt(
        context,
        "JAS",
        {"tenant": "acme", "uid": uid, "secret": "guessed"},
        _jasmin_receipt("DELIVRD"),
    )

    assert response["statusCode"] == 401
    assert message(uid).dr_state == "SUBMITTED"


def test_a_receipt_naming_only_the_carriers_id_finds_the_message_by_it(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)

    post_receipt(context, "JAS", ours("JAS"), _jasmin_receipt("UNDELIV", err="001"))

    assert (message(uid).dr_state, message(uid).error_code) == ("UNDELIV", "001")


# --- generic HTTP JSON and raw SMPP text ----------------------------------------------------


def test_a_hubs_json_receipt_is_read_through_the_channels_mapping(aws, tenant, context):
    add_channel("HUB", "http_json")
    uid = submit(context, "HUB", carrier_id="H-1")

    response = post_receipt(
        context,
        "HUB",
        ours("HUB", uid),
        {"id": "H-1", "state": "FAILED", "error": "EC_ABSENT"},
        content_type="application/json",
    )

    assert (response["statusCode"], response["body"]) == (200, "moved")
    assert (message(uid).dr_state, message(uid).error_code) == ("UNDELIV", "EC_ABSENT")


def test_a_json_receipt_nested_too_deeply_is_a_bad_request(aws, tenant, context):
    add_channel("HUB", "http_json")

    response = post_receipt(
        context, "HUB", ours("HUB"), "[" * 1000 + "]" * 1000, content_type="application/json"
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["message"] == "the receipt is not valid JSON"


def test_a_hub_status_outside_the_mapping_is_a_bad_request_that_changes_nothing(
    aws, tenant, context
):
    add_channel("HUB", "http_json")
    uid = submit(context, "HUB", carrier_id="H-1")

    response = post_receipt(
        context,
        "HUB",
        ours("HUB", uid),
        {"id": "H-1", "state": "MAYBE"},
        content_type="application/json",
    )

    assert response["statusCode"] == 400
    assert message(uid).dr_state == "SUBMITTED"


def test_raw_smpp_receipt_text_is_read_as_a_receipt(aws, tenant, context):
    uid = submit(context, "SIM")

    response = post_receipt(
        context,
        "SIM",
        ours("SIM", uid),
        "id:carrier-1 sub:001 dlvrd:000 submit date:2511261010 done date:2511261012 "
        "stat:EXPIRED err:027 text:Hello",
        content_type="text/plain",
    )

    assert response["body"] == "moved"
    assert (message(uid).dr_state, message(uid).error_code) == ("EXPIRED", "027")


def test_the_receipt_urls_uid_wins_over_one_a_form_field_names(aws, tenant, context):
    add_channel("JAS", "jasmin")
    uid = submit(context, "JAS", carrier_id=JASMIN_ID)
    other = submit(context, "JAS", carrier_id="other-id", to="+639215347567")

    post_receipt(context, "JAS", ours("JAS", uid), {**_jasmin_receipt("DELIVRD"), "uid": other})

    assert (message(uid).dr_state, message(other).dr_state) == ("DELIVRD", "SUBMITTED")


# --- unmatched receipts --------------------------------------------------------------------


def test_a_receipt_for_an_unknown_message_is_kept_for_reconciliation(aws, tenant, context):
    add_channel("JAS", "jasmin")

    response = post_receipt(context, "JAS", ours("JAS"), _jasmin_receipt("DELIVRD"))

    assert response["body"] == "ACK/Jasmin"
    [kept] = list(UnmatchedReceiptModel.query("JAS"))
    assert (kept.carrier_message_id, kept.state, kept.reconciled_at) == (
        JASMIN_ID,
        "DELIVRD",
        None,
    )
    assert kept.expires_at > 0


def _unmatched(context, role: str = "operator", query=None) -> dict:
    event = api_event(
        "GET", "/v1/admin/receipts/unmatched", "/v1/admin/receipts/unmatched", query=query
    )
    event["requestContext"]["authorizer"]["role"] = role
    return admin_app.lambda_handler(event, context)


def test_the_operator_lists_unmatched_receipts_without_the_receipt_secret(aws, tenant, context):
    secret = ours("SIM")["secret"]
    post_receipt(context, "SIM", kannel("NO-SUCH-UID", "SIM", "DELIVRD", "p-1"), method="GET")

    response = _unmatched(context, query={"channel": "SIM"})

    assert response["statusCode"] == 200
    [listed] = json.loads(response["body"])["receipts"]
    assert (listed["route_id"], listed["uid"], listed["dr_state"]) == (
        "SIM",
        "NO-SUCH-UID",
        "DELIVRD",
    )
    assert secret not in response["body"]


@pytest.mark.parametrize("channel", [{"channel": "SIM"}, {}])
def test_unmatched_receipts_page_on_with_their_cursor(aws, tenant, context, channel):
    for n in (1, 2):
        post_receipt(context, "SIM", kannel(f"NO-SUCH-UID-{n}", "SIM", "DELIVRD", f"p-{n}"))

    first = json.loads(_unmatched(context, query={**channel, "page_size": "1"})["body"])
    cursor = {**channel, "page_size": "1", "cursor": first["next_cursor"]}
    second = json.loads(_unmatched(context, query=cursor)["body"])

    uids = {r["uid"] for r in first["receipts"] + second["receipts"]}
    assert uids == {"NO-SUCH-UID-1", "NO-SUCH-UID-2"}
    # the first page says how many there are, as every paged list does
    assert (first["total"], first["total_exact"], len(first["receipts"])) == (2, True, 1)
    assert "total" not in second
    # the second page ends the list: no cursor to an empty third
    assert second["next_cursor"] is None


def _kept_unmatched(route_id: str, receipt_id: str) -> None:
    UnmatchedReceiptModel(
        route_id=route_id,
        receipt_id=receipt_id,
        uid=f"{route_id}-{receipt_id}",
        state="DELIVRD",
        received_at=utcnow(),
        expires_at=2_000_000_000,
    ).save()


def test_every_routes_unmatched_receipts_page_newest_first(aws, tenant, context):
    add_channel("KAN", "kannel")
    # Interleaved in time, and one id kept by both routes (ordered then by route, "SIM"
    # before "KAN" as the newest come first).
    for route_id, receipt_id in [
        ("SIM", "0001"),
        ("KAN", "0002"),
        ("SIM", "0003"),
        ("KAN", "0003"),
        ("SIM", "0004"),
        ("KAN", "0005"),
        ("KAN", "0006"),
    ]:
        _kept_unmatched(route_id, receipt_id)

    pages, cursor = [], None
    while True:
        query = {"page_size": "2", **({"cursor": cursor} if cursor else {})}
        page = json.loads(_unmatched(context, query=query)["body"])
        pages.append([r["uid"] for r in page["receipts"]])
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert pages == [
        ["KAN-0006", "KAN-0005"],
        ["SIM-0004", "SIM-0003"],
        ["KAN-0003", "KAN-0002"],
        ["SIM-0001"],
    ]


def test_every_routes_unmatched_receipts_page_to_the_last_when_one_route_has_them(
    aws, tenant, context
):
    for n in range(1, 6):
        _kept_unmatched("SIM", f"000{n}")

    first = json.loads(_unmatched(context, query={"page_size": "2"})["body"])
    second = json.loads(
        _unmatched(context, query={"page_size": "2", "cursor": first["next_cursor"]})["body"]
    )
    third = json.loads(
        _unmatched(context, query={"page_size": "2", "cursor": second["next_cursor"]})["body"]
    )

    assert [r["uid"] for r in first["receipts"] + second["receipts"] + third["receipts"]] == [
        f"SIM-000{n}" for n in range(5, 0, -1)
    ]
    assert third["next_cursor"] is None


def test_a_cursor_into_another_routes_unmatched_receipts_is_refused(aws, tenant, context):
    last_key = {"route_id": {"S": "OTHER"}, "receipt_id": {"S": "01A0"}}
    cursor = base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()

    response = _unmatched(context, query={"channel": "SIM", "cursor": cursor})

    assert response["statusCode"] == 400
    assert "the cursor is not one this API gave out" in response["body"]


@pytest.mark.parametrize(("channel", "named"), [("SIN", "SIN"), ("S" * 100_000, "S" * 40 + "…")])
def test_unmatched_receipts_of_a_channel_that_does_not_exist_are_not_found(
    aws, tenant, context, channel, named
):
    # Not an empty list, as if a mistyped channel had none; and a route id of 100 KB is
    # not handed to DynamoDB, which refuses a key that long (a 500).
    response = _unmatched(context, query={"channel": channel})

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["message"] == f"channel {named} does not exist"


def test_a_tenant_cannot_list_unmatched_receipts(aws, tenant, context):
    assert _unmatched(context, role="tenant")["statusCode"] == 403


# --- long messages ---------------------------------------------------------------------------


def test_one_delivered_part_of_two_does_not_deliver_a_long_message(aws, tenant, context):
    add_channel("KAN", "kannel")
    uid = submit(context, "KAN", text=LONG_TEXT)

    response = post_receipt(context, "KAN", kannel(uid, "KAN", "DELIVRD", "part-1"), method="GET")

    assert response["body"] == "part"
    assert message(uid).dr_state == "SUBMITTED"
    assert counted(uid)["delivered"] == 0


def test_a_long_message_is_delivered_when_every_part_is_and_counted_once(aws, tenant, context):
    add_channel("KAN", "kannel")
    uid = submit(context, "KAN", text=LONG_TEXT)
    receipts = [("part-1", "part"), ("part-1", "part"), ("part-2", "moved"), ("part-2", "ignored")]

    answers = [
        post_receipt(context, "KAN", kannel(uid, "KAN", "DELIVRD", part), method="GET")["body"]
        for part, _ in receipts
    ]

    assert answers == [expected for _, expected in receipts]
    assert message(uid).dr_state == "DELIVRD"
    assert counted(uid)["delivered"] == 1


def test_a_failed_part_fails_a_long_message_at_once(aws, tenant, context):
    add_channel("KAN", "kannel")
    uid = submit(context, "KAN", text=LONG_TEXT)
    post_receipt(context, "KAN", kannel(uid, "KAN", "DELIVRD", "part-1"), method="GET")

    post_receipt(context, "KAN", kannel(uid, "KAN", "UNDELIV", "part-2", mask="2"), method="GET")
    post_receipt(context, "KAN", kannel(uid, "KAN", "DELIVRD", "part-2"), method="GET")

    assert message(uid).dr_state == "UNDELIV"
    assert (counted(uid)["failed"], counted(uid)["delivered"]) == (1, 0)


@pytest.mark.parametrize("per_part", [True, False], ids=["per-part", "whole-message"])
def test_a_long_message_the_smsc_refused_for_a_while_is_not_sent_again(
    aws, tenant, context, per_part, monkeypatch
):
    """Some of its parts may have reached the handset: sent again, they would come twice."""
    from cloudsms.adapters import queues

    add_channel("KAN", "kannel", receipts_per_part=per_part)
    uid = submit(context, "KAN", text=LONG_TEXT)
    if per_part:
        post_receipt(context, "KAN", kannel(uid, "KAN", "DELIVRD", "part-1"), method="GET")
    requeued = []
    monkeypatch.setattr(queues, "enqueue", lambda *args, **kwargs: requeued.append(args))
    throttled = {
        **ours("KAN", uid),
        "status": "16",
        "answer": "NACK/0x00000058/Throttling error",
    }

    response = post_receipt(context, "KAN", throttled, method="GET")

    assert response["body"] == "moved"
    refused = message(uid)
    assert refused.dr_state == "SUBMIT_FAILED"
    assert "other parts may have been delivered" in refused.reason
    assert requeued == []
    assert (counted(uid)["submitted"], counted(uid)["failed"]) == (0, 1)


def test_a_channel_that_reports_a_long_message_once_delivers_it_on_one_receipt(
    aws, tenant, context
):
    add_channel("KAN1", "kannel", receipts_per_part=False)
    uid = submit(context, "KAN1", text=LONG_TEXT)

    response = post_receipt(context, "KAN1", kannel(uid, "KAN1", "DELIVRD", "whole"), method="GET")

    assert response["body"] == "moved"
    assert message(uid).dr_state == "DELIVRD"


# --- counters and cost -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "state", "delivered", "failed"),
    [
        (["ACCEPTD", "DELIVRD", "ENROUTE", "DELIVRD", "UNDELIV"], "DELIVRD", 1, 0),
        (["UNDELIV", "ACCEPTD", "DELIVRD", "UNDELIV"], "UNDELIV", 0, 1),
        (["DELIVRD", "DELIVRD", "DELIVRD"], "DELIVRD", 1, 0),
    ],
    ids=["delivered-then-noise", "failed-then-reordered", "triplicated"],
)
def test_duplicated_and_reordered_receipts_count_once(
    aws, tenant, context, sequence, state, delivered, failed
):
    uid = submit(context, "SIM")
    masks = {"ACCEPTD": "8", "ENROUTE": "4", "DELIVRD": "1", "UNDELIV": "2"}

    for stat in sequence:
        fields = kannel(uid, "SIM", stat, "c-1", mask=masks[stat])
        if stat in ("ACCEPTD", "ENROUTE"):
            fields["answer"] = ""
        post_receipt(context, "SIM", fields, method="GET")

    assert message(uid).dr_state == state
    for scope in ("tenant#acme", "channel#SIM"):
        numbers = counted(uid, scope)
        assert (numbers["delivered"], numbers["failed"], numbers["submitted"]) == (
            delivered,
            failed,
            1,
        )


def test_a_submission_counts_its_cost_at_the_channels_price_for_the_country(aws, tenant, context):
    add_channel("PRICED", "kannel", prices_usd={"default": "0.002", "by_country": {"63": "0.012"}})
    uid = submit(context, "PRICED", text=LONG_TEXT)

    post_receipt(context, "PRICED", kannel(uid, "PRICED", "UNDELIV", "p", mask="2"), method="GET")

    for scope in ("tenant#acme", "channel#PRICED"):
        assert (counted(uid, scope)["cost"], counted(uid, scope)["segments"]) == (24_000, 2)
