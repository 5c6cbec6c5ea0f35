"""Number lists arriving through S3: a mission's presigned upload, and operators' manifests.

S3's ObjectCreated notification is played by calling the ingest function with the event
S3 would send (the key URL-encoded as S3 encodes it).
"""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError

from cloudsms.adapters import storage
from cloudsms.domain import numberlist
from cloudsms.domain.mission import MissionFields
from cloudsms.errors import Conflict
from cloudsms.services import blacklist, dispatch, missions, scheduling, staging
from cloudsms.services.tenants import get_tenant
from cloudsms.services.upload_deadline import UPLOAD_GRACE, fail_missions_without_list
from cloudsms.services.uploads import RESULT_SUFFIX
from cloudsms.settings import get_settings
from cloudsms.store.missions import MissionModel, get_mission
from functions.missions import app as missions_app
from tests.integration import missions_api as api
from tests.integration.conftest import throttled
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    MORNING,
    NOON,
    NOON_UTC,
    queued_recipients,
    schedules,
    staged_keys,
)
from tests.unit import numberlist_corpus as corpus


def _bucket(aws: Any) -> str:
    return aws.environment["UPLOAD_BUCKET"]


def _put(aws: Any, key: str, data: bytes) -> None:
    boto3.client("s3").put_object(Bucket=_bucket(aws), Key=key, Body=data)


def _read_json(aws: Any, key: str) -> Any:
    return json.loads(boto3.client("s3").get_object(Bucket=_bucket(aws), Key=key)["Body"].read())


def _create_uploading() -> dict[str, Any]:
    status, mission = api.call(
        missions_app, "POST", "/v1/missions", "/v1/missions", body=GUIDE_FIELDS
    )
    assert status == 201, mission
    return mission  # type: ignore[no-any-return]


def _upload_key(mission: dict[str, Any]) -> str:
    return f"uploads/acme/{mission['mission_id']}/number-list"


# --- a mission's own upload -------------------------------------------------------------


def test_a_mission_created_without_a_list_is_uploading_with_an_upload_url(aws, tenant):
    mission = _create_uploading()

    assert mission["status"] == "Uploading"
    assert _upload_key(mission) in mission["upload_url"]
    assert queued_recipients(aws) == []


def test_a_mission_still_uploading_lists_no_abnormal_or_blacklisted_rows_of_total_0(aws, tenant):
    mission = _create_uploading()

    for page in ("abnormal", "blacklisted"):
        path = f"/v1/missions/{mission['mission_id']}/{page}"
        answer = api.call(api.send_app, "GET", path, "/v1/missions/{mission_id}/" + page)
        assert answer == (200, {"items": [], "next_cursor": None, "total": 0, "total_exact": True})


def test_a_list_put_through_the_upload_url_stages_and_sends_the_mission(aws, tenant):
    mission = _create_uploading()
    uploaded = requests.put(mission["upload_url"], data=corpus.guide_xlsx(), timeout=10)
    assert uploaded.status_code == 200

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"]) == ("Sent", 2)
    assert [r["text"].split(",")[0] for r in queued_recipients(aws)] == [
        "[CloudSMS] Hello Amy",
        "[CloudSMS] Hello Bob",
    ]


def test_an_uploaded_list_that_cannot_be_used_fails_the_mission_with_the_reason(aws, tenant):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.encrypted_xlsx())

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert (failed["status"], failed["failure_reason"]) == ("Failed", numberlist.ENCRYPTED)
    assert staged_keys(aws) == []
    assert queued_recipients(aws) == []


def test_an_uploaded_list_with_nothing_sendable_fails_the_mission_which_lists_its_rows(aws, tenant):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.xlsx([corpus.GUIDE_ROWS[0], ["123", "A", "a.com"]]))

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert failed["status"] == "Failed"
    assert failed["failure_reason"] == (
        "no number in the list can be sent: 1 abnormal row(s), 0 blacklisted;"
        " row 2 ('123'): not a valid phone number"
    )
    assert failed["failure_amount"] == 1
    # Every row the amount counts is listed, as a sent mission's are; nothing to send.
    abnormal = api.list_of(mission["mission_id"], "abnormal")
    assert abnormal["items"] == [{"row": 2, "raw": "123", "reason": "not a valid phone number"}]
    assert abnormal["total"] == 1
    assert not any(key.endswith(staging.RECIPIENTS) for key in staged_keys(aws))
    assert queued_recipients(aws) == []


def test_an_uploaded_list_of_blacklisted_numbers_fails_the_mission_which_lists_them(aws, tenant):
    blacklist.add_numbers("acme", [corpus.GUIDE_ROWS[1][0]])
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.xlsx(corpus.GUIDE_ROWS[:2]))

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert (failed["status"], failed["blacklist_amount"]) == ("Failed", 1)
    listed = api.list_of(mission["mission_id"], "blacklisted")
    assert [item["row"] for item in listed["items"]] == [2]
    assert listed["total"] == 1


def test_a_failed_missions_reason_names_a_long_cell_by_its_start(aws, tenant):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.xlsx([corpus.GUIDE_ROWS[0], ["9" * 30_000, "A", "a"]]))

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert failed["failure_reason"] == (
        "no number in the list can be sent: 1 abnormal row(s), 0 blacklisted;"
        f" row 2 ('{'9' * 40}…'): not a valid phone number"
    )


def test_a_failed_missions_reason_names_its_first_three_abnormal_rows(aws, tenant):
    mission = _create_uploading()
    bad = [[f"12{n}", "A", "a.com"] for n in range(5)]
    _put(aws, _upload_key(mission), corpus.xlsx([corpus.GUIDE_ROWS[0], *bad]))

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert failed["failure_reason"] == (
        "no number in the list can be sent: 5 abnormal row(s), 0 blacklisted;"
        " row 2 ('120'): not a valid phone number; row 3 ('121'): not a valid phone number;"
        " row 4 ('122'): not a valid phone number"
    )
    assert failed["failure_amount"] == 5


def test_a_staged_list_whose_mission_could_not_be_saved_is_ingested_again(aws, tenant, monkeypatch):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(PutError)

    monkeypatch.setattr(MissionModel, "save", refused)
    # Raised, so that Lambda runs the upload's event again, rather than left Uploading.
    with pytest.raises(PutError):
        api.ingest_object(_bucket(aws), _upload_key(mission))
    monkeypatch.undo()
    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"]) == ("Sent", 2)


def test_an_uploaded_list_over_the_size_limit_fails_the_mission(aws, tenant):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.oversize_csv(1_048_576))

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, failed = api.get_mission(mission["mission_id"])
    assert failed["status"] == "Failed"
    assert "larger than 1,048,576 bytes" in failed["failure_reason"]


class _ReadsRecorded:
    """The upload bucket's client, recording which objects' bytes are read; `before_get`
    runs as an object is asked for (to replace it, as a second upload would)."""

    def __init__(self, s3: Any, before_get: Callable[[], None] = lambda: None):
        self.s3 = s3
        self.before_get = before_get
        self.read: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)

    def get_object(self, **params: Any) -> dict[str, Any]:
        self.before_get()
        answer = self.s3.get_object(**params)
        body, key = answer["Body"], params["Key"]

        class Body:
            def read(_, *args: Any) -> bytes:
                self.read.append(key)
                return body.read(*args)

            def close(_) -> None:
                body.close()

        return {**answer, "Body": Body()}


def _record_reads(monkeypatch, before_get: Callable[[], None] = lambda: None) -> _ReadsRecorded:
    s3 = _ReadsRecorded(boto3.client("s3"), before_get)
    monkeypatch.setattr(storage, "client", lambda name: s3)
    return s3


def test_a_list_replaced_by_a_larger_one_as_it_is_read_is_refused_unread(aws, tenant, monkeypatch):
    # The tenant uploads again to the same URL just as the first upload's ingest starts:
    # the size that decides is that of the bytes about to be read.
    mission = _create_uploading()
    key = _upload_key(mission)
    _put(aws, key, corpus.guide_xlsx())
    s3 = _record_reads(monkeypatch, lambda: _put(aws, key, corpus.oversize_csv(1_048_576)))

    api.ingest_object(_bucket(aws), key)

    _, failed = api.get_mission(mission["mission_id"])
    assert failed["status"] == "Failed"
    assert "larger than 1,048,576 bytes" in failed["failure_reason"]
    assert key not in s3.read


def _uploading_for(dispatch_at: str) -> dict[str, Any]:
    """A mission created at MORNING for `dispatch_at`, waiting for its list."""
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": dispatch_at})
    return missions.create_mission(get_tenant("acme"), fields, None, MORNING)


def _clock(*times: datetime) -> Callable[[], datetime]:
    """A clock that reads each of `times` in turn, then stays at the last."""
    left = list(times)
    return lambda: left.pop(0) if len(left) > 1 else left[0]


def test_a_list_arriving_after_the_dispatch_time_fails_the_mission_and_sends_nothing(aws, tenant):
    mission = _uploading_for(NOON)
    _put(aws, _upload_key(mission), corpus.guide_xlsx())

    missions.ingest_upload("acme", mission["mission_id"], _clock(NOON_UTC + timedelta(minutes=1)))

    _, failed = api.get_mission(mission["mission_id"])
    assert (failed["status"], failed["failure_reason"]) == ("Failed", missions.LIST_TOO_LATE)
    assert queued_recipients(aws) == []


@pytest.mark.parametrize(
    "staged_at",
    [NOON_UTC + timedelta(seconds=5), NOON_UTC - timedelta(seconds=30)],
    ids=["past its time", "within a minute of it"],
)
def test_a_list_arriving_in_time_whose_time_comes_while_it_is_staged_is_dispatched_at_once(
    aws, tenant, staged_at
):
    # Given a list that arrives 10 seconds before noon, its mission's time
    mission = _uploading_for(NOON)
    _put(aws, _upload_key(mission), corpus.guide_xlsx())

    # When staging it takes until `staged_at`
    arrived_at = NOON_UTC - timedelta(seconds=10)
    if staged_at < arrived_at:
        arrived_at = staged_at - timedelta(minutes=2)
    missions.ingest_upload("acme", mission["mission_id"], _clock(arrived_at, staged_at))

    # Then it goes out now rather than wait on a schedule for a time (nearly) past
    sent = get_mission("acme", mission["mission_id"], consistent=True)
    assert (sent.status, sent.dispatching_date) == ("Sent", staged_at)
    assert len(queued_recipients(aws)) == 2
    assert schedules() == {}


def test_a_list_staged_seconds_before_the_sending_window_opens_waits_for_its_time(aws, tenant):
    mission = _uploading_for("2026-12-02T08:00:00+08:00")  # the window's first minute
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    eight = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)

    missions.ingest_upload(
        "acme",
        mission["mission_id"],
        _clock(eight - timedelta(minutes=2), eight - timedelta(seconds=30)),
    )

    # Not sent at 07:59:30, outside the window: Scheduler sends it at 08:00.
    waiting = get_mission("acme", mission["mission_id"], consistent=True)
    assert waiting.status == "Scheduled"
    assert queued_recipients(aws) == []
    assert len(schedules()) == 1


def test_a_list_staged_past_its_time_and_the_sending_window_fails_the_mission(aws, tenant):
    mission = _uploading_for("2026-12-01T22:00:00+08:00")  # the window's last minute
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    ten_at_night = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)

    missions.ingest_upload(
        "acme",
        mission["mission_id"],
        _clock(ten_at_night - timedelta(seconds=10), ten_at_night + timedelta(minutes=3)),
    )

    failed = get_mission("acme", mission["mission_id"], consistent=True)
    assert failed.status == "Failed"
    assert "its number list was staged late, at 22:03 (Asia/Shanghai), outside the" in (
        failed.failure_reason
    )
    assert queued_recipients(aws) == []
    assert schedules() == {}


def test_a_list_staged_at_its_time_whose_dispatch_stopped_is_sent_once_when_retried(
    aws, tenant, monkeypatch
):
    mission = _uploading_for(NOON)
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    clock = _clock(NOON_UTC - timedelta(seconds=10), NOON_UTC + timedelta(seconds=5))
    working = dispatch.dispatch

    def stopped(*args: Any) -> bool:
        raise RuntimeError("the invocation stopped")

    monkeypatch.setattr(dispatch, "dispatch", stopped)
    with pytest.raises(RuntimeError):
        missions.ingest_upload("acme", mission["mission_id"], clock)
    assert get_mission("acme", mission["mission_id"], consistent=True).status == "Unsent"
    monkeypatch.setattr(dispatch, "dispatch", working)

    # The upload's event delivered again, and once more
    missions.ingest_upload("acme", mission["mission_id"], clock)
    missions.ingest_upload("acme", mission["mission_id"], clock)

    assert get_mission("acme", mission["mission_id"], consistent=True).status == "Sent"
    assert len(queued_recipients(aws)) == 2
    assert schedules() == {}


def test_a_mission_still_uploading_can_be_cancelled_and_its_list_is_then_ignored(aws, tenant):
    mission = _create_uploading()

    status, _ = api.cancel(mission["mission_id"])
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), _upload_key(mission))

    assert status == 200
    _, cancelled = api.get_mission(mission["mission_id"])
    assert cancelled["status"] == "Cancelled"
    assert queued_recipients(aws) == []


def test_a_cancel_of_an_uploading_mission_that_loses_to_another_says_it_was_cancelled(aws, tenant):
    mission_id = _create_uploading()["mission_id"]
    read_before = get_mission("acme", mission_id)  # both read it Uploading
    scheduling.cancel(get_mission("acme", mission_id), MORNING)

    with pytest.raises(Conflict, match="^the mission was cancelled meanwhile$"):
        scheduling.cancel(read_before, MORNING)


def test_moving_a_mission_still_uploading_says_to_cancel_it_and_create_it_again(aws, tenant):
    mission_id = _create_uploading()["mission_id"]

    with pytest.raises(Conflict) as refused:
        scheduling.reschedule(
            get_mission("acme", mission_id),
            get_tenant("acme"),
            "2026-12-01T14:00:00+08:00",
            MORNING,
        )

    assert refused.value.message == (
        "a mission still waiting for its number list cannot be moved:"
        " cancel it and create it again with the new time"
    )
    assert get_mission("acme", mission_id).status == "Uploading"


def _url_expired(mission: dict[str, Any], then: timedelta) -> datetime:
    """`then` after the mission's upload URL expired."""
    created = datetime.fromisoformat(mission["created_at"])
    return created + timedelta(seconds=get_settings().upload_url_seconds) + then


def test_a_mission_whose_list_never_comes_fails_an_hour_after_its_upload_url_expired(aws, tenant):
    mission = _create_uploading()

    early = fail_missions_without_list(_url_expired(mission, UPLOAD_GRACE - timedelta(minutes=1)))
    _, waiting = api.get_mission(mission["mission_id"])
    late = fail_missions_without_list(_url_expired(mission, UPLOAD_GRACE + timedelta(minutes=1)))
    _, failed = api.get_mission(mission["mission_id"])
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), _upload_key(mission))
    _, after_a_late_list = api.get_mission(mission["mission_id"])

    assert (early, waiting["status"]) == (0, "Uploading")
    assert (late, failed["status"]) == (1, "Failed")
    assert failed["failure_reason"] == (
        "no number list arrived while its upload URL was valid (60 minutes);"
        " create the mission again"
    )
    assert after_a_late_list["status"] == "Failed"
    assert queued_recipients(aws) == []


def test_a_mission_whose_list_came_or_that_was_cancelled_is_not_failed(aws, tenant):
    uploaded, cancelled = _create_uploading(), _create_uploading()
    _put(aws, _upload_key(uploaded), corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), _upload_key(uploaded))
    api.cancel(cancelled["mission_id"])

    failed = fail_missions_without_list(_url_expired(cancelled, UPLOAD_GRACE + timedelta(hours=1)))

    assert failed == 0
    assert api.get_mission(uploaded["mission_id"])[1]["status"] == "Sent"
    assert api.get_mission(cancelled["mission_id"])[1]["status"] == "Cancelled"


def test_a_second_upload_to_a_sent_mission_sends_nothing_more(aws, tenant):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), _upload_key(mission))
    queued_recipients(aws)

    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"]) == ("Sent", 2)
    assert queued_recipients(aws) == []


def _ingest_as_if_read_before(
    aws: Any, monkeypatch: pytest.MonkeyPatch, mission: dict[str, Any], data: bytes | None
) -> Callable[[], None]:
    """An ingest that read the mission while it was still Uploading (its event came while
    another ingest was staging) and goes on from there later, when it is called: `data`
    is the list uploaded to the same URL meanwhile (None: the same object, its event
    delivered again)."""
    uploading = get_mission("acme", mission["mission_id"], consistent=True)
    assert uploading.status == "Uploading"

    def ingest() -> None:
        if data is not None:
            _put(aws, _upload_key(mission), data)
        with monkeypatch.context() as patched:
            patched.setattr(missions, "get_mission", lambda *_, **__: uploading)
            api.ingest_object(_bucket(aws), _upload_key(mission))

    return ingest


def _during_dispatch(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """`action` runs once, after a dispatch claimed its mission (and charged it) and
    before it reads the staged recipients."""
    blacklisted_at_dispatch = dispatch._blacklisted_at_dispatch

    def then(mission: MissionModel) -> Any:
        monkeypatch.setattr(dispatch, "_blacklisted_at_dispatch", blacklisted_at_dispatch)
        action()
        return blacklisted_at_dispatch(mission)

    monkeypatch.setattr(dispatch, "_blacklisted_at_dispatch", then)


def _names(recipients: list[dict[str, Any]]) -> list[str]:
    return [r["text"].split(",")[0].removeprefix("[CloudSMS] Hello ") for r in recipients]


def _kept_staging(aws: Any, mission_id: str) -> list[str]:
    prefix = get_mission("acme", mission_id, consistent=True).staged_prefix
    assert prefix
    return sorted(key for key in staged_keys(aws) if key.startswith(prefix))


def test_a_list_uploaded_again_while_the_first_is_dispatched_is_ignored_not_sent(
    aws, tenant, monkeypatch
):
    # Given a mission whose first list (Amy, Bob) is being ingested
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    corrected = corpus.xlsx(
        [
            corpus.GUIDE_ROWS[0],
            *([f"+63917555012{n}", name, "x.com"] for n, name in enumerate("CDE")),
        ]
    )
    # When the tenant uploads a corrected list at once, whose ingest read the mission still
    # Uploading and stages it after the first list's dispatch claimed (and charged) it
    _during_dispatch(monkeypatch, _ingest_as_if_read_before(aws, monkeypatch, mission, corrected))
    api.ingest_object(_bucket(aws), _upload_key(mission))

    # Then the first list, the one the mission recorded, is the one sent, and only it
    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"], sent["segments"]) == ("Sent", 2, 2)
    assert _names(queued_recipients(aws)) == ["Amy", "Bob"]
    # and the later list left no staged files behind
    assert staged_keys(aws) == _kept_staging(aws, mission["mission_id"])


def test_an_unusable_list_uploaded_again_does_not_fail_a_mission_already_sent(
    aws, tenant, monkeypatch
):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    wrong = _ingest_as_if_read_before(aws, monkeypatch, mission, corpus.encrypted_xlsx())
    api.ingest_object(_bucket(aws), _upload_key(mission))

    wrong()

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["failure_reason"], sent["phone_number_amount"]) == (
        "Sent",
        None,
        2,
    )


def test_an_upload_event_delivered_twice_at_once_sends_the_list_once(aws, tenant, monkeypatch):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    # S3 delivers the object's event twice: the second ingest stages the same object
    # while the first dispatches it.
    _during_dispatch(monkeypatch, _ingest_as_if_read_before(aws, monkeypatch, mission, None))
    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"]) == ("Sent", 2)
    assert _names(queued_recipients(aws)) == ["Amy", "Bob"]
    assert [key.rsplit("/", 1)[1] for key in staged_keys(aws)] == sorted(
        [
            staging.ABNORMAL,
            staging.BLACKLISTED,
            staging.BLACKLISTED_AT_DISPATCH,
            staging.RECIPIENTS,
        ]
    )
    assert staged_keys(aws) == _kept_staging(aws, mission["mission_id"])


def test_a_staging_saved_whose_answer_was_lost_is_kept_and_dispatched(aws, tenant, monkeypatch):
    mission = _create_uploading()
    _put(aws, _upload_key(mission), corpus.guide_xlsx())
    save = MissionModel.save

    def written_then_refused(self: MissionModel, *args: Any, **kwargs: Any) -> Any:
        # The write lands, its answer is lost, and the SDK's retry finds the condition
        # no longer holds: DynamoDB answers the retry as a lost race.
        save(self, *args, **kwargs)
        code = {"Code": "ConditionalCheckFailedException", "Message": "condition failed"}
        raise PutError("refused", cause=ClientError({"Error": code}, "PutItem"))

    monkeypatch.setattr(MissionModel, "save", written_then_refused)
    api.ingest_object(_bucket(aws), _upload_key(mission))

    _, sent = api.get_mission(mission["mission_id"])
    assert (sent["status"], sent["phone_number_amount"]) == ("Sent", 2)
    assert _names(queued_recipients(aws)) == ["Amy", "Bob"]
    assert len(_kept_staging(aws, mission["mission_id"])) == 4


# --- operators' manifests ---------------------------------------------------------------


def _manifest(aws: Any, name: str, manifest: Any, list_name: str, data: bytes) -> str:
    _put(aws, f"uploads/acme/{list_name}", data)
    key = f"uploads/acme/{name}.json"
    _put(aws, key, json.dumps(manifest).encode())
    return key


def test_a_manifest_creates_and_sends_a_mission_and_writes_the_result_next_to_it(aws, tenant):
    # A name with a space: S3 sends it as "+" in the event, and "/" as %2F.
    key = _manifest(
        aws,
        "spring sale",
        {"mission": {**GUIDE_FIELDS, "name": "Spring sale"}, "number_list": "spring sale.xlsx"},
        "spring sale.xlsx",
        corpus.guide_xlsx(),
    )

    api.ingest_object(_bucket(aws), key)

    result = _read_json(aws, "uploads/acme/spring sale" + RESULT_SUFFIX)
    assert result["accepted"] is True
    [listed] = api.list_missions()["items"]
    assert listed["mission_id"] == result["mission"]["mission_id"]
    assert (listed["name"], listed["status"], listed["phone_number_amount"]) == (
        "Spring sale",
        "Sent",
        2,
    )


def test_a_manifest_delivered_again_creates_no_second_mission(aws, tenant):
    manifest = {"mission": GUIDE_FIELDS, "number_list": "list.xlsx"}
    key = _manifest(aws, "once", manifest, "list.xlsx", corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), key)
    first = _read_json(aws, "uploads/acme/once" + RESULT_SUFFIX)
    queued_recipients(aws)

    # S3 delivers the same upload's event again (or Lambda retries it).
    api.ingest_object(_bucket(aws), key)

    again = _read_json(aws, "uploads/acme/once" + RESULT_SUFFIX)
    assert again["mission"]["mission_id"] == first["mission"]["mission_id"]
    assert len(api.list_missions()["items"]) == 1
    assert queued_recipients(aws) == []


def test_a_manifest_uploaded_again_creates_another_mission(aws, tenant):
    manifest = {"mission": GUIDE_FIELDS, "number_list": "list.xlsx"}
    key = _manifest(aws, "twice", manifest, "list.xlsx", corpus.guide_xlsx())
    api.ingest_object(_bucket(aws), key)
    time.sleep(0.01)  # S3 keeps milliseconds of the upload time

    _put(aws, key, json.dumps({**manifest, "mission": {**GUIDE_FIELDS, "name": "Again"}}).encode())
    api.ingest_object(_bucket(aws), key)

    assert [m["name"] for m in api.list_missions()["items"]] == ["Again", GUIDE_FIELDS["name"]]


def test_a_mission_created_again_under_its_id_leaves_the_first_ones_staged_list_alone(aws, tenant):
    # A manifest's mission, created by its first delivery, waits for its time
    fields = MissionFields.model_validate({**GUIDE_FIELDS, "dispatch_at": NOON})
    mission_id = "019ABCDEF012345678"
    missions.create_mission(get_tenant("acme"), fields, corpus.guide_xlsx(), MORNING, mission_id)

    # The event delivered again after the operator replaced the list the manifest names
    other = corpus.xlsx([corpus.GUIDE_ROWS[0], ["+639175550120", "Cy", "x.com"]])
    with pytest.raises(Conflict):
        missions.create_mission(get_tenant("acme"), fields, other, MORNING, mission_id)
    fired = dispatch.fire_scheduled("acme", mission_id, NOON_UTC)

    assert fired == "dispatched"
    assert _names(queued_recipients(aws)) == ["Amy", "Bob"]
    assert staged_keys(aws) == _kept_staging(aws, mission_id)  # the refused list left none


@pytest.mark.parametrize(
    ("manifest", "data", "reason"),
    [
        ({"mission": GUIDE_FIELDS}, corpus.guide_xlsx(), "number_list"),
        (
            {"mission": {**GUIDE_FIELDS, "name": "x" * 31}, "number_list": "list.xlsx"},
            corpus.guide_xlsx(),
            "name",
        ),
        (
            {"mission": {**GUIDE_FIELDS, "channel": "NOPE"}, "number_list": "list.xlsx"},
            corpus.guide_xlsx(),
            "channel NOPE is not assigned",
        ),
        (
            {"mission": GUIDE_FIELDS, "number_list": "list.xlsx"},
            corpus.xls(),
            numberlist.OLD_XLS,
        ),
        (
            {"mission": GUIDE_FIELDS, "number_list": "../other/list.xlsx"},
            corpus.guide_xlsx(),
            "own folder",
        ),
        ("not an object", corpus.guide_xlsx(), "cannot be read"),
    ],
    ids=["no list named", "bad field", "channel not granted", "bad list", "other folder", "junk"],
)
def test_a_bad_manifest_creates_no_mission_and_its_result_says_why(
    aws, tenant, manifest, data, reason
):
    key = _manifest(aws, "order", manifest, "list.xlsx", data)

    api.ingest_object(_bucket(aws), key)

    result = _read_json(aws, "uploads/acme/order" + RESULT_SUFFIX)
    assert result["accepted"] is False
    assert reason in result["reason"]
    assert api.list_missions()["items"] == []


def test_a_manifest_naming_a_missing_list_says_so(aws, tenant):
    key = "uploads/acme/order.json"
    _put(aws, key, json.dumps({"mission": GUIDE_FIELDS, "number_list": "gone.xlsx"}).encode())

    api.ingest_object(_bucket(aws), key)

    result = _read_json(aws, "uploads/acme/order" + RESULT_SUFFIX)
    assert result["accepted"] is False
    assert result["reason"] == "the number list uploads/acme/gone.xlsx is not there"


def test_a_manifest_naming_a_list_over_the_size_limit_says_so_and_reads_no_list(
    aws, tenant, monkeypatch
):
    manifest = {"mission": GUIDE_FIELDS, "number_list": "big.csv"}
    key = _manifest(aws, "order", manifest, "big.csv", corpus.oversize_csv(1_048_576))
    s3 = _record_reads(monkeypatch)

    api.ingest_object(_bucket(aws), key)

    result = _read_json(aws, "uploads/acme/order" + RESULT_SUFFIX)
    assert result["accepted"] is False
    assert result["reason"].startswith(
        "the number list uploads/acme/big.csv is larger than 1,048,576 bytes"
    )
    assert "uploads/acme/big.csv" not in s3.read
    assert api.list_missions()["items"] == []


def test_a_result_file_arriving_is_not_read_as_a_manifest(aws, tenant):
    key = "uploads/acme/order" + RESULT_SUFFIX
    _put(aws, key, b'{"accepted": true}')

    api.ingest_object(_bucket(aws), key)

    assert _read_json(aws, key) == {"accepted": True}
    assert api.list_missions()["items"] == []
