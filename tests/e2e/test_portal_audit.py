"""The audit trail's pages, in a real browser against the local stack: a change made
through the API or with the `cloudsms` command is listed on the operator's Platform Audit
Trail, with who made it, the action, what it named and the fields it changed, as the API
answers them; a tenant's Audit Trail lists its own tenant's changes only, paged by the
API's cursor and searched by dates of the tenant's time zone.

The tenants are the module's own, so every change listed of them is one these tests made.
"""

import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import (  # noqa: F401 - browser is a fixture
    _logged_in,
    _screenshot,
    browser,
)
from tests.e2e.test_portal_operator import _untranslated_here
from tests.e2e.test_portal_operator_lists import _api

pytestmark = pytest.mark.browser

TENANT = "portal-audit"
OTHER = "portal-audit-other"
PAGED = "portal-audit-paged"
SANTIAGO = "portal-audit-santiago"
# Not the operator's (Asia/Shanghai), nor UTC: a time shown in it is the tenant's.
ZONE = "America/Sao_Paulo"
SENDER_IDS = "PUT /v1/admin/tenants/{tenant_id}/sender-ids"
TEMPLATE_DELETED = "DELETE /v1/templates/{template_id}"


def _key(cloudsms_cli, tenant: str) -> str:
    """A key of a new tenant of the tenant's time zone (ZONE)."""
    cloudsms_cli("tenant-create", tenant, "--name", f"Audit {tenant}", "--time-zone", ZONE)
    return str(cloudsms_cli("key-issue", tenant, "--name", "audit tests")["key"])


def _add_template(stack, key: str, name: str) -> str:
    body = {"name": name, "content": "Your code is ${code}", "sms_type": "verify_code"}
    response = _api(stack, "POST", "/v1/templates", key, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["template_id"])


def _entries(stack, key: str, path: str, **query: str) -> list[dict[str, Any]]:
    """The first page of an audit trail as the API answers it (100 entries)."""
    response = _api(stack, "GET", path, key, params={"page_size": 100, **query})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _entry(entries: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """The newest entry of `action`."""
    return next(e for e in entries if e["action"] == action)


@pytest.fixture(scope="module")
def changes(stack, cloudsms_cli) -> dict[str, Any]:
    """TENANT's changes: a template added and deleted with its key, its sender ids set by
    the operator through the API, its countries with the command; and OTHER's template."""
    key = _key(cloudsms_cli, TENANT)
    other_key = _key(cloudsms_cli, OTHER)
    template_id = _add_template(stack, key, f"audited-{secrets.token_hex(3)}")
    deleted = _api(stack, "DELETE", f"/v1/templates/{template_id}", key)
    assert deleted.status_code == 204, deleted.text
    other_template = f"other-{secrets.token_hex(3)}"
    other_template_id = _add_template(stack, other_key, other_template)
    body = {"sender_ids": ["AUDITED"]}
    path = f"/v1/admin/tenants/{TENANT}/sender-ids"
    assert _api(stack, "PUT", path, stack["operator_key"], json=body).status_code == 200
    cloudsms_cli("tenant-countries", TENANT, "PH")
    return {
        "key": key,
        "keys": {TENANT: key, OTHER: other_key},
        "template_id": template_id,
        "other_template_id": other_template_id,
    }


@pytest.fixture(scope="module")
def paged_key(stack, cloudsms_cli) -> str:
    """A key of a tenant with 13 changes: created, its key issued, 11 templates added."""
    key = _key(cloudsms_cli, PAGED)
    for number in range(11):
        _add_template(stack, key, f"paged-{number}")
    return key


@pytest.fixture
def operator(browser, stack) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, stack["operator_key"]) as page:
        yield page


@pytest.fixture
def tenant(browser, stack, changes) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, changes["key"]) as page:
        yield page


def _open(page: Page, name: str) -> None:
    # Exactly: "Audit Trail" is in "Platform Audit Trail" too.
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name=name, exact=True
    ).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def _search(page: Page, tenant: str | None = None, start: str = "", end: str = "") -> None:
    filters = page.get_by_role("search", name="Search the audit trail")
    if tenant is not None:
        filters.get_by_label("Tenant ID").fill(tenant)
    filters.get_by_label("Date from").fill(start)
    filters.get_by_label("to", exact=True).fill(end)
    filters.get_by_role("button", name="Search").click()


def _row(page: Page, action: str, table: str = "Audit trail"):
    """The row of the change whose action is `action` in the table named `table`."""
    rows = page.get_by_role("table", name=table).get_by_role("row")
    return rows.filter(has=page.get_by_role("cell", name=action, exact=True))


def _shown_at(entry: dict[str, Any], zone: str) -> str:
    return (
        datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    )


def test_the_operator_sees_a_change_made_through_the_api_with_who_made_it(operator, stack, changes):
    # Given the operator's change of TENANT's sender ids, as the API lists it
    entry = _entry(
        _entries(stack, stack["operator_key"], "/v1/admin/audit", tenant=TENANT), SENDER_IDS
    )
    zone = _api(stack, "GET", "/v1/overview", stack["operator_key"]).json()["time_zone"]

    # When the operator searches the Platform Audit Trail for TENANT's changes
    _open(operator, "Platform Audit Trail")
    _search(operator, tenant=TENANT)

    # Then the change is listed as the API answers it, at its time in the operator's zone
    row = _row(operator, SENDER_IDS)
    expect(row).to_contain_text(_shown_at(entry, zone))
    expect(row).to_contain_text(entry["actor"])  # the operator key's id
    expect(row).to_contain_text("Operator")
    expect(row.get_by_role("cell", name=TENANT, exact=True)).to_have_count(1)
    expect(row).to_contain_text(f"tenant_id: {TENANT}")
    expect(row.get_by_role("cell", name="sender_ids", exact=True)).to_have_count(1)
    expect(row.get_by_role("cell", name=entry["source_ip"], exact=True)).to_have_count(1)
    # And only TENANT's changes: the other tenant's template is not among them
    table = operator.get_by_role("table", name="Audit trail")
    expect(_row(operator, TEMPLATE_DELETED)).to_contain_text(changes["template_id"])
    expect(table).not_to_contain_text(OTHER)
    expect(table).not_to_contain_text(changes["other_template_id"])
    _screenshot(operator, "operator-audit")


def test_the_operator_sees_a_console_commands_change_with_its_aws_caller(operator, stack, changes):
    entry = _entry(
        _entries(stack, stack["operator_key"], "/v1/admin/audit", tenant=TENANT), "tenant-countries"
    )

    _open(operator, "Platform Audit Trail")
    _search(operator, tenant=TENANT)

    row = _row(operator, "tenant-countries")
    expect(row).to_contain_text(entry["actor"])  # the AWS caller's ARN
    expect(row).to_contain_text(f"tenant_id: {TENANT}")
    expect(row).to_contain_text("countries: PH")
    # A command has no key's role, gave no option and came from no address.
    expect(row).not_to_contain_text("Operator")
    expect(row.get_by_role("cell", name="-", exact=True)).to_have_count(2)


def test_the_operator_sees_every_tenants_changes_without_a_tenant(operator, stack, changes):
    # Given a change of each tenant's, the newest of the platform's
    for tenant in (TENANT, OTHER):
        _add_template(stack, changes["keys"][tenant], f"every-{secrets.token_hex(3)}")

    _open(operator, "Platform Audit Trail")
    _search(operator, tenant="")

    added = _row(operator, "POST /v1/templates")
    for tenant in (TENANT, OTHER):
        of_tenant = added.filter(has=operator.get_by_role("cell", name=tenant, exact=True))
        expect(of_tenant.first).to_be_visible()


def test_a_tenants_user_sees_its_own_tenants_changes_only(tenant, stack, changes):
    # Given TENANT's changes as the API lists them to its key
    entries = _entries(stack, changes["key"], "/v1/audit")
    deleted = _entry(entries, TEMPLATE_DELETED)

    # When its user opens the Audit Trail
    _open(tenant, "Audit Trail")

    # Then its own changes are listed, at their times in its time zone
    row = _row(tenant, TEMPLATE_DELETED)
    expect(row).to_contain_text(_shown_at(deleted, ZONE))
    expect(row).to_contain_text(deleted["actor"])  # the tenant key's id
    expect(row).to_contain_text("Tenant")
    expect(row).to_contain_text(f"template_id: {changes['template_id']}")
    added = _row(tenant, "POST /v1/templates").first
    expect(
        added.get_by_role(
            "cell", name=", ".join(_entry(entries, "POST /v1/templates")["fields"]), exact=True
        )
    ).to_have_count(1)
    # And the operator's changes to it, which it did not make itself: said to be the
    # operator's, not whose key nor which AWS caller
    by_operator = _entries(stack, stack["operator_key"], "/v1/admin/audit", tenant=TENANT)
    for action in (SENDER_IDS, "tenant-countries"):
        row = _row(tenant, action)
        expect(row).to_contain_text("Operator")
        expect(row).not_to_contain_text(_entry(by_operator, action)["actor"])
    # And nothing of another tenant, nor a column for the tenant: all are its own
    table = tenant.get_by_role("table", name="Audit trail")
    expect(table).not_to_contain_text(changes["other_template_id"])
    expect(table).not_to_contain_text(OTHER)
    expect(table.get_by_role("columnheader", name="Tenant ID")).to_have_count(0)
    _screenshot(tenant, "audit")


def test_a_tenant_has_no_platform_audit_trail(tenant, stack):
    menu = tenant.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link", name="Audit Trail", exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Platform Audit Trail")).to_have_count(0)

    tenant.goto(f"{stack['api_url']}/#/platform-audit")

    expect(tenant.get_by_role("heading", name="SMS Overview")).to_be_visible()
    expect(tenant.get_by_role("heading", name="Platform Audit Trail")).to_have_count(0)


def test_next_page_shows_the_older_changes(browser, stack, paged_key):  # noqa: F811
    with _logged_in(browser, stack, paged_key) as page:
        _open(page, "Audit Trail")
        rows = page.get_by_role("table", name="Audit trail").locator("tbody tr")
        # Newest first: the last template added, ten changes a page.
        expect(rows).to_have_count(10)
        expect(rows.first).to_contain_text("POST /v1/templates")

        page.get_by_role("button", name="Next page").click()

        # The three oldest: a template, the key issued and the tenant created.
        expect(page.locator(".pager-page")).to_have_text("Page 2")
        expect(rows).to_have_count(3)
        expect(rows.first.get_by_role("cell").first).to_have_text("11")
        expect(rows.nth(1)).to_contain_text("key-issue")
        expect(rows.nth(2)).to_contain_text("tenant-create")
        expect(page.get_by_role("button", name="Next page")).to_be_disabled()


def test_a_search_by_dates_takes_the_days_of_the_tenants_time_zone(tenant, stack, changes):
    entry = _entry(_entries(stack, changes["key"], "/v1/audit"), TEMPLATE_DELETED)
    day = datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo(ZONE)).date()
    before = (day - timedelta(days=1)).isoformat()
    _open(tenant, "Audit Trail")

    _search(tenant, start=before, end=before)
    expect(tenant.get_by_role("cell", name="No change matches the search.")).to_be_visible()

    with tenant.expect_request(lambda request: "/v1/audit?" in request.url) as asked:
        _search(tenant, start=day.isoformat(), end=day.isoformat())
    expect(_row(tenant, TEMPLATE_DELETED)).to_contain_text(changes["template_id"])
    # The whole day of the tenant's zone (São Paulo keeps UTC-3 all year), not UTC's: the
    # API reads a time without an offset as UTC.
    query = parse_qs(urlsplit(asked.value.url).query)
    assert query["from"] == [f"{day}T00:00:00-03:00"]
    assert query["to"] == [f"{day}T23:59:59.999999-03:00"]


@pytest.fixture(scope="module")
def santiago_key(stack, cloudsms_cli) -> str:
    """A key of a tenant in America/Santiago, whose summer time starts and ends at midnight."""
    zone = "America/Santiago"
    cloudsms_cli("tenant-create", SANTIAGO, "--name", "Audit Santiago", "--time-zone", zone)
    return str(cloudsms_cli("key-issue", SANTIAGO, "--name", "audit tests")["key"])


def _searched_days(page: Page, day: str) -> dict[str, list[str]]:
    """The query the Audit Trail asks the API with for a search of `day`."""
    with page.expect_request(lambda request: "/v1/audit?" in request.url) as asked:
        _search(page, start=day, end=day)
    return parse_qs(urlsplit(asked.value.url).query)


def test_a_search_from_a_day_whose_midnight_the_clocks_skip_starts_at_the_days_first_moment(
    browser,  # noqa: F811 - the fixture
    stack,
    santiago_key,
):
    # Santiago's clocks went from 2024-09-07 23:59:59 (UTC-4) to 2024-09-08 01:00 (UTC-3):
    # the 8th began at 04:00 UTC, which is 00:00 of UTC-4; 00:00 of UTC-3 is the 7th's.
    with _logged_in(browser, stack, santiago_key) as page:
        _open(page, "Audit Trail")

        query = _searched_days(page, "2024-09-08")

    assert query["from"] == ["2024-09-08T00:00:00-04:00"]


def test_a_search_to_a_day_whose_last_hour_comes_twice_takes_both(
    browser,  # noqa: F811 - the fixture
    stack,
    santiago_key,
):
    # Santiago's clocks went back from 2024-04-06 23:59:59 (UTC-3) to 23:00 (UTC-4): the
    # 6th ended at 04:00 UTC, which is 23:59:59 of UTC-4.
    with _logged_in(browser, stack, santiago_key) as page:
        _open(page, "Audit Trail")

        query = _searched_days(page, "2024-04-06")

    assert query["to"] == ["2024-04-06T23:59:59.999999-04:00"]


def test_a_search_whose_first_date_is_after_the_last_is_refused_leaving_no_rows(tenant):
    _open(tenant, "Audit Trail")
    today = date.today()

    _search(tenant, start=(today + timedelta(days=1)).isoformat(), end=today.isoformat())

    expect(tenant.get_by_role("alert")).to_contain_text("The first date is after the last one.")
    expect(tenant.get_by_role("table", name="Audit trail")).to_have_count(0)


def test_the_audit_trails_speak_chinese_when_it_is_chosen(operator, stack, changes):
    """The operator's page and a tenant's (the operator's own tenant's), in Chinese."""
    operator.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
    operator.goto(f"{stack['api_url']}/#/platform-audit?tenant={TENANT}")
    operator.reload()

    expect(operator.get_by_role("heading", name="平台审计日志", level=1)).to_be_visible()
    row = _row(operator, SENDER_IDS, table="审计日志")
    expect(row).to_contain_text("运营方")
    assert _untranslated_here(operator) == []
    _screenshot(operator, "operator-audit-zh")

    operator.locator("nav.sidebar").get_by_role("link", name="审计日志", exact=True).click()
    expect(operator.get_by_role("heading", name="审计日志", level=1)).to_be_visible()
    expect(operator.get_by_role("search", name="查询审计日志")).to_be_visible()
    assert _untranslated_here(operator) == []
