"""Checking a mission's numbers against the blacklists at a bounded cost, however long a
list is: read whole while that is the cheaper way, else looked up by key."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.client import BaseClient

from cloudsms.domain.numberlist import Recipient
from cloudsms.services import staging
from cloudsms.services.blacklist import SHORT_LIST_PAGES, blacklisted_among, checked
from cloudsms.settings import get_settings
from cloudsms.store.missions import MissionModel
from functions.schedule import fire
from tests.integration import missions_api as api
from tests.integration.conftest import FakeContext
from tests.integration.missions_api import create_scheduled, numbers_list, queued_recipients

# A list longer than a short one, and than a small mission's budget: 200 numbers at a
# few a page (some 67 pages).
PLATFORM_LIST = [f"+6391755{i:05d}" for i in range(200)]
# What one check of a small mission's numbers may cost: reading the tenant's list (one
# page) and the platform's up to SHORT_LIST_PAGES to find it long, then at most two pages
# and one lookup a list. Read whole, the platform's list alone is some 67 pages.
CHECK_BOUND = 1 + SHORT_LIST_PAGES + 2 * 3


@pytest.fixture
def short_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's Query pages hold a few numbers (DynamoDB's 1 MB, some 10,000):
    a list of 200 has the pages a list of 2,000,000 would."""
    monkeypatch.setattr("moto.dynamodb.models.table.RESULT_SIZE_LIMIT", 300)


@pytest.fixture
def blacklist_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the requests made on the Blacklist table while the test runs."""
    made: list[str] = []
    table = get_settings().blacklist_table
    make_api_call = BaseClient._make_api_call

    def recorded(self: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if params.get("TableName") == table or table in params.get("RequestItems", {}):
            made.append(name)
        return make_api_call(self, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    yield made


def test_numbers_on_short_lists_are_found_by_reading_the_lists_whole(
    aws, tenant, blacklist_requests
):
    api.blacklist(["+639175550123"])
    api.blacklist(["+639175550124"], platform=True)
    blacklist_requests.clear()

    found = blacklisted_among("acme", ["+639175550123", "+639175550124", "+639215347566"])

    assert found == {"+639175550123", "+639175550124"}
    assert blacklist_requests == ["Query", "Query"]


def test_numbers_on_a_list_longer_than_their_budget_are_found_by_looking_them_up(
    aws, tenant, short_pages, blacklist_requests
):
    api.blacklist(["+639175550123"])
    api.blacklist(PLATFORM_LIST, platform=True)
    blacklist_requests.clear()

    found = blacklisted_among("acme", ["+639175550123", PLATFORM_LIST[-1], "+639215347566"])

    assert found == {"+639175550123", PLATFORM_LIST[-1]}
    assert "BatchGetItem" in blacklist_requests


def test_a_small_mission_reads_few_pages_of_a_long_platform_list(
    aws, tenant, short_pages, blacklist_requests
):
    api.blacklist(PLATFORM_LIST, platform=True)
    blacklist_requests.clear()

    _, mission = api.create_with_list(numbers_list(["+639215347566", PLATFORM_LIST[-1]]))

    assert (mission["phone_number_amount"], mission["blacklist_amount"]) == (1, 1)
    assert [r["to"] for r in queued_recipients(aws)] == ["+639215347566"]
    # Two checks: staging and dispatch.
    assert len(blacklist_requests) <= 2 * CHECK_BOUND


def test_a_preview_against_a_long_platform_list_counts_its_blacklisted_number(
    aws, tenant, short_pages, blacklist_requests
):
    api.blacklist(PLATFORM_LIST, platform=True)
    blacklist_requests.clear()

    status, preview = api.post_form(
        "/v1/missions/preview",
        api.GUIDE_FIELDS,
        numbers_list(["+639215347566", PLATFORM_LIST[-1]]),
    )

    assert status == 200, preview
    assert (preview["phone_number_amount"], preview["blacklist_amount"]) == (1, 1)
    assert len(blacklist_requests) <= CHECK_BOUND


def test_a_number_of_a_long_platform_list_added_before_a_firing_is_not_sent(
    aws, tenant, short_pages, blacklist_requests
):
    mission = create_scheduled(["+639215347566", PLATFORM_LIST[-1]])
    api.blacklist(PLATFORM_LIST, platform=True)
    # As if its time had come: the handler reads the real clock.
    MissionModel.get("acme", mission["mission_id"]).update(
        actions=[MissionModel.dispatch_at.set(datetime.now(UTC))]
    )
    blacklist_requests.clear()

    answer = fire.lambda_handler(
        {"tenant_id": "acme", "mission_id": mission["mission_id"]}, FakeContext()
    )

    _, fired = api.get_mission(mission["mission_id"])
    assert answer == {"outcome": "dispatched"}
    assert [r["to"] for r in queued_recipients(aws)] == ["+639215347566"]
    assert (fired["phone_number_amount"], fired["blacklist_amount"]) == (1, 1)
    assert len(blacklist_requests) <= CHECK_BOUND


def _recipients(numbers: list[str], read: list[str]) -> Iterator[Recipient]:
    """A number list's recipients, noting in `read` each one as it is read."""
    for row, number in enumerate(numbers, start=2):
        read.append(number)
        yield Recipient(row, number, {}, "Hello", "GSM-7", 1)


def test_against_short_lists_a_number_list_is_checked_as_it_is_read_not_held(aws, tenant):
    api.blacklist(["+639175550123"])
    api.blacklist(["+639175550124"], platform=True)
    numbers = ["+639215347566", "+639175550123"]
    read: list[str] = []

    rows, blacklist = checked("acme", _recipients(numbers, read), staging.recipient_number)

    assert read == []  # staging reads the rows as it writes them, one at a time
    assert blacklist >= {"+639175550123", "+639175550124"}
    assert [row.phone for row in rows if row.phone not in blacklist] == ["+639215347566"]


def test_against_a_long_list_a_number_list_is_held_to_look_its_numbers_up(aws, tenant, short_pages):
    api.blacklist(PLATFORM_LIST, platform=True)
    numbers = ["+639215347566", PLATFORM_LIST[-1]]
    read: list[str] = []

    rows, blacklist = checked("acme", _recipients(numbers, read), staging.recipient_number)

    assert read == numbers
    assert blacklist == {PLATFORM_LIST[-1]}
    assert [row.phone for row in rows] == numbers
