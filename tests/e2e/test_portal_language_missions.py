"""The mission pages (list, Add form with its preview and errors, detail), Product Order Mgt
and Black List Mgt in Simplified Chinese: what they show is in Chinese, with no word left
in English that the dictionary has the Chinese of."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import CONTENT, _new_page, _screenshot, _tenant_key, browser, number_list  # noqa: F401 - fixtures
from tests.e2e.test_portal_language import _untranslated

pytestmark = pytest.mark.browser

TENANT = "portal-language-missions"
# User data, in no dictionary: shown as it is in either language.
MISSION = "春节通知"


@pytest.fixture(scope="module")
def missions_key(stack, cloudsms_cli) -> str:
    return _tenant_key(cloudsms_cli, TENANT, "Language Missions Tester", stack["channel"])


@pytest.fixture
def page_zh(browser, stack, missions_key):  # noqa: F811 - the fixture
    """A portal page in Chinese (chosen on the log-in card), logged in."""
    page = _new_page(browser)
    page.goto(stack["api_url"] + "/")
    page.get_by_role("combobox", name="Language").select_option("zh-CN")
    page.get_by_role("button", name="使用 API 密钥登录").click()
    page.get_by_label("API 密钥").fill(missions_key)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="短信概览", level=1)).to_be_visible()
    yield page
    page.context.close()


def _menu(page: Page, name: str) -> None:
    page.locator("nav.sidebar").get_by_role("link", name=name).click()


def test_a_mission_added_previewed_and_followed_in_chinese(page_zh, stack, number_list):  # noqa: F811
    page = page_zh
    _menu(page, "群发工具")
    expect(page.get_by_role("heading", name="群发工具", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="暂无任务：点击“新增”发送任务。")).to_be_visible()
    assert _untranslated(page) == []

    # The Add form sent empty says what is missing, next to each field too
    page.get_by_role("button", name="新增", exact=True).click()
    form = page.get_by_role("form", name="新增群发短信信息")
    form.get_by_role("button", name="提交").click()
    expect(form.get_by_role("alert")).to_contain_text("请完善表单。")
    expect(form).to_contain_text("请选择发送方向。")
    assert _untranslated(page) == []

    # Filled in and previewed
    form.get_by_label("任务名称").fill(MISSION)
    form.get_by_role("radio", name="其他国家/地区").check()
    form.get_by_role("radio", name="行业短信").check()
    form.get_by_label("签名", exact=True).fill("CloudSMS")
    form.get_by_label("短信内容").fill(CONTENT)
    form.get_by_label("导入号码文件").set_input_files(number_list)
    form.get_by_label("业务通道").select_option(stack["channel"])
    form.get_by_label("定时发送设置").check()
    expect(form).to_contain_text("发送时间须在您的发送时段内：08:00 至 22:00")
    form.get_by_label("定时发送设置").uncheck()
    form.get_by_role("button", name="预览").click()
    preview = page.get_by_role("region", name="预览")
    expect(preview.get_by_role("table", name="短信示例")).to_be_visible()
    expect(preview).to_contain_text("按表头列名")
    assert _untranslated(page) == []
    _screenshot(page, "mission-form-zh")

    # Submitted: the list says so with the status's label
    form.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text(f"任务“{MISSION}”已提交：已发送。")
    row = page.get_by_role("row").filter(has_text=MISSION)
    expect(row).to_contain_text("已发送")
    assert _untranslated(page) == []

    # The detail and its tabs
    row.get_by_role("link", name=f"{MISSION} 的详情").click()
    expect(page.get_by_role("heading", name=MISSION, level=1)).to_contain_text("已发送")
    expect(page.get_by_role("region", name="进度")).to_contain_text("号码数量")
    assert _untranslated(page) == []
    page.get_by_role("tab", name="异常数据").click()
    expect(page.get_by_role("table", name="异常数据")).to_contain_text("12345")
    assert _untranslated(page) == []
    _screenshot(page, "mission-detail-zh")


def test_the_blacklist_and_the_order_page_in_chinese(page_zh):
    page = page_zh
    _menu(page, "黑名单管理")
    expect(page.get_by_role("heading", name="黑名单管理", level=1)).to_be_visible()
    assert _untranslated(page) == []

    # One number added, one refused: a notice in Chinese's own word order
    add = page.get_by_role("form", name="添加号码到黑名单")
    add.get_by_label("手机号码").fill("+639215347599\n12345")
    add.get_by_role("button", name="加入黑名单").click()
    expect(add.get_by_role("alert")).to_contain_text("1 个号码已加入黑名单；1 个号码无法添加。")
    assert _untranslated(page) == []

    # Its removal is asked first
    page.get_by_role("button", name="移除 +639215347599").click()
    dialog = page.get_by_role("dialog", name="移除该号码？")
    expect(dialog).to_contain_text("+639215347599 将从黑名单中移除。")
    assert _untranslated(page) == []
    dialog.get_by_role("button", name="移除").click()
    expect(page.get_by_role("status")).to_contain_text("+639215347599 已从黑名单中移除。")

    _menu(page, "产品订单管理")
    expect(page.get_by_role("heading", name="产品订单管理", level=1)).to_be_visible()
    no_orders = page.get_by_role("cell", name="暂无订单：产品套餐由您的运营方为您订购。")
    expect(no_orders).to_be_visible()
    assert _untranslated(page) == []
