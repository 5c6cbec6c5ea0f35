"""The operator's Common Templates and Platform Black List pages, in a real browser against
the local stack: what the operator adds, changes and removes there is what every tenant
then uses, or cannot send to.

Both lists are shared by every tenant, so the tests add entries of their own (names and
numbers no other test uses) and take them away again.
"""

import secrets
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import (  # noqa: F401 - browser is a fixture
    HTTP_TIMEOUT,
    _logged_in,
    _menu,
    _operator_post,
    _screenshot,
    _tenant_key,
    browser,
)
from tests.e2e.test_portal_operator import _untranslated_here

pytestmark = pytest.mark.browser

TENANT = "portal-operator-lists"


@pytest.fixture(scope="module")
def tenant_key(stack, cloudsms_cli) -> str:
    """A tenant's key, to see what the operator's lists do to a tenant."""
    return _tenant_key(cloudsms_cli, TENANT, "Operator Lists Tester", stack["channel"])


@pytest.fixture
def operator(browser, stack) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, stack["operator_key"]) as page:
        yield page


def _api(stack, method: str, path: str, key: str, **kwargs) -> requests.Response:
    return requests.request(
        method,
        f"{stack['api_url']}{path}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=HTTP_TIMEOUT,
        **kwargs,
    )


def _common_templates(stack, key: str) -> dict[str, dict]:
    """The common templates a tenant sees, by name (the first page, 100 of them)."""
    response = _api(stack, "GET", "/v1/templates/common", key, params={"page_size": 100})
    assert response.status_code == 200, response.text
    return {template["name"]: template for template in response.json()["items"]}


def _platform_numbers(stack) -> dict[str, dict]:
    response = _api(
        stack, "GET", "/v1/admin/blacklist", stack["operator_key"], params={"page_size": 100}
    )
    assert response.status_code == 200, response.text
    return {entry["number"]: entry for entry in response.json()["items"]}


@pytest.fixture
def template_names(stack) -> Iterator[list[str]]:
    """Names for common templates of this test; those left are deleted after it."""
    names: list[str] = []
    yield names
    for name, template in _common_templates(stack, stack["operator_key"]).items():
        if name in names:
            path = f"/v1/admin/templates/{template['template_id']}"
            _api(stack, "DELETE", path, stack["operator_key"])


@pytest.fixture
def platform_number(stack) -> Iterator[str]:
    """A number no other test sends to, off the platform blacklist after the test."""
    number = f"+63917{secrets.randbelow(10**7):07d}"
    yield number
    path = f"/v1/admin/blacklist/{requests.utils.quote(number)}"
    _api(stack, "DELETE", path, stack["operator_key"])


def _row(page: Page, table: str, text: str):
    return page.get_by_role("table", name=table).get_by_role("row").filter(has_text=text)


def test_the_operator_menu_has_both_pages_and_a_tenant_key_has_neither(
    operator,
    browser,  # noqa: F811 - the fixture
    stack,
    tenant_key,
):
    menu = operator.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link", name="Common Templates")).to_be_visible()
    expect(menu.get_by_role("link", name="Platform Black List")).to_be_visible()

    with _logged_in(browser, stack, tenant_key) as page:
        menu = page.get_by_role("navigation", name="Main menu")
        expect(menu.get_by_role("link", name="Black List Mgt")).to_be_visible()
        expect(menu.get_by_role("link", name="Common Templates")).to_have_count(0)
        expect(menu.get_by_role("link", name="Platform Black List")).to_have_count(0)
        page.goto(stack["api_url"] + "/#/platform-blacklist")
        expect(page.get_by_role("heading", name="SMS Overview")).to_be_visible()
        expect(page.get_by_role("heading", name="Platform Black List")).to_have_count(0)


def test_a_common_template_added_edited_and_deleted_on_its_page_is_every_tenants(
    operator, stack, tenant_key, template_names
):
    name = f"Common {secrets.token_hex(3)}"
    template_names.append(name)
    _menu(operator, "Common Templates")
    expect(operator.get_by_role("heading", name="Common Templates", level=1)).to_be_visible()

    # When the operator adds one, with SMS Template's form and its live segment hint
    operator.get_by_role("button", name="Add common template").click()
    form = operator.get_by_role("form", name="Add common template")
    form.get_by_label("Template Name").fill(name)
    form.get_by_role("radio", name="Verify Code").check()
    form.get_by_label("SMS Content").fill("Your login code is ${Code}")
    expect(form.locator(".hint[aria-live]")).to_contain_text("Variables: Code")
    form.get_by_role("button", name="Save").click()

    # Then it is listed, and a tenant sees it among the common templates
    row = _row(operator, "Common templates", name)
    expect(row).to_contain_text("Verify Code")
    expect(row).to_contain_text("Your login code is ${Code}")
    expect(operator.get_by_role("status")).to_contain_text(f'Template "{name}" was saved.')
    _screenshot(operator, "operator-common-templates")
    assert _common_templates(stack, tenant_key)[name]["content"] == "Your login code is ${Code}"

    # A name the common templates already have is refused in the form, in the API's words
    operator.get_by_role("button", name="Add common template").click()
    form = operator.get_by_role("form", name="Add common template")
    form.get_by_label("Template Name").fill(name)
    form.get_by_label("SMS Content").fill("Another content")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text(name)
    form.get_by_role("button", name="Cancel").click()

    # When it is edited
    row.get_by_role("button", name=f"Edit {name}").click()
    form = operator.get_by_role("form", name="Edit common template")
    expect(form.get_by_label("SMS Content")).to_have_value("Your login code is ${Code}")
    form.get_by_label("SMS Content").fill("Your code is ${Code}")
    form.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Your code is ${Code}")
    assert _common_templates(stack, tenant_key)[name]["content"] == "Your code is ${Code}"

    # When it is deleted: asked first, Cancel keeps it
    row.get_by_role("button", name=f"Delete {name}").click()
    dialog = operator.get_by_role("dialog", name="Delete this template?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name=f"Delete {name}").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert name not in _common_templates(stack, tenant_key)


def test_a_number_on_the_platform_blacklist_is_sent_to_by_no_tenant_until_removed(
    operator, stack, tenant_key, platform_number
):
    _menu(operator, "Platform Black List")
    expect(operator.get_by_role("heading", name="Platform Black List", level=1)).to_be_visible()

    # When the operator adds a number with a reason
    form = operator.get_by_role("form", name="Add numbers to the blacklist")
    form.get_by_label("Phone Numbers").fill(platform_number)
    form.get_by_label("Reason").fill("complained to the regulator")
    form.get_by_role("button", name="Add to blacklist").click()

    # Then it is listed with its reason, on the platform's list and not the tenant's
    expect(operator.get_by_role("status")).to_contain_text("1 number(s) added to the blacklist.")
    row = _row(operator, "Blacklisted numbers", platform_number)
    expect(row).to_contain_text("complained to the regulator")
    _screenshot(operator, "operator-platform-blacklist")
    assert _platform_numbers(stack)[platform_number]["reason"] == "complained to the regulator"
    tenant_list = _api(stack, "GET", "/v1/blacklist", tenant_key).json()["items"]
    assert platform_number not in [entry["number"] for entry in tenant_list]

    # And a tenant's send to it is refused as blacklisted
    sent = _api(
        stack,
        "POST",
        "/v1/sms",
        tenant_key,
        json={
            "to": [platform_number],
            "text": "Hello",
            "sms_type": "business",
            "channel": stack["channel"],
        },
    )
    assert sent.status_code == 400, sent.text
    assert "blacklist" in sent.json()["error"]["details"][0]["reason"]

    # When it is removed: asked first
    row.get_by_role("button", name=f"Remove {platform_number}").click()
    dialog = operator.get_by_role("dialog", name="Remove this number?")
    expect(dialog).to_contain_text(f"{platform_number} will be removed from the blacklist.")
    dialog.get_by_role("button", name="Remove").click()

    expect(row).to_have_count(0)
    expect(operator.get_by_role("status")).to_contain_text(
        f"{platform_number} was removed from the blacklist."
    )
    assert platform_number not in _platform_numbers(stack)


def test_a_file_imported_on_the_platform_blacklist_lists_its_numbers_for_every_tenant(
    operator, stack, tenant_key, platform_number, tmp_path
):
    numbers = tmp_path / "platform.csv"
    numbers.write_text(f"Phone Number\n{platform_number}\noops\n")
    _menu(operator, "Platform Black List")

    # When the operator imports a file with a reason
    form = operator.get_by_role("form", name="Import a blacklist file")
    form.get_by_label("Number List File").set_input_files(numbers)
    expect(form).to_contain_text("platform.csv")
    form.get_by_label("Import Reason").fill("carrier's do-not-contact list")
    form.get_by_role("button", name="Import", exact=True).click()

    # Then its number is listed with the reason, its bad row named, on no tenant's list
    expect(form.get_by_role("alert")).to_contain_text("row 3")
    row = _row(operator, "Blacklisted numbers", platform_number)
    expect(row).to_contain_text("carrier's do-not-contact list")
    assert _platform_numbers(stack)[platform_number]["reason"] == "carrier's do-not-contact list"
    tenant_list = _api(stack, "GET", "/v1/blacklist", tenant_key).json()["items"]
    assert platform_number not in [entry["number"] for entry in tenant_list]


def test_both_pages_speak_chinese_when_it_is_chosen(
    operator, stack, template_names, platform_number
):
    name = f"Common {secrets.token_hex(3)}"
    template_names.append(name)
    _operator_post(
        stack,
        "/v1/admin/templates",
        {"name": name, "content": "Hello ${Name}", "sms_type": "marketing"},
    )
    added = _api(
        stack,
        "POST",
        "/v1/admin/blacklist",
        stack["operator_key"],
        json={"numbers": [platform_number], "reason": "zh"},
    )
    assert added.json()["added"] == [platform_number], added.text
    operator.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
    operator.reload()
    menu = operator.locator("nav.sidebar")

    menu.get_by_role("link", name="公共模板").click()
    expect(operator.get_by_role("heading", name="公共模板", level=1)).to_be_visible()
    row = _row(operator, "公共模板", name)
    expect(row).to_contain_text("营销短信")
    assert _untranslated_here(operator) == []
    operator.get_by_role("button", name="新增公共模板").click()
    editor = operator.get_by_role("form", name="新增公共模板")
    editor.get_by_label("短信内容").fill("你好 ${Name}")
    expect(editor.locator(".hint[aria-live]")).to_contain_text("变量：Name")
    assert _untranslated_here(operator) == []
    row.get_by_role("button", name=f"删除 {name}").click()
    dialog = operator.get_by_role("dialog", name="删除此模板？")
    assert _untranslated_here(operator) == []
    _screenshot(operator, "operator-common-templates-zh")
    dialog.get_by_role("button", name="取消").click()

    menu.get_by_role("link", name="平台黑名单").click()
    expect(operator.get_by_role("heading", name="平台黑名单", level=1)).to_be_visible()
    row = _row(operator, "黑名单号码", platform_number)
    expect(row).to_contain_text("zh")
    assert _untranslated_here(operator) == []
    row.get_by_role("button", name=f"移除 {platform_number}").click()
    expect(operator.get_by_role("dialog", name="移除该号码？")).to_be_visible()
    assert _untranslated_here(operator) == []
    _screenshot(operator, "operator-platform-blacklist-zh")
