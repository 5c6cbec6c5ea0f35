"""The operator's pages of the portal (Accounts, Product Packages, Business Channels), in
a real browser against the local stack: shown to an operator key only, and doing what the
`cloudsms` console command and the admin API do.

The tests use tenants of their own, so the other tests' data stays exactly theirs.
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
from tests.e2e.test_portal_language import _untranslated

pytestmark = pytest.mark.browser

TENANT = "portal-operator"
OTHER_TENANT = "portal-operator-tenant"


@pytest.fixture(scope="module")
def operator_key(cloudsms_cli) -> str:
    """An operator key of the local stack's operator tenant."""
    issued = cloudsms_cli("key-issue", "ops", "--role", "operator", "--name", "operator pages")
    return str(issued["key"])


@pytest.fixture(scope="module")
def tenant(cloudsms_cli) -> str:
    cloudsms_cli("tenant-create", TENANT, "--name", "Operator Pages Tester")
    return TENANT


@pytest.fixture
def operator(browser, stack, operator_key) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, operator_key) as page:
        yield page


def _show_tenant(page: Page, tenant: str, offered: bool = True) -> None:
    picker = page.get_by_role("search", name="Choose a tenant")
    # The tenants are offered as the operator types (GET /v1/admin/tenants).
    expect(picker.locator(f'#tenant-ids option[value="{tenant}"]')).to_have_count(int(offered))
    picker.get_by_label("Tenant ID").fill(tenant)
    picker.get_by_role("button", name="Show").click()


def _add_account(page: Page, name: str) -> None:
    form = page.get_by_role("form", name="Add Account")
    form.get_by_label("Account Name").fill(name)
    form.get_by_role("button", name="Add").click()


def _account_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def _temporary_password(page: Page) -> str:
    notice = page.get_by_role("status").filter(has_text="Temporary password of")
    expect(notice).to_be_visible()
    return notice.locator("code").inner_text()


def test_an_operator_key_sees_the_operator_pages_and_a_tenant_key_does_not(
    browser,  # noqa: F811 - the fixture
    stack,
    operator_key,
    cloudsms_cli,
):
    with _logged_in(browser, stack, operator_key) as page:
        menu = page.get_by_role("navigation", name="Main menu")
        expect(menu.get_by_role("link", name="Accounts")).to_be_visible()
        expect(menu.get_by_role("link", name="Product Packages")).to_be_visible()
        expect(menu.get_by_role("link", name="Business Channels")).to_be_visible()
        _menu(page, "Accounts")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible()

    tenant_key = _tenant_key(cloudsms_cli, OTHER_TENANT, "Not An Operator")
    with _logged_in(browser, stack, tenant_key) as page:
        menu = page.get_by_role("navigation", name="Main menu")
        expect(menu.get_by_role("link", name="Product Order Mgt")).to_be_visible()
        expect(menu.get_by_role("link", name="Accounts")).to_have_count(0)
        expect(menu.get_by_role("link", name="Product Packages")).to_have_count(0)
        expect(menu.get_by_role("link", name="Business Channels")).to_have_count(0)
        # Typed into the address bar, the operator's page is not there: the overview is.
        page.goto(stack["api_url"] + "/#/accounts")
        expect(page.get_by_role("heading", name="SMS Overview")).to_be_visible()
        expect(page.get_by_role("heading", name="Accounts")).to_have_count(0)


def test_an_added_account_shows_its_temporary_password_once_and_is_listed(
    operator, tenant, cloudsms_cli
):
    name = f"op_{secrets.token_hex(3)}"
    _menu(operator, "Accounts")
    _show_tenant(operator, tenant)
    form = operator.get_by_role("form", name="Add Account")
    # The guide's fields, those without a choice read-only.
    expect(form.get_by_label("Account Type")).to_have_value("Tenant")
    expect(form.get_by_label("Tenant", exact=True)).to_have_value(tenant)
    expect(form.get_by_label("Account Role")).to_have_value("Tenant Manager")
    expect(form.get_by_label("Account Role")).not_to_be_editable()

    _add_account(operator, name)

    password = _temporary_password(operator)
    assert len(password) >= 8
    expect(operator.get_by_text("it will not be shown again")).to_be_visible()
    row = _account_row(operator, name)
    expect(row).to_contain_text("Tenant Manager")
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("Temporary")
    _screenshot(operator, "operator-accounts")
    assert name in [a["account_name"] for a in cloudsms_cli("account-list", tenant)]

    operator.get_by_role("button", name="Done").click()
    expect(operator.get_by_text(password)).to_have_count(0)
    operator.reload()
    expect(_account_row(operator, name)).to_be_visible()
    assert password not in operator.locator("main").inner_text()


def test_the_accounts_page_says_the_time_zone_of_its_times(operator, tenant, cloudsms_cli):
    # The operator's time zone (its own tenant's), which need not be the tenant's.
    cloudsms_cli("account-add", f"tz_{secrets.token_hex(3)}", tenant)
    _menu(operator, "Accounts")
    _show_tenant(operator, tenant)

    accounts = operator.get_by_role("region", name="Accounts")
    expect(accounts.get_by_role("table")).to_be_visible()
    expect(accounts).to_contain_text("Times are in Asia/Shanghai (UTC+8).")


def test_an_account_name_taken_is_refused_next_to_the_form(operator, tenant, cloudsms_cli):
    name = f"op_{secrets.token_hex(3)}"
    cloudsms_cli("account-add", name, tenant)
    _menu(operator, "Accounts")
    _show_tenant(operator, tenant)

    _add_account(operator, name.upper())  # names are unique whatever their case

    form = operator.get_by_role("form", name="Add Account")
    expect(form.get_by_role("alert")).to_contain_text("already exists")
    expect(operator.get_by_role("status").filter(has_text="Temporary password of")).to_have_count(0)


def test_the_tenant_chosen_is_shown_again_after_another_page_and_a_reload(
    operator, tenant, cloudsms_cli
):
    name = f"op_{secrets.token_hex(3)}"
    cloudsms_cli("account-add", name, tenant)
    _menu(operator, "Accounts")
    _show_tenant(operator, tenant)
    expect(_account_row(operator, name)).to_be_visible()

    # The other operator page, through the menu (no tenant in its link), then reloaded.
    _menu(operator, "Product Packages")
    operator.reload()
    picker = operator.get_by_role("search", name="Choose a tenant")
    expect(picker.get_by_label("Tenant ID")).to_have_value(tenant)
    expect(operator.get_by_role("table", name=f"Orders of {tenant}")).to_be_visible()

    # Back from a page that is not the operator's, then reloaded.
    _menu(operator, "SMS Overview")
    _menu(operator, "Accounts")
    operator.reload()
    expect(_account_row(operator, name)).to_be_visible()
    assert f"tenant={tenant}" in operator.url


def test_an_unknown_tenant_is_said_beside_the_tenant_id(operator):
    _menu(operator, "Accounts")

    _show_tenant(operator, "no-such-tenant", offered=False)

    expect(operator.get_by_role("alert")).to_contain_text("no-such-tenant")
    expect(operator.get_by_role("form", name="Add Account")).to_have_count(0)


def test_a_reset_shows_a_new_temporary_password_and_an_account_is_disabled_and_enabled(
    operator, tenant, cloudsms_cli
):
    name = f"op_{secrets.token_hex(3)}"
    first = cloudsms_cli("account-add", name, tenant)["password"]
    _menu(operator, "Accounts")
    _show_tenant(operator, tenant)

    operator.get_by_role("button", name=f"Reset the password of {name}").click()
    operator.get_by_role("dialog").get_by_role("button", name="Reset Password").click()
    second = _temporary_password(operator)
    assert second != first

    operator.get_by_role("button", name=f"Disable {name}").click()
    operator.get_by_role("dialog").get_by_role("button", name="Disable").click()
    expect(_account_row(operator, name)).to_contain_text("Disabled")
    listed = {a["account_name"]: a for a in cloudsms_cli("account-list", tenant)}
    assert listed[name]["disabled"] is True

    operator.get_by_role("button", name=f"Enable {name}").click()
    expect(_account_row(operator, name)).to_contain_text("Enabled")


def test_a_prepaid_package_added_and_ordered_for_a_tenant_shows_the_order(operator, stack, tenant):
    product = f"SMM-{secrets.token_hex(3)}"
    _menu(operator, "Product Packages")
    form = operator.get_by_role("form", name="Product Package Details")
    form.get_by_label("Product Name").fill(product)
    form.get_by_label("Business Channel").select_option(stack["channel"])
    form.get_by_role("radio", name="Prepaid").check()
    form.get_by_label("SMS Amount").fill("200")
    form.get_by_label("Validity Days").fill("30")
    form.get_by_role("button", name="Add Package").click()

    packages = operator.get_by_role("table", name="Product packages")
    package_row = packages.get_by_role("row").filter(has_text=product)
    expect(package_row).to_contain_text("Prepaid")
    expect(package_row).to_contain_text("30 Day(s)")
    package_id = package_row.get_by_role("cell").nth(1).inner_text()

    _show_tenant(operator, tenant)
    order_form = operator.get_by_role("form", name="Order a package")
    order_form.get_by_label("Package").select_option(package_id)
    order_form.get_by_role("button", name="Order").click()

    expect(operator.get_by_role("status")).to_contain_text("placed")
    order_row = (
        operator.get_by_role("table", name=f"Orders of {tenant}")
        .get_by_role("row")
        .filter(has_text=product)
    )
    expect(order_row).to_contain_text("Activated Successfully")
    expect(order_row).to_contain_text("200")
    _screenshot(operator, "operator-packages")


def test_a_double_click_on_order_places_one_order(operator, stack, cloudsms_cli):
    tenant = "portal-operator-double"
    cloudsms_cli("tenant-create", tenant, "--name", "Double Click Tester")
    package = _operator_post(
        stack,
        "/v1/admin/packages",
        {
            "product_name": f"ONCE-{secrets.token_hex(3)}",
            "channel": stack["channel"],
            "payment_type": "prepaid",
            "sms_amount": 100,
            "validity_days": 30,
        },
    )
    _menu(operator, "Product Packages")
    _show_tenant(operator, tenant)
    order_form = operator.get_by_role("form", name="Order a package")
    order_form.get_by_label("Package").select_option(package["package_id"])
    order_form.get_by_role("button", name="Order").dblclick()

    expect(operator.get_by_role("status")).to_contain_text("placed")
    expect(order_form.get_by_role("button", name="Order")).to_be_enabled()
    orders = requests.get(
        f"{stack['api_url']}/v1/admin/tenants/{tenant}/orders",
        headers={"Authorization": f"Bearer {stack['operator_key']}"},
        timeout=HTTP_TIMEOUT,
    )
    assert orders.status_code == 200, orders.text
    assert len(orders.json()["items"]) == 1


def test_an_order_is_cancelled_after_a_confirmation(operator, stack, tenant):
    package = _operator_post(
        stack,
        "/v1/admin/packages",
        {
            "product_name": f"CANCEL-{secrets.token_hex(3)}",
            "channel": stack["channel"],
            "payment_type": "postpaid",
            "warning_usd": "100",
            "prohibit_usd": "150",
        },
    )
    order = _operator_post(
        stack,
        f"/v1/admin/tenants/{tenant}/orders",
        {"package_id": package["package_id"]},
    )
    _menu(operator, "Product Packages")
    _show_tenant(operator, tenant)
    row = (
        operator.get_by_role("table", name=f"Orders of {tenant}")
        .get_by_role("row")
        .filter(has_text=order["order_number"])
    )
    expect(row).to_contain_text("Order Successfully")

    row.get_by_role("button", name=f"Cancel order {order['order_number']}").click()
    dialog = operator.get_by_role("dialog")
    expect(dialog).to_contain_text(order["order_number"])
    dialog.get_by_role("button", name="Cancel the order").click()

    expect(row).to_contain_text("Cancelled")
    expect(row.get_by_role("button")).to_have_count(0)


def test_a_refused_package_is_said_next_to_the_form(operator, stack):
    _menu(operator, "Product Packages")
    form = operator.get_by_role("form", name="Product Package Details")
    form.get_by_label("Product Name").fill("Thresholds the wrong way")
    form.get_by_label("Business Channel").select_option(stack["channel"])
    form.get_by_role("radio", name="Post-paid").check()
    form.get_by_label("Threshold for Warning (USD)").fill("200")
    form.get_by_label("Threshold for Prohibiting (USD)").fill("100")
    form.get_by_role("button", name="Add Package").click()

    expect(form.get_by_role("alert")).to_contain_text("warning_usd must not be above prohibit_usd")
    expect(operator.get_by_role("table", name="Product packages")).not_to_contain_text(
        "Thresholds the wrong way"
    )


def _add_channel(
    stack,
    throughput: int = 0,
    by_country: dict[str, str] | None = None,
    prefix: str = "PORTAL",
    **fields: str,
) -> str:
    """A simulator channel of a new route id (its gateway never called), with any other
    `fields` of the admin API's; its route id."""
    route = f"{prefix}_{secrets.token_hex(3).upper()}"
    _operator_post(
        stack,
        "/v1/admin/channels",
        {
            "route_id": route,
            "gateway_type": "simulator",
            "endpoint": "http://127.0.0.1:9",
            "username": "sim",
            "password": "sim-pa55word",
            "throughput": throughput,
            "prices_usd": {"default": "0.0035", "by_country": by_country or {}},
            **fields,
        },
    )
    return route


def test_a_channel_is_listed_and_paused_and_resumed_from_its_page(operator, stack):
    # A channel of its own, so that no other test's messages are held.
    route = _add_channel(stack, throughput=5, by_country={"63": "0.012"})
    _menu(operator, "Business Channels")
    row = (
        operator.get_by_role("table", name="Business channels")
        .get_by_role("row")
        .filter(has=operator.get_by_role("cell", name=route, exact=True))
    )
    expect(row).to_contain_text("Simulator")
    expect(row).to_contain_text("default 0.0035, +63: 0.012")
    expect(row).to_contain_text("Sending")
    expect(row).not_to_contain_text("sim-pa55word")

    row.get_by_role("button", name=f"Pause {route}").click()
    operator.get_by_role("dialog").get_by_role("button", name="Pause the channel").click()

    expect(row).to_contain_text("Paused")
    assert _operator_get(stack, f"/v1/admin/channels/{route}")["paused"] is True

    row.get_by_role("button", name=f"Resume {route}").click()

    expect(row).to_contain_text("Sending")
    assert _operator_get(stack, f"/v1/admin/channels/{route}")["paused"] is False


def _operator_get(stack, path: str) -> dict:
    response = requests.get(
        f"{stack['api_url']}{path}",
        headers={"Authorization": f"Bearer {stack['operator_key']}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _untranslated_here(page: Page) -> list[list[str]]:
    """The words left in English, less the top bar's name of the operator's tenant:
    "Operator" is data there, though the menu's group of the same words is 运营管理."""
    return [found for found in _untranslated(page) if found != ["Operator", "Operator"]]


def test_the_operator_pages_speak_chinese_when_it_is_chosen(operator, stack, tenant, cloudsms_cli):
    """Business Channels, Accounts and Product Packages in Chinese: no word left in English
    that the dictionary has the Chinese of; the pause dialog and notice; the role."""
    route = _add_channel(stack)
    name = f"zh{secrets.token_hex(3)}"
    cloudsms_cli("account-add", name, tenant)
    operator.evaluate("localStorage.setItem('cloudsms.language', 'zh-CN')")
    operator.reload()

    chinese_menu = operator.locator("nav.sidebar")
    chinese_menu.get_by_role("link", name="业务通道").click()
    expect(operator.get_by_role("heading", name="业务通道", level=1)).to_be_visible()
    row = (
        operator.get_by_role("table", name="业务通道")
        .get_by_role("row")
        .filter(has=operator.get_by_role("cell", name=route, exact=True))
    )
    expect(row).to_contain_text("模拟器")
    expect(row).to_contain_text("默认 0.0035")
    expect(row).to_contain_text("发送中")
    assert _untranslated_here(operator) == []
    row.get_by_role("button", name=f"暂停 {route}").click()
    dialog = operator.get_by_role("dialog", name=f"暂停 {route}")
    assert _untranslated_here(operator) == []
    dialog.get_by_role("button", name="暂停通道").click()
    expect(operator.get_by_role("status")).to_contain_text(f"{route} 已暂停：其短信在队列中等待。")
    expect(row).to_contain_text("已暂停")
    row.get_by_role("button", name=f"恢复 {route}").click()
    expect(row).to_contain_text("发送中")

    chinese_menu.get_by_role("link", name="账号").click()
    operator.goto(f"{stack['api_url']}/#/accounts?tenant={tenant}")
    accounts = operator.get_by_role("table", name=f"{tenant} 的门户账号")
    account = accounts.get_by_role("row").filter(has_text=name)
    expect(account).to_contain_text("租户管理员")
    expect(account).to_contain_text("已启用")
    expect(operator.get_by_role("button", name=f"停用 {name}")).to_be_visible()
    assert _untranslated_here(operator) == []

    # Product Packages: the catalogue, the form and a tenant's orders, a prepaid one among them
    package = _operator_post(
        stack,
        "/v1/admin/packages",
        {
            "product_name": f"ZH-{secrets.token_hex(3)}",
            "channel": stack["channel"],
            "payment_type": "prepaid",
            "sms_amount": 200,
            "validity_days": 30,
        },
    )
    _operator_post(
        stack, f"/v1/admin/tenants/{tenant}/orders", {"package_id": package["package_id"]}
    )
    operator.goto(f"{stack['api_url']}/#/packages?tenant={tenant}")
    packages = operator.get_by_role("table", name="产品套餐")
    expect(packages.get_by_role("row").filter(has_text=package["package_id"])).to_contain_text(
        "30 天"
    )
    choice = operator.get_by_role("form", name="订购套餐").get_by_label("套餐")
    expect(choice.locator(f'option[value="{package["package_id"]}"]')).to_contain_text(
        "200 条短信，30 天"
    )
    assert _untranslated_here(operator) == []
