"""The SMS Statistics pages (SMS Delivery Statistics, Dispatching Log, Expense Statistics)
with 简体中文 chosen, in a real browser against the local stack: their words are Chinese,
with no word left in English that the dictionary has the Chinese of; the platform's values
(dates, numbers, a message's content, its DR state) are shown as they come."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import (  # noqa: F401 - fixtures
    _logged_in,
    _tenant_key,
    browser,
    number_list,
    sent_mission,
)
from tests.e2e.test_portal_language import _untranslated

pytestmark = pytest.mark.browser

TENANT = "portal-language-statistics"


@pytest.fixture(scope="module")
def portal_key(stack, cloudsms_cli) -> str:
    """A tenant of these tests only (sent_mission sends the guide's mission with it)."""
    return _tenant_key(cloudsms_cli, TENANT, "Statistics Language Tester", stack["channel"])


@pytest.fixture
def chinese(browser, stack, portal_key) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, portal_key) as page:
        page.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        yield page


def test_the_statistics_pages_are_in_chinese(chinese, stack, sent_mission):  # noqa: F811
    chinese.goto(stack["api_url"] + "/#/statistics")
    expect(chinese.get_by_role("heading", name="短信发送统计", level=1)).to_be_visible()
    table = chinese.get_by_role("table", name="短信发送统计")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["序号", "发送日期", "发送总量", "发送成功", "发送失败", "无状态报告", "发送成功率", "操作"]
    )
    expect(table.get_by_role("link", name="的发送日志").last).to_have_text("详情")
    expect(chinese.locator(".hint")).to_contain_text(
        "的发送日期。发送总量包含仍在等待状态报告的短信。"
    )
    assert _untranslated(chinese) == []

    chinese.goto(stack["api_url"] + "/#/expenses")
    expect(chinese.get_by_role("heading", name="费用统计", level=1)).to_be_visible()
    expect(chinese.get_by_role("region", name="总计")).to_contain_text("提交短信数")
    assert _untranslated(chinese) == []


def test_the_dispatching_log_and_a_messages_detail_are_in_chinese(chinese, stack, sent_mission):  # noqa: F811
    chinese.goto(stack["api_url"] + "/#/log")
    expect(chinese.get_by_role("heading", name="发送日志", level=1)).to_be_visible()
    log = chinese.get_by_role("table", name="发送日志")
    expect(log.get_by_role("row")).to_have_count(3)  # the header and the two delivered
    expect(log.get_by_role("row").nth(1)).to_contain_text("发送时间：")
    expect(chinese.get_by_placeholder("请输入手机号码")).to_be_visible()
    assert _untranslated(chinese) == []

    log.get_by_role("button", name="的详情").first.click()
    dialog = chinese.get_by_role("dialog", name="短信详情")
    expect(dialog).to_contain_text("点对点短信业务")
    expect(dialog).to_contain_text("DELIVRD")  # the gateway's DR state, as it comes
    assert _untranslated(chinese) == []
    dialog.get_by_role("button").last.click()

    # A mission's abnormal data, and the Export's note that it has no export
    chinese.get_by_label("任务名称").fill(sent_mission)
    chinese.get_by_role("search", name="查询发送日志").get_by_role("button", name="查询").click()
    chinese.get_by_role("tab", name="异常数据").click()
    abnormal = chinese.get_by_role("table", name="异常数据")
    expect(abnormal.get_by_role("columnheader")).to_have_text(["序号", "行号", "值", "原因"])
    expect(chinese.get_by_role("button", name="导出")).to_have_attribute(
        "title", "导出仅用于“发送日志”标签页：异常数据和黑名单详情不可导出。"
    )
    assert _untranslated(chinese) == []
