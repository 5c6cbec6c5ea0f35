"""A refused value is named by its start: an error message does not send back (or log)
the 100 KB a field, a key or a cell may hold."""

import json

from functions.reports import app as reports_app
from tests.integration import missions_api as api
from tests.integration.conftest import api_event
from tests.unit import numberlist_corpus as corpus

LONG = "2026-" + "9" * 100_000


def test_a_long_dispatch_time_is_refused_naming_its_start(aws, tenant):
    status, answer = api.create_with_list(corpus.guide_xlsx(), dispatch_at=LONG)

    assert status == 400
    message = answer["error"]["message"]
    assert message == f"dispatch_at '2026-{'9' * 35}…' is not an ISO 8601 time"


def test_a_long_time_in_a_query_is_refused_naming_its_start(aws, tenant, context):
    event = api_event("GET", "/v1/messages", "/v1/messages", query={"from": LONG})

    response = reports_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    message = json.loads(response["body"])["error"]["message"]
    assert message == f"'from' '2026-{'9' * 35}…' is not an ISO 8601 time"


def test_a_long_key_the_body_should_not_have_is_named_by_its_start(aws, tenant):
    key = "k" * 100_000
    status, answer = api.call(
        api.send_app,
        "POST",
        "/v1/sms",
        "/v1/sms",
        body={
            "to": ["+639215347566"],
            "text": "hi",
            "channel": "SIM",
            "sms_type": "business",
            key: 1,
        },
    )

    assert status == 400
    assert answer["error"]["details"] == [
        {"field": "k" * 40 + "…", "reason": "Extra inputs are not permitted"}
    ]
    assert len(answer["error"]["message"]) < 100


# A number as Excel writes one ("639171234567.0"), of more digits than Python writes out
# as text (4,300): read as one, it was a ValueError, a 500.
THOUSANDS_OF_DIGITS = "1" * 5_000 + ".0"


def test_a_number_of_thousands_of_digits_is_invalid_where_numbers_are_given(aws, tenant):
    added = api.blacklist([THOUSANDS_OF_DIGITS, "+639215347566"])
    assert added["added"] == ["+639215347566"]
    assert [entry["reason"] for entry in added["invalid"]] == ["not a valid phone number"]

    data = corpus.csv_file([["Phone Number"], [THOUSANDS_OF_DIGITS], ["+639175550123"]])
    status, imported = api.post_form("/v1/blacklist/import", {}, data, "blacklist.csv")
    assert status == 200, imported
    assert imported["added"] == 1
    assert [row["reason"] for row in imported["invalid"]] == ["not a valid phone number"]

    status, refused = api.call(
        api.admin_app,
        "GET",
        "/v1/blacklist",
        "/v1/blacklist",
        query={"number": THOUSANDS_OF_DIGITS},
    )
    assert status == 400
    assert refused["error"]["message"].startswith("'number' is searched from its country code")


def test_a_mission_list_with_a_number_of_thousands_of_digits_refuses_that_row(aws, tenant):
    data = corpus.xlsx(
        [corpus.GUIDE_ROWS[0], [THOUSANDS_OF_DIGITS, "A", "a"], *corpus.GUIDE_ROWS[1:]]
    )

    status, mission = api.create_with_list(data)

    assert status == 201, mission
    abnormal = api.list_of(mission["mission_id"], "abnormal")
    assert [row["reason"] for row in abnormal["items"]] == ["not a valid phone number"]


def test_a_long_value_refused_from_a_blacklist_is_named_by_its_start(aws, tenant):
    long_value = "9" * 100_000

    added = api.blacklist([long_value, "+639215347566"])
    data = corpus.csv_file([["Phone Number"], [long_value], ["+639175550123"]])
    _, imported = api.post_form("/v1/blacklist/import", {}, data, "blacklist.csv")

    assert added["invalid"] == [{"number": "9" * 40 + "…", "reason": "not a valid phone number"}]
    assert imported["invalid"] == [
        {"row": 2, "value": "9" * 40 + "…", "reason": "not a valid phone number"}
    ]
    assert (added["added"], imported["added"]) == (["+639215347566"], 1)


# Longer path values are "no such resource" before any handler (api.MAX_PATH_VALUE_BYTES).
LONG_ID = "z" * 200


def test_a_long_id_in_a_path_is_not_found_naming_its_start(aws, tenant):
    routes = [
        (api.send_app, "GET", "/v1/sms/{uid}"),
        (api.send_app, "GET", "/v1/missions/{mission_id}"),
        (api.admin_app, "GET", "/v1/templates/{template_id}"),
    ]
    for app, method, resource in routes:
        path = resource.split("{")[0] + LONG_ID
        status, answer = api.call(app, method, path, resource)

        assert status == 404, (resource, answer)
        message = answer["error"]["message"]
        assert "z" * 40 + "…" in message and len(message) < 100, (resource, message)
