"""The operator's Unmatched Receipts page, in a real browser against the local stack: a
receipt that a gateway posts to the receipt webhook, with the channel's secret, for a
message the platform does not know is listed, by its channel, and never with the secret.

The receipts are posted to channels of the module's own, so no other test's receipts are
in its lists.
"""

import secrets
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import (  # noqa: F401 - browser is a fixture
    HTTP_TIMEOUT,
    _logged_in,
    _menu,
    _operator_post,
    _screenshot,
    browser,
)
from tests.e2e.test_portal_operator import _add_channel, _operator_get, _untranslated_here

pytestmark = pytest.mark.browser


def _channel_with_secret(stack) -> tuple[str, str]:
    """A simulator channel of a new route id whose receipt secret the test chose (a
    generated one is never shown): its route id and that secret."""
    secret = f"receipts-{secrets.token_hex(12)}"
    return _add_channel(stack, prefix="RCPT", receipt_secret=secret), secret


def _post_receipt(stack, route: str, secret: str, uid: str, part: str, stat: str, err: str):
    """What a Kannel-style gateway sends for a message of ours: the dlr-url's query (our
    uid and the channel's secret) with its receipt filled in."""
    response = requests.get(
        f"{stack['receipt_url']}dlr/{route}",
        params={
            "secret": secret,
            "tenant": "no-such-tenant",
            "uid": uid,
            "status": "2" if stat != "DELIVRD" else "1",
            "answer": f"id:{part} sub:001 dlvrd:000 stat:{stat} err:{err}",
            "smsc_msgid": part,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def receipts(stack) -> dict[str, dict[str, str]]:
    """Two channels, each with one receipt for a message no one sent."""
    posted = {}
    for name, stat, err in (("first", "UNDELIV", "034"), ("second", "DELIVRD", "000")):
        route, secret = _channel_with_secret(stack)
        uid = f"NO-SUCH-{secrets.token_hex(4).upper()}"
        part = f"carrier-{secrets.token_hex(4)}"
        _post_receipt(stack, route, secret, uid, part, stat, err)
        posted[name] = {"route": route, "secret": secret, "uid": uid, "part": part}
    return posted


@pytest.fixture(scope="module")
def operator(browser, stack, cloudsms_cli) -> Iterator[Page]:  # noqa: F811 - the fixture
    key = cloudsms_cli("key-issue", "ops", "--role", "operator", "--name", "receipts page")["key"]
    with _logged_in(browser, stack, str(key)) as page:
        yield page


def _show(page: Page, route: str) -> None:
    filters = page.get_by_role("search", name="Search unmatched receipts")
    filters.get_by_label("Business Channel").select_option(route)
    filters.get_by_role("button", name="Search").click()


def _row(page: Page, table: str, uid: str):
    """The row of the receipt that named `uid` in the table named `table`."""
    rows = page.get_by_role("table", name=table).get_by_role("row")
    return rows.filter(has=page.get_by_role("cell", name=uid, exact=True))


def test_a_receipt_for_an_unknown_message_is_listed_by_its_channel(operator, stack, receipts):
    first, second = receipts["first"], receipts["second"]
    [listed] = _operator_get(stack, f"/v1/admin/receipts/unmatched?channel={first['route']}")[
        "receipts"
    ]
    zone = _operator_get(stack, "/v1/overview")["time_zone"]
    received = datetime.fromisoformat(listed["received_at"]).astimezone(ZoneInfo(zone))

    _menu(operator, "Unmatched Receipts")
    expect(operator.get_by_role("heading", name="Unmatched Receipts", level=1)).to_be_visible()
    expect(operator.get_by_text("the hourly sweep looks for its message again")).to_be_visible()
    # Every channel of the operator's is offered, and "All".
    choice = operator.get_by_role("search", name="Search unmatched receipts").get_by_label(
        "Business Channel"
    )
    expect(choice.locator("option", has_text="All")).to_have_count(1)
    expect(choice.locator(f'option[value="{first["route"]}"]')).to_have_count(1)
    expect(choice.locator(f'option[value="{stack["channel"]}"]')).to_have_count(1)

    _show(operator, first["route"])

    table = operator.get_by_role("table", name="Unmatched receipts")
    row = _row(operator, "Unmatched receipts", first["uid"])
    expect(row).to_contain_text(first["route"])
    expect(row).to_contain_text(first["part"])  # the carrier's message id
    expect(row).to_contain_text("UNDELIV")
    expect(row).to_contain_text("034")
    expect(row).to_contain_text("no-such-tenant")
    expect(row).to_contain_text(received.strftime("%Y-%m-%d %H:%M:%S"))
    expect(row).to_contain_text("Not yet")  # no message of that uid, so not reconciled
    expect(row).to_contain_text("stat:UNDELIV err:034")  # as the gateway sent it
    # Only the chosen channel's.
    expect(table.get_by_role("row")).to_have_count(2)  # the header and the one receipt
    expect(operator.locator("nav.pager")).to_contain_text("Total 1")
    assert first["secret"] not in operator.content()

    _show(operator, second["route"])
    expect(_row(operator, "Unmatched receipts", second["uid"])).to_contain_text("DELIVRD")
    expect(_row(operator, "Unmatched receipts", first["uid"])).to_have_count(0)

    _show(operator, "")  # All: every channel's, these two among them
    expect(operator.locator("nav.pager")).not_to_contain_text("Total 1 ")
    total = operator.locator("nav.pager .pager-total").inner_text()
    assert int(total.removeprefix("Total ").rstrip("+").replace(",", "")) >= 2
    _screenshot(operator, "operator-unmatched-receipts")


def test_the_unmatched_receipts_page_speaks_chinese_when_it_is_chosen(operator, stack, receipts):
    """Last: it leaves the module's page in Chinese."""
    operator.goto(f"{stack['api_url']}/#/unmatched-receipts")
    operator.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
    operator.reload()

    expect(operator.get_by_role("heading", name="未匹配回执", level=1)).to_be_visible()
    expect(operator.locator("nav.sidebar").get_by_role("link", name="未匹配回执")).to_be_visible()
    filters = operator.get_by_role("search", name="查询未匹配回执")
    filters.get_by_label("业务通道").select_option(receipts["first"]["route"])
    filters.get_by_role("button", name="查询").click()
    row = _row(operator, "未匹配回执", receipts["first"]["uid"])
    expect(row).to_contain_text("尚未匹配")
    assert _untranslated_here(operator) == []
    _screenshot(operator, "operator-unmatched-receipts-zh")
