"""Listing and reading missions through the send handler, against moto: newest first,
ten to a page, filtered, and never another tenant's.

The tests only read, so the module shares one account holding twelve missions.
"""

import base64
import json
from collections.abc import Iterator

import pytest

from cloudsms.domain.mission import MissionFields
from cloudsms.services import missions
from cloudsms.services.tenants import get_tenant
from cloudsms_local.template import LocalResources
from tests.integration import missions_api as api
from tests.integration.missions_api import GUIDE_FIELDS, MORNING, NOON, numbers_list


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalResources]:
    with api.shared_account() as resources:
        yield resources


@pytest.fixture(scope="module")
def twelve_missions(aws) -> list[str]:
    """Missions 0-11, created in that order: every third is Mainland China, every fourth
    is scheduled, the rest sent. Their ids, oldest first."""
    tenant_model = get_tenant("acme")
    ids = []
    for i in range(12):
        china = i % 3 == 0
        fields = {
            **GUIDE_FIELDS,
            "name": f"{'china' if china else 'world'} {i}",
            "direction": "mainland_china" if china else "international",
        }
        if i % 4 == 0:
            fields["dispatch_at"] = NOON
        number = "13800138000" if china else "+639215347566"
        view = missions.create_mission(
            tenant_model, MissionFields.model_validate(fields), numbers_list([number]), MORNING
        )
        ids.append(view["mission_id"])
    return ids


def test_missions_list_newest_first_ten_to_a_page_and_the_cursor_continues(twelve_missions):
    first = api.list_missions()
    second = api.list_missions({"cursor": first["next_cursor"]})

    newest_first = list(reversed(twelve_missions))
    assert [m["mission_id"] for m in first["items"]] == newest_first[:10]
    assert [m["mission_id"] for m in second["items"]] == newest_first[10:]
    assert second["next_cursor"] is None
    # The first page says how many there are; later pages leave it to the first.
    assert (first["total"], first["total_exact"]) == (12, True)
    assert "total" not in second


def test_missions_filter_by_name_direction_and_status(twelve_missions):
    by_name = api.list_missions({"name": "world 1"})
    china = api.list_missions({"direction": "mainland_china"})
    scheduled = api.list_missions({"status": "Scheduled"})
    both = api.list_missions({"direction": "mainland_china", "status": "Scheduled"})

    assert [m["name"] for m in by_name["items"]] == ["world 11", "world 10", "world 1"]
    assert [m["name"] for m in china["items"]] == ["china 9", "china 6", "china 3", "china 0"]
    assert [m["name"] for m in scheduled["items"]] == ["world 8", "world 4", "china 0"]
    assert [m["name"] for m in both["items"]] == ["china 0"]
    assert [page["total"] for page in (by_name, china, scheduled, both)] == [3, 4, 3, 1]


def test_the_name_filter_finds_a_name_in_any_case(twelve_missions):
    upper = api.list_missions({"name": "WORLD 1"})
    mixed = api.list_missions({"name": "China 9"})

    assert [m["name"] for m in upper["items"]] == ["world 11", "world 10", "world 1"]
    assert [m["name"] for m in mixed["items"]] == ["china 9"]


def test_a_status_filter_takes_any_case_and_a_bad_filter_is_refused(twelve_missions):
    lower = api.list_missions({"status": "scheduled"})
    bad_status = api.call(
        api.send_app, "GET", "/v1/missions", "/v1/missions", query={"status": "bogus"}
    )
    bad_direction = api.call(
        api.send_app, "GET", "/v1/missions", "/v1/missions", query={"direction": "Other"}
    )

    assert [m["name"] for m in lower["items"]] == ["world 8", "world 4", "china 0"]
    assert bad_status[0] == bad_direction[0] == 400
    assert "Scheduled" in json.dumps(bad_status[1])
    assert "international" in json.dumps(bad_direction[1])


def test_a_filtered_list_pages_through_the_matching_missions_only(twelve_missions):
    first = api.list_missions({"direction": "international", "page_size": "5"})
    second = api.list_missions(
        {"direction": "international", "page_size": "5", "cursor": first["next_cursor"]}
    )

    names = [m["name"] for m in first["items"] + second["items"]]
    assert names == [f"world {i}" for i in (11, 10, 8, 7, 5, 4, 2, 1)]
    assert second["next_cursor"] is None


def test_another_tenants_mission_is_not_found(twelve_missions):
    mission_id = twelve_missions[0]

    status, answer = api.get_mission(mission_id, tenant_id="other")
    abnormal, _ = api.call(
        api.send_app,
        "GET",
        f"/v1/missions/{mission_id}/abnormal",
        "/v1/missions/{mission_id}/abnormal",
        tenant_id="other",
    )

    assert (status, abnormal) == (404, 404)
    assert answer["error"]["code"] == "not_found"


def test_another_tenant_lists_none_of_the_missions(twelve_missions):
    listing = api.call(api.send_app, "GET", "/v1/missions", "/v1/missions", tenant_id="other")

    assert listing == (200, {"items": [], "next_cursor": None, "total": 0, "total_exact": True})


@pytest.mark.parametrize(
    "last_key",
    [
        {"x": 1},
        {"tenant_id": {"S": "demo"}, "mission_id": {"S": "01A0"}},  # another tenant's
        {"tenant_id": {"S": "acme"}, "mission_id": {"N": "1"}},
    ],
)
def test_a_cursor_this_api_did_not_give_out_is_refused(twelve_missions, last_key):
    cursor = base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()

    status, answer = api.call(
        api.send_app, "GET", "/v1/missions", "/v1/missions", query={"cursor": cursor}
    )

    assert status == 400
    assert answer["error"]["message"] == "the cursor is not one this API gave out"


def test_a_cursor_into_another_missions_messages_is_refused(twelve_missions):
    mission_id, other = twelve_missions[:2]
    last_key = {"tenant_id": {"S": "acme"}, "uid": {"S": f"{other}000000000001"}}
    cursor = base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()

    status, answer = api.call(
        api.send_app,
        "GET",
        f"/v1/missions/{mission_id}/messages",
        "/v1/missions/{mission_id}/messages",
        query={"cursor": cursor},
    )

    assert status == 400
    assert answer["error"]["message"] == "the cursor is not one this API gave out"
