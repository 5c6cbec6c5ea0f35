"""The portal's language menu in a real browser: Simplified Chinese chosen on the log-in
card stays chosen across the log-in and a reload, and the pages in Chinese show no word
left in English that the dictionary has the Chinese of."""

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import HTTP_TIMEOUT, _new_page, _screenshot, _tenant_key, browser  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

TENANT = "portal-language"
# User data, in no dictionary: shown as it is in either language.
TEMPLATE = "春节问候"

# Each visible text (a text node, or a label a screen reader reads) that is exactly an
# English word of the dictionary whose Chinese differs, `{name}` standing for any value:
# a word the page shows without t(). Answers [[text, the English word], ...].
UNTRANSLATED_SCRIPT = r"""
async () => {
  const { default: dictionary } = await import("/js/i18n/zh-CN/index.js");
  const escape = (text) => text.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  const words = Object.entries(dictionary)
    .filter(([english, chinese]) => english !== chinese)
    .map(([english]) => [
      english,
      // "Failed|mission" shows as "Failed" in English (see i18n.js)
      new RegExp("^" + escape(english.split("|")[0]).replace(/\{\w+\}/g, ".+") + "$", "s"),
    ]);
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && parent.checkVisibility()) texts.push(walker.currentNode.textContent);
  }
  const labelled = document.body.querySelectorAll("[aria-label], [title], [placeholder], [alt]");
  for (const element of labelled) {
    if (!element.checkVisibility()) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  texts.push(document.title);
  const found = [];
  for (const text of texts.map((t) => t.trim()).filter(Boolean)) {
    const word = words.find(([, pattern]) => pattern.test(text));
    if (word) found.push([text, word[0]]);
  }
  return found;
}
"""


@pytest.fixture(scope="module")
def language_key(stack, cloudsms_cli) -> str:
    """A tenant's key, the tenant with a template of its own (so that the template page
    has a row, its buttons and a pager)."""
    key = _tenant_key(cloudsms_cli, TENANT, "Language Tester", stack["channel"])
    response = requests.post(
        f"{stack['api_url']}/v1/templates",
        json={"name": TEMPLATE, "content": "${Name}，新春快乐", "sms_type": "marketing"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return key


def _untranslated(page: Page) -> list[list[str]]:
    return page.evaluate(UNTRANSLATED_SCRIPT)


def _menu_links(page: Page):
    return page.locator("nav.sidebar").get_by_role("link")


def test_chinese_chosen_on_the_log_in_card_is_kept_and_english_comes_back(
    browser,  # noqa: F811 - the fixture
    stack,
    language_key,
):
    page = _new_page(browser)
    page.goto(stack["api_url"] + "/")
    expect(page.get_by_role("heading", name="Log in to the portal")).to_be_visible()

    # When 简体中文 is chosen on the log-in card
    page.get_by_role("combobox", name="Language").select_option("zh-CN")

    # Then the card is in Chinese, and so is the page's language
    expect(page.get_by_role("heading", name="登录门户")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_label("账号名称")).to_be_visible()
    expect(page.get_by_label("验证码", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="重置密码")).to_be_visible()
    expect(page).to_have_title("登录 · CloudSMS 门户")
    assert _untranslated(page) == []
    _screenshot(page, "login-zh")

    # When the tenant logs in with its key
    page.get_by_role("button", name="使用 API 密钥登录").click()
    page.get_by_label("API 密钥").fill(language_key)
    page.get_by_role("button", name="登录", exact=True).click()

    # Then the menu and the overview are in Chinese, with no English word left
    expect(page.get_by_role("heading", name="短信概览", level=1)).to_be_visible()
    expect(_menu_links(page)).to_have_text(
        [
            "短信概览",
            "群发工具",
            "短信模板",
            "产品订单管理",
            "黑名单管理",
            "短信发送统计",
            "发送日志",
            "费用统计",
            "审计日志",
        ]
    )
    expect(page.get_by_role("heading", name="API 对接")).to_be_visible()
    expect(page).to_have_title("短信概览 · CloudSMS 门户")
    assert _untranslated(page) == []
    _screenshot(page, "overview-zh")

    # And a reload keeps both the language and the log-in
    page.reload()
    expect(page.get_by_role("heading", name="短信概览", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # The template page, its editor and its delete dialog are in Chinese too
    _menu_links(page).filter(has_text="短信模板").click()
    expect(page.get_by_role("heading", name="短信模板", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(has_text=TEMPLATE)
    expect(row).to_contain_text("营销短信")
    expect(page.locator(".pager-total").first).to_have_text("共 1 条")
    page.get_by_role("button", name="新增模板").click()
    editor = page.get_by_role("form", name="新增短信模板")
    editor.get_by_label("短信内容").fill("你好 ${Name}")
    expect(editor.locator(".hint[aria-live]")).to_have_text(
        "UCS-2 · UTF-16 单位：10 · 计费 1 条（单条 70 个，长短信每段 67 个）。"
        "使用 UCS-2，因为第 1 个字符“你”（U+4F60）不在 GSM-7 字符集中。 · 变量：Name"
    )
    assert _untranslated(page) == []
    row.get_by_role("button", name=f"删除 {TEMPLATE}").click()
    dialog = page.get_by_role("dialog", name="删除此模板？")
    expect(dialog).to_contain_text(f"“{TEMPLATE}”将被删除。")
    assert _untranslated(page) == []
    _screenshot(page, "templates-zh")
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_have_count(0)

    # When English is chosen in the top bar's menu, the English menu is back
    page.locator("header").get_by_role("combobox", name="语言").select_option("en")
    expect(page.get_by_role("heading", name="SMS Template", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(_menu_links(page)).to_have_text(
        [
            "SMS Overview",
            "Bulk Dispatching Tool",
            "SMS Template",
            "Product Order Mgt",
            "Black List Mgt",
            "SMS Delivery Statistics",
            "Dispatching Log",
            "Expense Statistics",
            "Audit Trail",
        ]
    )
    page.context.close()
