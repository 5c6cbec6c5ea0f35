"""SMS templates, the number-list template and blacklists, through the admin handler."""

import base64
import codecs
import csv
import io
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import openpyxl
import pytest

from functions.admin import app as admin_app
from tests.integration import missions_api as api
from tests.integration.missions_api import GUIDE_FIELDS, queued_recipients
from tests.unit import numberlist_corpus as corpus

TEMPLATE = {
    "name": "Pin notice",
    "content": "Hi ${Name}, your pin is ${Pin}",
    "sms_type": "business",
}


def _create_template(body=None, tenant_id="acme"):
    return api.call(
        admin_app,
        "POST",
        "/v1/templates",
        "/v1/templates",
        body=body or TEMPLATE,
        tenant_id=tenant_id,
    )


def _template(method, template_id, body=None, tenant_id="acme"):
    return api.call(
        admin_app,
        method,
        f"/v1/templates/{template_id}",
        "/v1/templates/{template_id}",
        body=body,
        tenant_id=tenant_id,
    )


def _common(method, path, resource, body=None, role="operator"):
    return api.call(admin_app, method, path, resource, body=body, role=role)


def _number_list_template(query):
    return api.call(
        admin_app, "GET", "/v1/templates/number-list", "/v1/templates/number-list", query=query
    )


# --- SMS templates ----------------------------------------------------------------------


def test_a_template_is_created_with_its_variables_and_reads_back(aws, tenant):
    status, created = _create_template()

    _, read = _template("GET", created["template_id"])

    assert status == 201
    assert created["variables"] == ["Name", "Pin"]
    assert read == created


def test_a_template_is_changed_listed_and_deleted(aws, tenant):
    _, created = _create_template()

    _, changed = _template("PATCH", created["template_id"], {"content": "Hello ${Name}"})
    _, listed = api.call(admin_app, "GET", "/v1/templates", "/v1/templates")
    deleted, _ = _template("DELETE", created["template_id"])
    gone, _ = _template("GET", created["template_id"])

    assert (changed["content"], changed["variables"]) == ("Hello ${Name}", ["Name"])
    assert [t["template_id"] for t in listed["items"]] == [created["template_id"]]
    assert (deleted, gone) == (204, 404)


def test_templates_page_on_with_their_cursor(aws, tenant):
    created = [_create_template({**TEMPLATE, "name": f"Pin {i}"})[1] for i in range(3)]

    _, first = api.call(
        admin_app, "GET", "/v1/templates", "/v1/templates", query={"page_size": "2"}
    )
    _, second = api.call(
        admin_app, "GET", "/v1/templates", "/v1/templates", query={"cursor": first["next_cursor"]}
    )

    newest_first = [t["template_id"] for t in reversed(created)]
    assert [t["template_id"] for t in first["items"] + second["items"]] == newest_first
    assert second["next_cursor"] is None


def test_a_templates_page_that_ends_the_list_gives_no_cursor_to_an_empty_page(aws, tenant):
    for i in range(3):
        _create_template({**TEMPLATE, "name": f"Pin {i}"})

    _, whole = api.call(
        admin_app, "GET", "/v1/templates", "/v1/templates", query={"page_size": "3"}
    )

    assert (len(whole["items"]), whole["next_cursor"]) == (3, None)


def test_a_template_with_an_unclosed_variable_is_refused(aws, tenant):
    status, answer = _create_template({**TEMPLATE, "content": "Hi ${Name"})

    assert status == 400
    assert answer["error"]["details"][0]["field"] == "content"


def test_a_blank_template_name_is_refused_with_the_reason(aws, tenant):
    status, answer = _create_template({**TEMPLATE, "name": "   "})

    assert status == 400
    assert answer["error"]["message"] == "name: the template name is empty"


def test_a_template_name_is_one_line(aws, tenant):
    status, answer = _create_template({**TEMPLATE, "name": "line\nbreak"})

    assert status == 400
    assert answer["error"]["message"] == (
        "name: the template name holds a line break: a name is one line of printable characters"
    )


def test_a_template_name_is_kept_without_the_spaces_around_it(aws, tenant):
    _, created = _create_template({**TEMPLATE, "name": "  Pin notice "})

    assert created["name"] == "Pin notice"


def test_a_blank_name_is_refused_for_a_common_template_from_the_console_too(aws):
    from cloudsms.errors import BadRequest
    from cloudsms.services import templates
    from cloudsms.validation import validated

    # What `cloudsms template-add-common --name " "` checks its options with.
    with pytest.raises(BadRequest, match="name: the template name is empty"):
        validated(templates.TemplateFields, {**TEMPLATE, "name": " "})


def test_a_second_template_of_the_same_name_is_refused(aws, tenant):
    _create_template()

    status, answer = _create_template({**TEMPLATE, "name": "pin NOTICE "})

    assert status == 409
    assert "a template named 'pin NOTICE' already exists" in answer["error"]["message"]
    assert len(api.call(admin_app, "GET", "/v1/templates", "/v1/templates")[1]["items"]) == 1


def test_two_tenants_and_the_operator_may_each_have_a_template_of_one_name(aws, tenant):
    _create_template()

    other = _create_template(tenant_id="other")
    common = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)

    assert (other[0], common[0]) == (201, 201)


def test_a_second_common_template_of_the_same_name_is_refused(aws, tenant):
    _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)

    status, answer = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)

    assert status == 409
    assert "a common template named 'Pin notice' already exists" in answer["error"]["message"]


def test_a_template_cannot_be_renamed_to_a_name_another_has(aws, tenant):
    _create_template()
    _, second = _create_template({**TEMPLATE, "name": "Welcome"})

    status, answer = _template("PATCH", second["template_id"], {"name": "Pin notice"})

    assert status == 409 and "'Pin notice' already exists" in answer["error"]["message"]
    assert _template("GET", second["template_id"])[1]["name"] == "Welcome"


def test_a_renamed_or_deleted_template_frees_its_name(aws, tenant):
    _, renamed = _create_template()
    _, deleted = _create_template({**TEMPLATE, "name": "Welcome"})

    _, changed = _template("PATCH", renamed["template_id"], {"name": "Pin v2"})
    _template("DELETE", deleted["template_id"])

    assert changed["name"] == "Pin v2"
    assert _create_template()[0] == 201
    assert _create_template({**TEMPLATE, "name": "Welcome"})[0] == 201


def test_a_template_may_change_the_case_of_its_own_name(aws, tenant):
    _, created = _create_template()

    status, changed = _template("PATCH", created["template_id"], {"name": "PIN NOTICE"})

    assert (status, changed["name"]) == (200, "PIN NOTICE")


def test_a_change_to_a_template_deleted_meanwhile_is_not_found_and_recreates_nothing(
    aws, tenant, monkeypatch
):
    from cloudsms.services import templates
    from cloudsms.store.templates import TemplateModel

    _, created = _create_template()
    owned = templates._owned

    def read_then_deleted(owner, template_id):
        item = owned(owner, template_id)
        monkeypatch.setattr(templates, "_owned", owned)
        _template("DELETE", template_id)  # between the change's read and its write
        return item

    monkeypatch.setattr(templates, "_owned", read_then_deleted)

    status, _ = _template("PATCH", created["template_id"], {"content": "Hi ${Name}"})

    assert status == 404
    assert list(TemplateModel.query("acme")) == []


def test_a_case_change_to_a_template_renamed_meanwhile_is_refused(aws, tenant, monkeypatch):
    from cloudsms.services import templates

    _, created = _create_template()
    owned = templates._owned

    def read_then_renamed(owner, template_id):
        item = owned(owner, template_id)
        monkeypatch.setattr(templates, "_owned", owned)
        _template("PATCH", template_id, {"name": "Other"})
        return item

    monkeypatch.setattr(templates, "_owned", read_then_renamed)

    status, _ = _template("PATCH", created["template_id"], {"name": "PIN NOTICE"})

    assert status == 409
    assert _template("GET", created["template_id"])[1]["name"] == "Other"


def test_a_template_saved_before_names_were_taken_is_renamed_and_deleted(aws, tenant):
    from cloudsms.store.templates import TemplateModel

    # Saved as templates were before they took their names: no name item of its own.
    TemplateModel(
        "acme", "01A0000000000000AA", name="Old", content="Hi", sms_type="business"
    ).save()

    renamed, changed = _template("PATCH", "01A0000000000000AA", {"name": "Older"})
    deleted, _ = _template("DELETE", "01A0000000000000AA")

    assert (renamed, changed["name"], deleted) == (200, "Older", 204)
    assert _create_template({**TEMPLATE, "name": "Older"})[0] == 201


def test_recording_the_names_of_templates_saved_before_keeps_their_names_unique(aws, tenant):
    from cloudsms.services import templates
    from cloudsms.store.templates import TemplateModel

    # Saved as templates were before they took their names; two of them share one.
    for template_id, name in [("01A0000000000000AA", "Old"), ("01A0000000000000AB", "old")]:
        TemplateModel("acme", template_id, name=name, content="Hi", sms_type="business").save()

    first = templates.record_names()
    again = templates.record_names()

    assert first == {
        "recorded": 1,
        "names_shared": [{"owner": "acme", "template_id": "01A0000000000000AB"}],
    }
    assert again["recorded"] == 0
    assert _create_template({**TEMPLATE, "name": "OLD"})[0] == 409


def test_templates_of_one_name_created_at_once_are_one_template(aws, tenant, atomic_dynamodb):
    from cloudsms.errors import Conflict
    from cloudsms.services import templates

    fields = templates.TemplateFields.model_validate(TEMPLATE)
    start = threading.Barrier(8)

    def create(_: int) -> str:
        start.wait()
        try:
            templates.create_template("acme", fields)
        except Conflict:
            return "refused"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(create, range(8)))

    assert outcomes == {"created": 1, "refused": 7}
    assert len(api.call(admin_app, "GET", "/v1/templates", "/v1/templates")[1]["items"]) == 1


def test_a_template_with_a_nul_in_its_content_is_refused(aws, tenant):
    status, answer = _create_template({**TEMPLATE, "content": "Hi ${Name}\x00"})

    assert status == 400
    assert "control character U+0000" in answer["error"]["message"]


def test_another_tenants_template_is_not_found(aws, tenant):
    _, created = _create_template()

    status, _ = _template("GET", created["template_id"], tenant_id="other")

    assert status == 404


def test_a_mission_created_from_a_template_renders_the_templates_content(aws, tenant):
    _, template = _create_template()
    fields = {**GUIDE_FIELDS, "template_id": template["template_id"]}
    fields.pop("content")
    data = corpus.xlsx([["Phone Number", "Name", "Pin"], ["+639215347566", "Amy", "4711"]])

    status, mission = api.post_form("/v1/missions", fields, data)

    assert status == 201, mission
    assert (mission["template_id"], mission["content"]) == (
        template["template_id"],
        TEMPLATE["content"],
    )
    assert [r["text"] for r in queued_recipients(aws)] == ["[CloudSMS] Hi Amy, your pin is 4711"]


def test_a_common_template_of_the_operators_is_listed_and_used_by_every_tenant(aws, tenant):
    status, common = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)
    _, listed = api.call(admin_app, "GET", "/v1/templates/common", "/v1/templates/common")
    fields = {**GUIDE_FIELDS, "template_id": common["template_id"]}
    fields.pop("content")
    data = corpus.xlsx([["Phone Number", "Name", "Pin"], ["+639215347566", "Amy", "4711"]])

    created, mission = api.post_form("/v1/missions", fields, data)

    assert (status, common["common"]) == (201, True)
    assert [t["template_id"] for t in listed["items"]] == [common["template_id"]]
    assert created == 201, mission
    assert [r["text"] for r in queued_recipients(aws)] == ["[CloudSMS] Hi Amy, your pin is 4711"]
    # Not among the tenant's own templates
    assert api.call(admin_app, "GET", "/v1/templates", "/v1/templates")[1]["items"] == []


def test_a_tenant_can_read_a_common_template_but_not_change_it(aws, tenant):
    _, common = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)
    template_id = common["template_id"]

    read = _template("GET", template_id)
    changed = _template("PATCH", template_id, {"name": "Mine now"})
    deleted = _template("DELETE", template_id)
    by_tenant = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE, "tenant")

    assert read[0] == 200 and read[1]["common"] is True
    assert (changed[0], deleted[0], by_tenant[0]) == (404, 404, 403)


def test_the_operator_changes_and_deletes_a_common_template(aws, tenant):
    _, common = _common("POST", "/v1/admin/templates", "/v1/admin/templates", TEMPLATE)
    path = f"/v1/admin/templates/{common['template_id']}"

    _, changed = _common("PATCH", path, "/v1/admin/templates/{template_id}", {"name": "Pin v2"})
    status, _ = _common("DELETE", path, "/v1/admin/templates/{template_id}")

    assert changed["name"] == "Pin v2"
    assert status == 204
    assert (
        api.call(admin_app, "GET", "/v1/templates/common", "/v1/templates/common")[1]["items"] == []
    )


def test_a_mission_from_an_unknown_template_is_not_found_and_not_created(aws, tenant):
    fields = {**GUIDE_FIELDS, "template_id": "01A0000000000000FF"}
    fields.pop("content")

    status, _ = api.post_form("/v1/missions", fields, corpus.guide_xlsx())

    assert status == 404
    assert api.list_missions()["items"] == []


def test_a_mission_with_both_content_and_a_template_is_refused(aws, tenant):
    _, template = _create_template()

    status, answer = api.create_with_list(corpus.guide_xlsx(), template_id=template["template_id"])

    assert status == 400
    assert "either content or template_id" in answer["error"]["message"]


# --- the number-list template --------------------------------------------------------------


def test_the_number_list_template_as_xlsx_has_the_phone_then_the_variables_in_order(aws, tenant):
    status, data = _number_list_template({"content": "Hello ${Name}, see ${website} ${Name}"})

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert status == 200
    assert [cell.value for cell in sheet[1]] == ["Phone Number", "Name", "website"]


def test_the_number_list_template_as_csv_has_a_bom_and_the_same_header(aws, tenant):
    status, data = _number_list_template(
        {"content": "Hello ${Name}, see ${website}", "format": "csv"}
    )

    assert status == 200
    assert data.startswith(codecs.BOM_UTF8)
    assert next(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        "Phone Number",
        "Name",
        "website",
    ]


def test_the_number_list_template_of_a_saved_template_names_its_variables(aws, tenant):
    _, template = _create_template()

    _, data = _number_list_template({"template_id": template["template_id"]})

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [cell.value for cell in sheet[1]] == ["Phone Number", "Name", "Pin"]


def test_the_number_list_template_of_a_content_with_a_bad_variable_is_refused(aws, tenant):
    status, answer = _number_list_template({"content": "Hi ${A b}"})

    assert status == 400
    assert "'${A b}' is not a variable" in answer["error"]["message"]


def test_the_number_list_template_needs_content_or_a_template(aws, tenant):
    status, _ = _number_list_template(None)

    assert status == 400


# --- blacklists ---------------------------------------------------------------------------


def _list_blacklist(platform=False, role="tenant", query=None):
    path = "/v1/admin/blacklist" if platform else "/v1/blacklist"
    return api.call(admin_app, "GET", path, path, role=role, query=query)


def _numbers(page):
    return [item["number"] for item in page["items"]]


def test_a_blacklist_search_finds_the_numbers_starting_with_the_digits_given(aws, tenant):
    api.blacklist(["+639171234567", "+639175550123", "+639215347566", "+15512345678"])

    for written in ("+63917", "63917", "+63 917", "639-17"):
        status, found = _list_blacklist(query={"number": written})
        assert status == 200, found
        assert _numbers(found) == ["+639171234567", "+639175550123"], written
        assert (found["total"], found["total_exact"]) == (2, True)
    assert _numbers(_list_blacklist(query={"number": "+639215347566"})[1]) == ["+639215347566"]
    assert _list_blacklist(query={"number": "+4420"})[1]["items"] == []
    assert len(_list_blacklist(query={"number": " "})[1]["items"]) == 4


def test_a_blacklist_search_pages_on_within_what_it_found(aws, tenant):
    api.blacklist([f"+6391712345{n:02d}" for n in range(3)] + ["+639215347566"])
    query = {"number": "+63917", "page_size": "2"}

    _, first = _list_blacklist(query=query)
    _, second = _list_blacklist(query={**query, "cursor": first["next_cursor"]})

    assert _numbers(first) == ["+639171234500", "+639171234501"]
    assert first["total"] == 3
    assert _numbers(second) == ["+639171234502"]
    assert second["next_cursor"] is None
    # A cursor given out by one search is not taken by another that it falls outside of.
    status, answer = _list_blacklist(query={"number": "+63921", "cursor": first["next_cursor"]})
    assert status == 400
    assert answer["error"]["message"] == "the cursor is not one this API gave out"


@pytest.mark.parametrize("written", ["abc", "0917123", "+", "1234567890123456", "+63 917 x"])
def test_a_blacklist_search_that_is_not_the_start_of_a_number_is_refused(aws, tenant, written):
    status, answer = _list_blacklist(query={"number": written})

    assert status == 400
    assert answer["error"]["message"] == (
        "'number' is searched from its country code: the first digits of a number, "
        'or all of them, with or without "+"'
    )


def test_the_platform_blacklist_is_searched_as_a_tenants_is(aws, tenant):
    api.blacklist(["+639175550123", "+15512345678"], platform=True)
    api.blacklist(["+639171234567"])

    _, found = _list_blacklist(platform=True, role="operator", query={"number": "+63917"})

    assert _numbers(found) == ["+639175550123"]


def test_numbers_added_to_the_blacklist_are_normalised_and_invalid_ones_answered(aws, tenant):
    added = api.blacklist(["+63 921 534 7566", "12345"])

    _, listed = _list_blacklist()

    assert added["added"] == ["+639215347566"]
    assert added["invalid"] == [{"number": "12345", "reason": "not a valid phone number"}]
    assert [item["number"] for item in listed["items"]] == ["+639215347566"]
    assert (listed["total"], listed["total_exact"]) == (1, True)


def test_more_numbers_than_one_request_takes_are_refused_saying_what_to_do(aws, tenant):
    numbers = [f"+6392153{n:05d}" for n in range(1001)]

    status, answer = api.call(
        admin_app, "POST", "/v1/blacklist", "/v1/blacklist", body={"numbers": numbers}
    )

    assert status == 400
    assert answer["error"]["message"] == (
        "numbers: at most 1,000 numbers in one request (this has 1,001); import a file for more"
    )
    assert _list_blacklist()[1]["items"] == []


def test_a_number_is_removed_from_the_blacklist(aws, tenant):
    api.blacklist(["+639215347566"])

    status, _ = api.call(
        admin_app,
        "DELETE",
        "/v1/blacklist/+639215347566",
        "/v1/blacklist/{number}",
    )
    again, _ = api.call(
        admin_app, "DELETE", "/v1/blacklist/+639215347566", "/v1/blacklist/{number}"
    )

    assert (status, again) == (204, 404)
    assert _list_blacklist()[1]["items"] == []


def test_a_number_whose_plus_the_client_escaped_is_removed(aws, tenant):
    # A REST API hands the function its path as the client wrote it: a browser escapes
    # "+" as %2B, and without the "+" this +1 number would read as a Mainland China
    # mobile (ambiguous, 400), so the portal must send it with its "+", escaped.
    api.blacklist(["+15512345678"])

    status, answer = api.call(
        admin_app, "DELETE", "/v1/blacklist/%2B15512345678", "/v1/blacklist/{number}"
    )

    assert status == 204, answer
    assert _list_blacklist()[1]["items"] == []


def test_a_path_the_client_escaped_twice_is_decoded_once(aws, tenant):
    # "%252B" is the client's "%2B", not a "+": decoding it twice would remove this number.
    api.blacklist(["+15512345678"])

    status, _ = api.call(
        admin_app, "DELETE", "/v1/blacklist/%252B15512345678", "/v1/blacklist/{number}"
    )

    assert status != 204
    assert [n["number"] for n in _list_blacklist()[1]["items"]] == ["+15512345678"]


def test_a_blacklist_file_is_imported_with_its_invalid_rows_answered(aws, tenant):
    data = corpus.csv_file([["Phone Number"], ["+639215347566"], ["639175550123"], ["oops"]])

    status, answer = api.post_form("/v1/blacklist/import", {}, data, "blacklist.csv")

    assert status == 200
    assert answer["added"] == 2
    assert answer["invalid"] == [{"row": 4, "value": "oops", "reason": "not a valid phone number"}]


def test_a_blacklist_file_longer_than_an_import_takes_is_refused_and_nothing_is_listed(
    aws, tenant, monkeypatch
):
    # On AWS a longer import would outlast API Gateway's 29 s: a 504, part of it written.
    from cloudsms.services import blacklist

    monkeypatch.setattr(blacklist, "MAX_IMPORT_ROWS", 2)
    numbers = [["+639215347566"], ["+639175550123"], ["+639175550124"]]

    status, answer = api.post_form(
        "/v1/blacklist/import", {}, corpus.csv_file([["Phone Number"], *numbers]), "b.csv"
    )

    assert status == 400
    assert answer["error"]["message"] == (
        "the file has more than 2 rows: an import takes at most 2; split the file and "
        "import each part"
    )
    assert _list_blacklist()[1]["items"] == []
    at_the_limit = api.post_form(
        "/v1/blacklist/import", {}, corpus.csv_file([["Phone Number"], *numbers[:2]]), "b.csv"
    )
    assert at_the_limit[0] == 200 and at_the_limit[1]["added"] == 2


def test_a_blacklist_import_with_a_reason_too_long_is_refused_and_nothing_is_listed(aws, tenant):
    data = corpus.csv_file([["Phone Number"], ["+639215347566"]])

    status, answer = api.post_form(
        "/v1/blacklist/import", {"reason": "x" * 201}, data, "blacklist.csv"
    )

    assert status == 400
    assert answer["error"]["message"] == "the reason has more than 200 characters"
    assert _list_blacklist()[1]["items"] == []


def test_a_blacklist_file_without_a_header_row_is_refused_not_cut_short(aws, tenant):
    # Read as a header, the first number would be lost without a word.
    data = corpus.csv_file([["+639170004005"], ["+639170004015"]])

    status, answer = api.post_form("/v1/blacklist/import", {}, data, "blacklist.csv")

    assert status == 400
    assert "no header row" in answer["error"]["message"]
    assert _list_blacklist()[1]["items"] == []


def test_a_blacklist_file_with_a_stray_cell_far_outside_the_list_is_refused(aws, tenant):
    status, answer = api.post_form(
        "/v1/blacklist/import", {}, corpus.stray_far_cell_xlsx(), "blacklist.xlsx"
    )

    assert status == 400
    assert "has a cell in XFD1048576, far outside the list" in answer["error"]["message"]
    assert _list_blacklist()[1]["items"] == []


def test_a_missions_number_list_imports_as_it_is_each_number_once(aws, tenant):
    # The guide's list: the phone number, then a column per variable.
    data = corpus.csv_file(
        [
            ["Phone Number", "Name", "website"],
            ["+639215347566", "Amy", "www.baidu.com"],
            ["+639215347566", "Bob", "www.sina.com.cn"],
            ["639175550123", "Eve", "www.example.com"],
        ]
    )

    status, answer = api.post_form("/v1/blacklist/import", {}, data, "list.csv")

    assert (status, answer) == (
        200,
        {"added": 2, "already_listed": 0, "repeated": 1, "invalid": []},
    )
    numbers = [item["number"] for item in _list_blacklist()[1]["items"]]
    assert sorted(numbers) == ["+639175550123", "+639215347566"]


def test_the_number_list_templates_example_row_left_in_is_not_blacklisted(aws, tenant):
    # The template's example row names its columns; a mission refuses it, and listed it
    # would block the example's number for good.
    _, template = _number_list_template({"content": "Hi ${Name}, see ${website}", "format": "csv"})
    data = template + b"+639175550123,Eve,www.example.com\r\n"

    status, answer = api.post_form("/v1/blacklist/import", {}, data, "list.csv")

    assert status == 200
    assert (answer["added"], answer["invalid"]) == (
        1,
        [
            {
                "row": 2,
                "value": "+639215347566",
                "reason": "the template's example row (+639215347566 and the variables' "
                "names): delete it",
            }
        ],
    )
    numbers = [item["number"] for item in _list_blacklist()[1]["items"]]
    assert numbers == ["+639175550123"]


def test_a_mainland_china_mobile_in_national_form_is_blacklisted(aws, tenant):
    data = corpus.csv_file([["Phone", "Name"], ["13800138000", "A"], ["+8613800138001", "B"]])

    status, answer = api.post_form("/v1/blacklist/import", {}, data, "list.csv")
    added = api.blacklist(["13800138002"])

    assert (status, answer) == (
        200,
        {"added": 2, "already_listed": 0, "repeated": 0, "invalid": []},
    )
    assert added == {"added": ["+8613800138002"], "already_listed": [], "invalid": []}


def test_a_number_given_twice_is_added_once(aws, tenant):
    added = api.blacklist(["+639215347566", "+63 921 534 7566", "00639215347566"])

    assert added == {"added": ["+639215347566"], "already_listed": [], "invalid": []}


def test_a_listed_number_imported_again_keeps_its_reason_and_date(aws, tenant):
    first = api.blacklist(["+639215347566"], reason="asked to stop")
    _, before = _list_blacklist()
    data = corpus.csv_file([["Phone"], ["+639215347566"], ["+639175550123"]])

    status, answer = api.post_form("/v1/blacklist/import", {"reason": "list"}, data, "list.csv")
    again = api.blacklist(["+639215347566"], reason="other")

    assert first["added"] == ["+639215347566"]
    assert (status, answer) == (
        200,
        {"added": 1, "already_listed": 1, "repeated": 0, "invalid": []},
    )
    assert again == {"added": [], "already_listed": ["+639215347566"], "invalid": []}
    items = {item["number"]: item for item in _list_blacklist()[1]["items"]}
    assert items["+639215347566"] == before["items"][0]
    assert items["+639215347566"]["reason"] == "asked to stop"
    assert items["+639175550123"]["reason"] == "list"


def test_the_platform_blacklist_is_kept_apart_from_the_tenants(aws, tenant):
    api.blacklist(["+639175550123"], platform=True)

    _, platform = _list_blacklist(platform=True, role="operator")
    _, own = _list_blacklist()

    assert [item["number"] for item in platform["items"]] == ["+639175550123"]
    assert own["items"] == []


def test_the_operator_imports_a_file_to_the_platform_blacklist_not_a_tenants(aws, tenant):
    data = corpus.csv_file([["Phone Number"], ["+639215347566"], ["oops"]])

    status, answer = api.post_form(
        "/v1/admin/blacklist/import",
        {"reason": "complaint"},
        data,
        "blacklist.csv",
        role="operator",
    )

    assert status == 200, answer
    assert answer["added"] == 1
    assert answer["invalid"] == [{"row": 3, "value": "oops", "reason": "not a valid phone number"}]
    [listed] = _list_blacklist(platform=True, role="operator")[1]["items"]
    assert (listed["number"], listed["reason"]) == ("+639215347566", "complaint")
    assert _list_blacklist()[1]["items"] == []


def test_a_tenant_cannot_import_to_the_platform_blacklist(aws, tenant):
    data = corpus.csv_file([["Phone Number"], ["+639215347566"]])

    status, _ = api.post_form("/v1/admin/blacklist/import", {}, data, "blacklist.csv")

    assert status == 403
    assert _list_blacklist(platform=True, role="operator")[1]["items"] == []


def test_the_blacklist_pages_on_with_its_cursor(aws, tenant):
    api.blacklist(["+639215347566", "+639215347567", "+639215347568"])

    _, first = api.call(
        admin_app, "GET", "/v1/blacklist", "/v1/blacklist", query={"page_size": "2"}
    )
    _, second = api.call(
        admin_app, "GET", "/v1/blacklist", "/v1/blacklist", query={"cursor": first["next_cursor"]}
    )

    assert [item["number"] for item in first["items"] + second["items"]] == [
        "+639215347566",
        "+639215347567",
        "+639215347568",
    ]
    assert second["next_cursor"] is None


def test_a_blacklist_page_that_ends_the_list_gives_no_cursor_to_an_empty_page(aws, tenant):
    api.blacklist(["+639215347566", "+639215347567", "+639215347568", "+639215347570"])

    # DynamoDB gives a last key whenever a read stops at its limit; the emulator does when
    # numbers follow the searched range, as +639215347570 does.
    query = {"page_size": "3", "number": "+63921534756"}
    _, found = api.call(admin_app, "GET", "/v1/blacklist", "/v1/blacklist", query=query)
    query = {"page_size": "2", "number": "+63921534756"}
    _, first = api.call(admin_app, "GET", "/v1/blacklist", "/v1/blacklist", query=query)
    query["cursor"] = first["next_cursor"]
    _, second = api.call(admin_app, "GET", "/v1/blacklist", "/v1/blacklist", query=query)

    assert (len(found["items"]), found["next_cursor"]) == (3, None)
    assert [item["number"] for item in second["items"]] == ["+639215347568"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "last_key"),
    [
        ("/v1/blacklist", {"x": 1}),
        ("/v1/blacklist", {"owner": {"S": "demo"}, "number": {"S": "+639215347566"}}),
        ("/v1/templates", {"x": 1}),
        ("/v1/templates", {"tenant_id": {"S": "demo"}, "template_id": {"S": "01A0"}}),
    ],
)
def test_a_cursor_this_api_did_not_give_out_is_refused(aws, tenant, path, last_key):
    cursor = base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode()

    status, answer = api.call(admin_app, "GET", path, path, query={"cursor": cursor})

    assert status == 400
    assert answer["error"]["message"] == "the cursor is not one this API gave out"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_platform_blacklist_needs_an_operator_key(aws, tenant, method):
    status, answer = api.call(
        admin_app,
        method,
        "/v1/admin/blacklist",
        "/v1/admin/blacklist",
        body={"numbers": ["+639175550123"]} if method == "POST" else None,
    )

    assert status == 403
    assert answer["error"]["code"] == "forbidden"
