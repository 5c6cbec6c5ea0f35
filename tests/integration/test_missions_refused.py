"""Number lists that are refused, and previews: through the send handler, against moto.

Nothing here creates anything, so the module shares one account: each test still finds
it empty unless a test before it left something behind, which is what they look for.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cloudsms.domain import numberlist
from cloudsms_local.template import LocalResources
from functions.missions import app as missions_app
from tests.integration import missions_api as api
from tests.integration.missions_api import (
    GUIDE_FIELDS,
    HEADER,
    numbers_list,
    queued_bodies,
    staged_keys,
)
from tests.unit import numberlist_corpus as corpus


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalResources]:
    with api.shared_account() as resources:
        yield resources


BAD_LISTS = {
    "empty": (b"", numberlist.EMPTY),
    "png": (corpus.png(), numberlist.NOT_A_SPREADSHEET),
    "zip without a workbook": (corpus.zip_without_workbook(), numberlist.NOT_A_SPREADSHEET),
    "encrypted": (corpus.encrypted_xlsx(), numberlist.ENCRYPTED),
    "xls": (corpus.xls(), numberlist.OLD_XLS),
    "lying zip": (corpus.lying_zip(), numberlist.DAMAGED),
    "truncated": (corpus.guide_xlsx()[:2000], numberlist.DAMAGED),
    "a stray cell far outside the list": (corpus.stray_far_cell_xlsx(), "far outside the list"),
    "header only": (corpus.xlsx([HEADER]), numberlist.NO_DATA_ROWS),
    "no header": (corpus.xlsx([["+639215347566", "Amy", "x"]]), "no header row"),
    "wrong columns": (corpus.xlsx([["Phone", "Customer"], ["+639215347566", "A"]]), "columns"),
    "a variable in another's column": (
        corpus.xlsx([["Phone", "Customer", "Name"], ["+639215347566", "Amy", "x.com"]]),
        "the header names",
    ),
    "nothing sendable": (numbers_list(["12345"]), "no number in the list can be sent"),
}


@pytest.mark.parametrize("kind", BAD_LISTS)
def test_a_bad_number_list_is_refused_with_its_reason_and_nothing_is_created(aws, kind):
    data, reason = BAD_LISTS[kind]

    status, answer = api.create_with_list(data)

    assert status == 400
    assert reason in answer["error"]["message"]
    assert api.list_missions()["items"] == []
    assert staged_keys(aws) == []
    assert queued_bodies(aws) == []


def test_a_zip_bomb_is_refused_before_it_expands_and_nothing_is_created(aws):
    status, answer = api.create_with_list(corpus.zip_bomb(80 * 1_048_576))

    assert status == 400
    assert "zip bomb" in answer["error"]["message"]
    assert api.list_missions()["items"] == []
    assert staged_keys(aws) == []


def test_a_list_over_the_size_limit_is_refused_as_too_large_and_nothing_is_created(aws):
    status, answer = api.create_with_list(corpus.oversize_csv(1_048_576), "numbers.csv")

    assert status == 413
    assert "larger than 1 MB" in answer["error"]["message"]
    assert api.list_missions()["items"] == []
    # A preview of it is refused the same way.
    previewed = api.post_form(
        "/v1/missions/preview", api.GUIDE_FIELDS, corpus.oversize_csv(1_048_576), "numbers.csv"
    )
    assert previewed[0] == 413


def test_a_list_with_nothing_sendable_names_its_abnormal_rows(aws):
    status, answer = api.create_with_list(numbers_list(["12345", "+8613800138000"]))

    assert status == 400
    assert answer["error"]["details"] == [
        {"row": 2, "raw": "12345", "reason": "not a valid phone number"},
        {
            "row": 3,
            "raw": "+8613800138000",
            "reason": "international missions cannot send to +86 numbers",
        },
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "two\nlines"}, "name: the mission name holds a line break"),
        ({"content": "Hello ${Name}\x00"}, "content: the content holds the control character"),
    ],
)
def test_a_mission_with_a_control_character_is_refused_and_nothing_is_created(aws, fields, reason):
    status, answer = api.call(
        missions_app, "POST", "/v1/missions", "/v1/missions", body={**GUIDE_FIELDS, **fields}
    )

    assert status == 400
    assert reason in answer["error"]["message"]
    assert api.list_missions()["items"] == []


def test_a_template_id_longer_than_any_is_refused_before_dynamodb_reads_it(aws):
    # DynamoDB refuses a sort key over 1,024 bytes with an error, a 500; moto reads it.
    fields = {name: value for name, value in GUIDE_FIELDS.items() if name != "content"}

    status, answer = api.call(
        missions_app,
        "POST",
        "/v1/missions",
        "/v1/missions",
        body={**fields, "template_id": "T" * 2000},
    )

    assert status == 400
    assert answer["error"]["details"][0]["field"] == "template_id"
    assert api.list_missions()["items"] == []


def test_a_preview_answers_what_the_mission_would_find_and_creates_nothing(aws):
    data = corpus.xlsx(
        [HEADER, ["+639215347566", "张三", "www.baidu.com"], ["12345", "Bob", "b.com"]]
    )

    status, preview = api.post_form("/v1/missions/preview", GUIDE_FIELDS, data)

    assert status == 200
    assert (preview["phone_number_amount"], preview["failure_amount"]) == (1, 1)
    assert preview["columns_matched_by"] == "header"
    assert preview["encodings"] == {"UCS-2": 1}
    [sample] = preview["samples"]
    assert sample["text"].startswith("[CloudSMS] Hello 张三")
    assert sample["ucs2_reason"]
    assert preview["abnormal"] == [{"row": 3, "raw": "12345", "reason": "not a valid phone number"}]
    assert api.list_missions()["items"] == []
    assert staged_keys(aws) == []
    assert queued_bodies(aws) == []


def test_a_preview_of_a_bad_file_is_refused_with_its_reason(aws):
    status, answer = api.post_form("/v1/missions/preview", GUIDE_FIELDS, corpus.xls())

    assert status == 400
    assert numberlist.OLD_XLS in answer["error"]["message"]


def test_a_preview_refuses_a_header_naming_a_variable_in_another_variables_column(aws):
    fields = {**GUIDE_FIELDS, "content": "Hello ${Name}, see ${website}"}
    data = corpus.xlsx([["Phone Number", "site", "Name"], ["+639215347596", "www.x.com", "Amy"]])

    status, answer = api.post_form("/v1/missions/preview", fields, data)

    assert status == 400
    assert answer["error"]["message"].startswith(
        "the number list cannot be used: the header names Name but not website "
        "(columns: Phone Number, site, Name)"
    )


def _local_noon_in(days: int, hour: int = 12) -> str:
    """A time (no offset) `days` from today in Shanghai, the tenant's zone."""
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour).isoformat()


@pytest.mark.parametrize(
    ("dispatch_at", "words"),
    [
        ("tomorrow", "not an ISO 8601 time"),
        ("2026-02-30T10:00", "not an ISO 8601 time"),
        ("2020-01-01T12:00:00", "minutes ahead"),
        (_local_noon_in(1, hour=23), "outside the sending window"),
        (_local_noon_in(40), "days ahead"),
    ],
)
def test_a_preview_refuses_a_dispatch_time_as_creating_the_mission_does(aws, dispatch_at, words):
    fields = {**GUIDE_FIELDS, "dispatch_at": dispatch_at}

    previewed = api.post_form("/v1/missions/preview", fields, corpus.guide_xlsx())
    created = api.create_with_list(corpus.guide_xlsx(), dispatch_at=dispatch_at)

    assert previewed == created
    assert previewed[0] == 400
    assert words in previewed[1]["error"]["message"]
    assert api.list_missions()["items"] == []
