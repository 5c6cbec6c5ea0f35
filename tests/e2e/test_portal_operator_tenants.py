"""The operator's Tenants page, in a real browser against the local stack: every tenant,
and for one its channels (Grant, Revoke), its sender ids and its last 7 days' usage, as
the `cloudsms` command and the admin API change and read them.

The tests use tenants of their own, so the other tests' data stays exactly theirs.
"""

import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import (  # noqa: F401 - browser is a fixture
    HTTP_TIMEOUT,
    _logged_in,
    _menu,
    _screenshot,
    _tenant_key,
    browser,
)
from tests.e2e.test_portal_operator import _add_channel, _operator_get, _untranslated_here

pytestmark = pytest.mark.browser

TENANT = "op-tenants-page"
USAGE_TENANT = "op-tenants-usage"
DISABLED_TENANT = "op-tenants-off"
DELIVERY_TIMEOUT = 15.0


@pytest.fixture(scope="module")
def tenant(cloudsms_cli, stack) -> str:
    cloudsms_cli("tenant-create", TENANT, "--name", "Tenants Page Tester")
    cloudsms_cli("channel-grant", TENANT, stack["channel"])
    return TENANT


@pytest.fixture(scope="module")
def operator(browser, stack, cloudsms_cli) -> Iterator[Page]:  # noqa: F811 - the fixture
    """One operator's page for the module's tests (each goes to the page it needs)."""
    key = cloudsms_cli("key-issue", "ops", "--role", "operator", "--name", "tenants page")["key"]
    with _logged_in(browser, stack, str(key)) as page:
        yield page


def _open(page: Page, stack, tenant: str | None = None) -> None:
    page.goto(f"{stack['api_url']}/#/tenants" + (f"?tenant={tenant}" if tenant else ""))
    expect(page.get_by_role("heading", name="Tenants", level=1)).to_be_visible()


def _tenant_row(page: Page, tenant: str):
    """The tenant's row of the list, on whichever of its pages it is."""
    rows = page.get_by_role("table", name="Tenants").get_by_role("row")
    row = rows.filter(has=page.get_by_role("cell", name=tenant, exact=True))
    expect(rows.first).to_be_visible()
    while not row.count():
        page.get_by_role("button", name="Next page").click()
    return row


def _listed(stack, tenant: str) -> dict:
    tenants = _operator_get(stack, "/v1/admin/tenants")["tenants"]
    return next(t for t in tenants if t["tenant_id"] == tenant)


def test_the_tenants_page_is_first_of_the_operators_and_lists_every_tenant(
    operator, stack, tenant, cloudsms_cli
):
    cloudsms_cli("tenant-create", DISABLED_TENANT, "--name", "Cut Off")
    cloudsms_cli("tenant-disable", DISABLED_TENANT)
    cloudsms_cli("tenant-countries", DISABLED_TENANT, "SG", "PH")
    operator.goto(f"{stack['api_url']}/#/overview")
    group = operator.locator("nav.sidebar li.group").filter(has_text="Operator")
    expect(group.get_by_role("link")).to_have_text(
        [
            "Tenants",
            "Accounts",
            "Product Packages",
            "Business Channels",
            "Common Templates",
            "Platform Black List",
            "Unmatched Receipts",
            "Platform Audit Trail",
        ]
    )

    _menu(operator, "Tenants")

    row = _tenant_row(operator, tenant)
    expect(row).to_contain_text("Tenants Page Tester")
    expect(row).to_contain_text("Asia/Shanghai")
    expect(row).to_contain_text(stack["channel"])
    expect(row).to_contain_text("Any")  # no sender id registered
    expect(row).to_contain_text("Every country")  # no countries set
    expect(row).to_contain_text("Enabled")
    _open(operator, stack)
    expect(_tenant_row(operator, DISABLED_TENANT)).to_contain_text("Disabled")
    expect(_tenant_row(operator, DISABLED_TENANT)).to_contain_text("PH, SG")
    # What the page does not do, and where it is done.
    expect(operator.get_by_text("a key is shown once, at the console")).to_be_visible()


def test_a_channel_is_granted_and_revoked_from_a_tenants_detail(operator, stack, tenant):
    route = _add_channel(stack)
    _open(operator, stack)
    _tenant_row(operator, tenant).get_by_role("link", name=f"Detail of {tenant}").click()
    expect(operator.get_by_role("heading", name=f"Tenant {tenant}")).to_be_visible()
    assert f"tenant={tenant}" in operator.url
    channels = operator.get_by_role("table", name=f"Business channels of {tenant}")
    expect(channels).to_contain_text(stack["channel"])

    # The channels offered are those the tenant lacks.
    grant = operator.get_by_role("form", name="Grant a channel")
    choice = grant.get_by_label("Business Channel")
    expect(choice.locator(f'option[value="{stack["channel"]}"]')).to_have_count(0)
    choice.select_option(route)
    grant.get_by_role("button", name="Grant").click()

    expect(operator.get_by_role("status")).to_contain_text(f"{route} is granted to {tenant}.")
    expect(channels.get_by_role("cell", name=route, exact=True)).to_be_visible()
    assert route in _listed(stack, tenant)["channels"]
    expect(choice.locator(f'option[value="{route}"]')).to_have_count(0)

    # Revoking is asked first: Cancel keeps the channel.
    channels.get_by_role("button", name=f"Revoke {route}").click()
    operator.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert route in _listed(stack, tenant)["channels"]
    channels.get_by_role("button", name=f"Revoke {route}").click()
    dialog = operator.get_by_role("dialog", name=f"Revoke {route} from {tenant}?")
    dialog.get_by_role("button", name="Revoke").click()

    expect(operator.get_by_role("status")).to_contain_text(f"{route} is revoked from {tenant}.")
    expect(channels.get_by_role("cell", name=route, exact=True)).to_have_count(0)
    assert route not in _listed(stack, tenant)["channels"]
    expect(choice.locator(f'option[value="{route}"]')).to_have_count(1)


def test_sender_ids_are_saved_refused_beside_the_form_and_cleared_after_asking(
    operator, stack, tenant
):
    _open(operator, stack, tenant)
    form = operator.get_by_role("form", name=f"Sender IDs of {tenant}")
    senders = form.get_by_label("Sender IDs")

    senders.fill("ACME\n\n  ACME Care \n")
    form.get_by_role("button", name="Save").click()

    expect(operator.get_by_role("status")).to_contain_text(
        f"Sender ids of {tenant} saved: ACME, ACME Care."
    )
    assert _listed(stack, tenant)["sender_ids"] == ["ACME", "ACME Care"]
    expect(_tenant_row(operator, tenant)).to_contain_text("ACME, ACME Care")

    # A sender id the carriers would refuse: the API's reason, beside the form.
    senders.fill("ACME\nFAR-TOO-LONG-SENDER")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("FAR-TOO-LONG-SENDER")
    assert _listed(stack, tenant)["sender_ids"] == ["ACME", "ACME Care"]

    # None: any sender id, which is asked first.
    senders.fill("")
    form.get_by_role("button", name="Save").click()
    dialog = operator.get_by_role("dialog", name=f"Let {tenant} send as any sender id?")
    dialog.get_by_role("button", name="Remove every sender id").click()
    expect(operator.get_by_role("status")).to_contain_text(
        f"{tenant} has no sender id registered: it may send as any."
    )
    assert _listed(stack, tenant)["sender_ids"] == []


def _wait_for_delivery(stack, tenant: str) -> str:
    """The dispatching date the tenant's one message was counted on, once delivered: read
    from the statistics, not the clock, which may have passed the tenant's midnight since."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while time.monotonic() < deadline:
        days = _operator_get(stack, f"/v1/admin/tenants/{tenant}/statistics")["days"]
        delivered = [day["date"] for day in days if day["delivered"]]
        if delivered:
            return delivered[0]
        time.sleep(0.3)
    pytest.fail(f"{tenant}'s message was not delivered in {DELIVERY_TIMEOUT:.0f} s")


def test_the_usage_shows_the_last_7_days_statistics_and_expenses(operator, stack, cloudsms_cli):
    key = _tenant_key(cloudsms_cli, USAGE_TENANT, "Usage Tester", stack["channel"])
    sent = requests.post(
        f"{stack['api_url']}/v1/sms",
        # The simulator delivers every number ending in 6.
        json={
            "to": ["+639215347566"],
            "text": "Hi",
            "sms_type": "business",
            "channel": stack["channel"],
        },
        headers={"Authorization": f"Bearer {key}"},
        timeout=HTTP_TIMEOUT,
    )
    assert sent.status_code == 202, sent.text
    today = _wait_for_delivery(stack, USAGE_TENANT)

    _open(operator, stack, USAGE_TENANT)

    usage = operator.get_by_role("region", name="Usage in the last 7 days")
    expect(usage).to_contain_text("Asia/Shanghai (UTC+8)")
    statistics = usage.get_by_role("table", name="SMS delivery statistics")
    expect(statistics.get_by_role("row")).to_have_count(8)  # the header and 7 days
    cells = statistics.get_by_role("row").filter(has_text=today).get_by_role("cell")
    expect(cells.nth(2)).to_have_text("1")  # Total Delivery Amount
    expect(cells.nth(3)).to_have_text("1")  # Delivery Success
    expect(cells.nth(6)).to_have_text("100%")
    # The Dispatching Log is the tenant's own: no link to it from the operator's page.
    expect(statistics.get_by_role("link")).to_have_count(0)
    expenses = usage.get_by_role("table", name="Expense statistics")
    cells = expenses.get_by_role("row").filter(has_text=today).get_by_role("cell")
    expect(cells.nth(2)).to_have_text(stack["channel"])
    expect(cells.nth(3)).to_have_text("1")  # Submitted SMS
    total = usage.get_by_role("region", name="Total")
    expect(total.locator("dt:text-is('Submitted SMS') + dd")).to_have_text("1")
    _screenshot(operator, "operator-tenants")


def test_an_unknown_tenant_in_the_address_is_said(operator, stack):
    _open(operator, stack, "no-such-tenant")

    expect(operator.get_by_role("alert")).to_contain_text("There is no tenant no-such-tenant.")
    expect(operator.get_by_role("form", name="Grant a channel")).to_have_count(0)


def test_the_tenants_page_speaks_chinese_when_it_is_chosen(operator, stack, tenant):
    """Last: it leaves the module's page in Chinese."""
    _open(operator, stack, tenant)
    operator.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
    operator.reload()

    expect(operator.get_by_role("heading", name="租户", level=1)).to_be_visible()
    expect(operator.locator("nav.sidebar").get_by_role("link", name="租户")).to_be_visible()
    channels = operator.get_by_role("table", name=f"{tenant} 的业务通道")
    expect(channels).to_contain_text("发送中")
    expect(operator.get_by_role("table", name="短信发送统计")).to_be_visible()
    expect(operator.get_by_role("region", name="最近 7 天的用量")).to_be_visible()
    assert _untranslated_here(operator) == []
    _screenshot(operator, "operator-tenants-zh")

    channels.get_by_role("button", name=f"收回 {stack['channel']}").click()
    dialog = operator.get_by_role("dialog", name=f"从 {tenant} 收回 {stack['channel']}？")
    assert _untranslated_here(operator) == []
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)
