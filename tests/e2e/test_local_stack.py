"""The whole platform on one machine, over HTTP: send, submit, receipt, read back."""

import json
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.conftest import AUTH_CACHE_SECONDS, RECEIPT_DELAY
from tests.e2e.stack_process import cli

STATE_TIMEOUT = 15.0
HTTP_TIMEOUT = 10.0
FINAL = {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "SUBMIT_FAILED"}

# The carrier simulator chooses the outcome by the number's last digit.
OUTCOMES = {
    "0": "SUBMIT_FAILED",
    "1": "UNDELIV",
    "2": "EXPIRED",
    "3": "REJECTD",
    "4": "SUBMITTED",  # accepted, and no receipt ever comes
    "6": "DELIVRD",
}
# Messages that are not waited for go to a number without receipts, so that no receipt
# lands in the middle of another test's statistics.
SILENT_NUMBER = "+639215347564"


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _send(stack, numbers: list[str], key: str | None = None) -> list[str]:
    response = requests.post(
        f"{stack['api_url']}/v1/sms",
        json={
            "to": numbers,
            "text": "Hello from CloudSMS",
            "sms_type": "business",
            "channel": stack["channel"],
        },
        headers=_bearer(key or stack["api_key"]),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 202, response.text
    return [message["uid"] for message in response.json()["messages"]]


def _read(stack, uid: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(
        f"{stack['api_url']}/v1/sms/{uid}",
        headers=_bearer(stack["api_key"]) if headers is None else headers,
        timeout=HTTP_TIMEOUT,
    )


def _wait_for(stack, uid: str, states: set[str]) -> dict[str, Any]:
    """The message once it reaches one of `states` (or the last read at the deadline)."""
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        message = _read(stack, uid).json()
        if message["dr_state"] in states or time.monotonic() > deadline:
            return message
        time.sleep(0.1)


def _statistics(stack) -> dict[str, Any]:
    response = requests.get(
        f"{stack['api_url']}/v1/statistics",
        headers=_bearer(stack["api_key"]),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def sent_by_last_digit(stack) -> dict[str, str]:
    """One message per simulator outcome, sent in one request: last digit -> uid."""
    uids = _send(stack, [f"+63921534756{digit}" for digit in OUTCOMES])
    return dict(zip(OUTCOMES, uids, strict=True))


def test_a_sent_message_is_delivered_and_reads_back_delivered(stack):
    [uid] = _send(stack, ["+639215347566"])

    message = _wait_for(stack, uid, FINAL)

    assert message["dr_state"] == "DELIVRD"
    assert message["status"] == "delivered"
    assert message["submitted_at"] and message["receipt_at"]


@pytest.mark.parametrize("digit", [d for d, state in OUTCOMES.items() if state in FINAL])
def test_each_simulator_outcome_ends_in_its_state(stack, sent_by_last_digit, digit):
    message = _wait_for(stack, sent_by_last_digit[digit], FINAL)

    assert message["dr_state"] == OUTCOMES[digit]


def test_a_number_that_gets_no_receipt_stays_submitted(stack, sent_by_last_digit):
    # Its neighbour was submitted with it; once that one has its receipt, this one's
    # would have come too.
    _wait_for(stack, sent_by_last_digit["6"], FINAL)
    time.sleep(RECEIPT_DELAY * 3)

    message = _read(stack, sent_by_last_digit["4"]).json()

    assert (message["dr_state"], message["status"]) == ("SUBMITTED", "sent")


def test_a_request_without_a_key_is_unauthorized(stack):
    response = requests.get(f"{stack['api_url']}/v1/statistics", timeout=HTTP_TIMEOUT)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_request_with_a_wrong_key_is_unauthorized(stack):
    response = requests.get(
        f"{stack['api_url']}/v1/statistics", headers=_bearer("csk_wrong"), timeout=HTTP_TIMEOUT
    )

    assert response.status_code == 401


def test_the_key_may_come_in_the_x_api_key_header(stack):
    [uid] = _send(stack, [SILENT_NUMBER])

    response = _read(stack, uid, headers={"X-API-Key": stack["api_key"]})

    assert response.status_code == 200
    assert response.json()["uid"] == uid


def test_a_tenant_key_is_refused_on_an_operator_route_before_its_body_is_read(stack):
    def post_a_bad_channel(key: str) -> requests.Response:
        return requests.post(
            f"{stack['api_url']}/v1/admin/channels",
            json={"route_id": 7},
            headers=_bearer(key),
            timeout=HTTP_TIMEOUT,
        )

    tenant, operator = (
        post_a_bad_channel(stack["api_key"]),
        post_a_bad_channel(stack["operator_key"]),
    )

    assert tenant.status_code == 403, tenant.text
    assert "route_id" not in tenant.text
    assert operator.status_code == 400, operator.text
    assert "route_id" in operator.text


def test_a_key_revoked_with_the_cli_is_refused_once_the_cache_time_has_passed(stack, cloudsms_cli):
    issued = cloudsms_cli("key-issue", stack["tenant"], "--name", "to be revoked")
    url = f"{stack['api_url']}/v1/statistics"
    assert requests.get(url, headers=_bearer(issued["key"]), timeout=HTTP_TIMEOUT).ok

    cloudsms_cli("key-revoke", stack["tenant"], issued["key_id"])
    time.sleep(AUTH_CACHE_SECONDS + 0.2)

    response = requests.get(url, headers=_bearer(issued["key"]), timeout=HTTP_TIMEOUT)
    assert response.status_code == 401


def test_another_tenant_cannot_read_a_message(stack, cloudsms_cli):
    [uid] = _send(stack, [SILENT_NUMBER])
    cloudsms_cli("tenant-create", "other-e2e", "--name", "Other Enterprise")
    other = cloudsms_cli("key-issue", "other-e2e")

    response = _read(stack, uid, headers=_bearer(other["key"]))

    assert response.status_code == 404
    assert _read(stack, uid).status_code == 200


def test_the_statistics_count_a_delivery_on_its_dispatching_day(stack):
    before = _statistics(stack)
    [uid] = _send(stack, ["+639215347566"])
    message = _wait_for(stack, uid, FINAL)
    zone = ZoneInfo(before["time_zone"])
    day = datetime.fromisoformat(message["created_at"]).astimezone(zone).date().isoformat()

    def delivered(statistics: dict[str, Any]) -> int:
        return next((row["delivered"] for row in statistics["days"] if row["date"] == day), 0)

    # The statistics are kept from the Messages stream, moments after the receipt.
    after = _statistics(stack)
    deadline = time.monotonic() + 20
    while delivered(after) == delivered(before) and time.monotonic() < deadline:
        time.sleep(0.25)
        after = _statistics(stack)

    assert message["dr_state"] == "DELIVRD"
    assert delivered(after) == delivered(before) + 1


def test_the_operator_reads_a_channels_day_with_the_console_command(stack, cloudsms_cli):
    [uid] = _send(stack, ["+639215347566"])
    message = _wait_for(stack, uid, FINAL)
    zone = ZoneInfo(_statistics(stack)["time_zone"])
    day = datetime.fromisoformat(message["created_at"]).astimezone(zone).date().isoformat()

    # Counted from the Messages stream, moments after the receipt.
    deadline = time.monotonic() + 20
    while True:
        [row] = cloudsms_cli("channel-statistics", stack["channel"], "--from", day, "--to", day)
        if row["delivered"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.25)

    assert message["dr_state"] == "DELIVRD"
    assert row["date"] == day
    assert row["delivered"] >= 1 and row["submitted"] >= row["delivered"]


def test_a_list_put_to_the_upload_url_with_a_form_content_type_is_kept_whole(stack):
    # curl --data-binary sends application/x-www-form-urlencoded unless told otherwise;
    # S3 stores the body whatever its type, and so must the local stand-in.
    created = requests.post(
        f"{stack['api_url']}/v1/missions",
        json={
            "name": "uploaded by curl",
            "direction": "international",
            "sms_type": "business",
            "channel": stack["channel"],
            "content": "Hello from an upload",
        },
        headers=_bearer(stack["api_key"]),
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 201, created.text
    mission = created.json()

    uploaded = requests.put(
        mission["upload_url"],
        data=b"Phone Number\n+639215347566\n+639215347576\n",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=HTTP_TIMEOUT,
    )

    assert uploaded.status_code == 200, uploaded.text
    deadline = time.monotonic() + 20
    while True:
        read = requests.get(
            f"{stack['api_url']}/v1/missions/{mission['mission_id']}",
            headers=_bearer(stack["api_key"]),
            timeout=HTTP_TIMEOUT,
        ).json()
        # Sending passes as the dispatch puts its recipients on the queue.
        if read["status"] not in ("Uploading", "Sending") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (read["status"], read["phone_number_amount"]) == ("Sent", 2), read


def test_the_state_file_with_the_stacks_keys_is_readable_by_its_owner_only(stack):
    assert stat.S_IMODE(Path(stack["state_file"]).stat().st_mode) == 0o600


def test_a_tenant_created_without_a_time_zone_gets_the_stacks_default(stack, tmp_path):
    # The stack's DefaultTimeZone, as the command reads it from the stack's environment.
    state = json.loads(Path(stack["state_file"]).read_text())
    state["environment"]["DEFAULT_TIME_ZONE"] = "Europe/Paris"
    (tmp_path / "stack.json").write_text(json.dumps(state))

    created = cli(
        {**stack, "state_file": tmp_path / "stack.json"},
        "tenant-create",
        "paris",
        "--name",
        "Paris",
    )
    given = cli(stack, "tenant-create", "lima", "--name", "Lima", "--time-zone", "America/Lima")

    assert (created["time_zone"], given["time_zone"]) == ("Europe/Paris", "America/Lima")


def test_the_operator_manages_a_channel_with_the_console_command(stack, cloudsms_cli):
    route = "CLI_ROUTE"
    added = _add_simulator_channel(stack, route, "first-pa55word")
    cloudsms_cli("tenant-create", "cli-tenant", "--name", "CLI Tenant")
    cloudsms_cli("channel-grant", "cli-tenant", route)
    key = cloudsms_cli("key-issue", "cli-tenant")["key"]

    changed = cli(
        stack,
        "channel-update",
        route,
        "--throughput",
        "5",
        "--price",
        "default=0.004",
        "--password-stdin",
        stdin="second-pa55word\n",
    )
    shown = cloudsms_cli("channel-show", route)
    listed = [channel["route_id"] for channel in cloudsms_cli("channel-list")]
    sent_while_granted = _send_on(stack, key, route)
    cloudsms_cli("channel-revoke", "cli-tenant", route)
    sent_after_revoke = _send_on(stack, key, route)
    grant_unknown = _cli_failing(stack, "channel-grant", "cli-tenant", "NO_SUCH_ROUTE")

    assert (added["throughput"], changed["throughput"], shown["throughput"]) == (0, 5, 5)
    assert shown["prices_usd"] == {"default": "0.004", "by_country": {}}
    assert shown["endpoint"] == stack["simulator_url"]  # not given, so kept
    assert "pa55word" not in str(added) + str(changed) + str(shown)
    assert route in listed and stack["channel"] in listed
    assert sent_while_granted == 202
    assert sent_after_revoke == 403
    assert grant_unknown.returncode != 0
    assert "channel NO_SUCH_ROUTE does not exist" in grant_unknown.stderr


def _send_on(stack, key: str, route: str) -> int:
    response = requests.post(
        f"{stack['api_url']}/v1/sms",
        json={"to": ["+639215347566"], "text": "Hi", "sms_type": "business", "channel": route},
        headers=_bearer(key),
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code


def _cli_failing(stack, *arguments: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "cloudsms"
    return subprocess.run(
        [str(script), "--local", str(stack["state_file"]), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_operator_sells_a_prepaid_package_with_the_console_command_and_sending_spends_it(
    stack, cloudsms_cli
):
    route = "CLI_PACK"
    # The simulator's own credentials: a message it refused would come back to the order.
    _add_simulator_channel(stack, route, "sim", username="sim")
    prepaid = cloudsms_cli(
        "package-add",
        "--name",
        "CLI 3 SMS",
        "--channel",
        route,
        "--prepaid",
        "--sms-amount",
        "3",
        "--validity-days",
        "30",
    )
    postpaid = cloudsms_cli(
        "package-add",
        "--name",
        "CLI monthly",
        "--channel",
        route,
        "--postpaid",
        "--warning-usd",
        "8",
        "--prohibit-usd",
        "10",
    )
    listed = {package["package_id"]: package for package in cloudsms_cli("package-list")}

    ordered = cloudsms_cli("order-add", stack["tenant"], prepaid["package_id"])
    held = _order(cloudsms_cli, stack["tenant"], ordered["order_number"])
    sent = [_post_sms(stack, route, [SILENT_NUMBER]).status_code for _ in range(2)]
    # Two numbers without receipts: a request that needs 2 SMS where 1 is left.
    refused = _post_sms(stack, route, ["+639215347554", "+639215347544"])
    spent = _order(cloudsms_cli, stack["tenant"], ordered["order_number"])
    inconsistent = _cli_failing(
        stack,
        "package-add",
        "--name",
        "CLI bad",
        "--channel",
        route,
        "--postpaid",
        "--warning-usd",
        "10",
        "--prohibit-usd",
        "8",
    )

    assert (prepaid["payment_type"], prepaid["sms_amount"]) == ("prepaid", 3)
    assert (prepaid["validity_days"], prepaid["warning_usd"]) == (30, None)
    assert (postpaid["payment_type"], postpaid["warning_usd"]) == ("postpaid", "8")
    assert (postpaid["prohibit_usd"], postpaid["sms_amount"]) == ("10", None)
    assert listed[prepaid["package_id"]] == prepaid
    assert listed[postpaid["package_id"]] == postpaid
    assert ordered["order_number"].startswith("CloudSMS_")
    assert (ordered["package_id"], ordered["channel"]) == (prepaid["package_id"], route)
    assert (held["remaining"], held["status"]) == (3, "activated")
    assert sent == [202, 202]
    assert refused.status_code == 403, refused.text
    assert "have 1 SMS left; this needs 2" in refused.json()["error"]["message"]
    assert (spent["remaining"], spent["status"]) == (1, "activated")
    assert inconsistent.returncode != 0
    assert "warning_usd must not be above prohibit_usd" in inconsistent.stderr


def _order(cloudsms_cli, tenant: str, order_number: str) -> dict[str, Any]:
    [order] = [o for o in cloudsms_cli("order-list", tenant) if o["order_number"] == order_number]
    return order


def _post_sms(stack, route: str, numbers: list[str]) -> requests.Response:
    return requests.post(
        f"{stack['api_url']}/v1/sms",
        json={"to": numbers, "text": "Hi", "sms_type": "business", "channel": route},
        headers=_bearer(stack["api_key"]),
        timeout=HTTP_TIMEOUT,
    )


def _add_simulator_channel(
    stack, route: str, password: str, username: str = "cli-user"
) -> dict[str, Any]:
    """`cloudsms channel-add` of a channel on the stack's carrier simulator (which takes
    only its own credentials, sim/sim: others get their messages refused)."""
    return cli(
        stack,
        "channel-add",
        route,
        "--type",
        "simulator",
        "--endpoint",
        stack["simulator_url"],
        "--username",
        username,
        "--password-stdin",
        stdin=f"{password}\n",
    )


CMI_TENANT = "cmi-client"


def _cmi(stack, body: dict[str, Any]) -> requests.Response:
    # As clients written for the CMI API post it: raw JSON, no key header, and here a
    # Content-Type that is not JSON's.
    return requests.post(
        f"{stack['api_url']}/v1/cmi",
        data=json.dumps(body),
        headers={"Content-Type": "text/plain"},
        timeout=HTTP_TIMEOUT,
    )


def test_a_cmi_client_sends_and_follows_its_message_to_delivery(stack, cloudsms_cli):
    # A tenant of its own, so that the other tests' statistics stay exact.
    cloudsms_cli("tenant-create", CMI_TENANT, "--name", "CMI client")
    cloudsms_cli("channel-grant", CMI_TENANT, stack["channel"])
    key = cloudsms_cli("key-issue", CMI_TENANT, "--name", "CMI client")["key"]
    envelope = {"TYPE": "REQUEST", "TIME": "2026-11-27 10:00:00", "VERSION": "2021-01-01"}
    send = {
        **envelope,
        "METHOD": "SMS_SEND_REQUEST",
        "SERIAL": 1,
        "AUTH_KEY": key,
        "ROUTE_ID": stack["channel"],
        "SMS_CONTENT": "Your parcel arrives today",
        "MULTI_MSISDN_LIST": [{"DEST_MSISDN": "9215347566", "COUNTRY_CODE": 63}],
    }

    refused = _cmi(stack, {**send, "AUTH_KEY": "csk_not-a-key"})
    sent = _cmi(stack, send)

    assert refused.status_code == 401 and refused.json()["RESULT_DESC"] == "INVALID_AUTH_KEY"
    assert sent.status_code == 200, sent.text
    uid = sent.json()["DETAIL_LIST"][0]["SMS_UID"]
    query = {**envelope, "METHOD": "DR_QUERY", "SERIAL": 2, "AUTH_KEY": key, "SMS_UID": [uid]}
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        answer = _cmi(stack, query).json()
        [report] = answer["DETAIL_LIST"]
        if report["DR_STATE"] in FINAL or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (report["RESULT_CODE"], report["DR_STATE"], report["STATUS"]) == (
        1,
        "DELIVRD",
        "delivered",
    )
    assert report["DONE_TIME"] is not None
