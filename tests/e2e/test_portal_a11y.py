"""The portal with the keyboard only and as a screen reader reads it (its accessibility
tree), in a real browser against the local stack: where the focus goes after an action,
what a form says is required or wrong, and a language switch that waits to be chosen.
"""

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import _logged_in, _tenant_key, browser  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

TENANT = "portal-a11y"


@pytest.fixture(scope="module")
def a11y_key(stack, cloudsms_cli) -> str:
    return _tenant_key(cloudsms_cli, TENANT, "Accessibility Tester", stack["channel"])


@pytest.fixture
def portal(browser, stack, a11y_key) -> Iterator[Page]:  # noqa: F811 - the fixture
    with _logged_in(browser, stack, a11y_key) as page:
        yield page


def _menu_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name)


def test_a_form_sent_with_the_keyboard_keeps_the_focus_on_its_button(portal):
    _menu_link(portal, "Black List Mgt").click()
    portal.get_by_label("Phone Numbers").fill("+639215347001")
    add = portal.get_by_role("button", name="Add to blacklist")
    add.focus()
    portal.keyboard.press("Enter")

    expect(portal.get_by_role("status")).to_contain_text("1 number(s) added to the blacklist")
    # Not back at the top of the page (a disabled button loses the focus).
    expect(add).to_be_focused()
    expect(add).to_be_enabled()


def test_the_pager_keeps_the_focus_as_its_pages_are_turned_with_the_keyboard(portal):
    _menu_link(portal, "Black List Mgt").click()
    numbers = "\n".join(f"+6392153471{i:02d}" for i in range(21))
    portal.get_by_label("Phone Numbers").fill(numbers)
    portal.get_by_role("button", name="Add to blacklist").click()
    pager = portal.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text("Page 1 of 3")

    pager.get_by_role("button", name="Next page").focus()
    portal.keyboard.press("Enter")
    expect(pager).to_contain_text("Page 2 of 3")
    expect(pager.get_by_role("button", name="Next page")).to_be_focused()

    # Enter again: the last page, where Next is off and Previous takes the focus.
    portal.keyboard.press("Enter")
    expect(pager).to_contain_text("Page 3 of 3")
    expect(pager.get_by_role("button", name="Previous page")).to_be_focused()

    goto = pager.get_by_role("spinbutton", name="Go to page")
    goto.fill("1")
    goto.press("Enter")
    expect(pager).to_contain_text("Page 1 of 3")
    expect(pager.get_by_role("spinbutton", name="Go to page")).to_be_focused()


def test_a_menu_link_followed_with_the_keyboard_takes_the_focus_to_the_new_page(portal):
    _menu_link(portal, "Dispatching Log").focus()
    portal.keyboard.press("Enter")

    expect(portal).to_have_title("Dispatching Log · CloudSMS Portal")
    expect(portal.get_by_role("main")).to_be_focused()
    # The next Tab is in the page, not back at "Skip to content" and the menu.
    portal.keyboard.press("Tab")
    expect(portal.get_by_role("main").locator(":focus")).to_have_count(1)


def test_the_language_menu_waits_for_enter_before_loading_the_page_again(portal):
    _menu_link(portal, "Black List Mgt").click()
    portal.get_by_label("Phone Numbers").fill("+639215347002")
    menu = portal.locator("header").get_by_role("combobox", name="Language")
    menu.focus()

    # Looking at the other language is not choosing it: the page stays, the number typed too.
    portal.keyboard.press("ArrowDown")
    portal.wait_for_timeout(1000)  # what a reload would take to start
    expect(portal.locator("html")).to_have_attribute("lang", "en")
    expect(portal.get_by_label("Phone Numbers")).to_have_value("+639215347002")
    # Left without Enter, the menu shows the language the page is in.
    portal.keyboard.press("Tab")
    expect(menu).to_have_value("en")

    # Chosen in the open list: applied at once.
    menu.focus()
    portal.keyboard.press("Alt+ArrowDown")
    portal.keyboard.press("ArrowDown")
    portal.keyboard.press("Enter")
    expect(portal.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(portal.get_by_role("heading", level=1)).to_have_text("黑名单管理")
    expect(portal).to_have_title("黑名单管理 · CloudSMS 门户")

    # Stepped to on the closed menu, then Enter: applied.
    portal.locator("header").get_by_role("combobox", name="语言").focus()
    portal.keyboard.press("ArrowUp")
    portal.keyboard.press("Enter")
    expect(portal.locator("html")).to_have_attribute("lang", "en")
    expect(portal.get_by_role("heading", level=1)).to_have_text("Black List Mgt")


def _ax_properties(page: Page, role: str, name: str) -> dict[str, object]:
    """The properties the browser's accessibility tree gives a node (what a screen reader
    is told): the first node of `role` whose name is `name`."""
    session = page.context.new_cdp_session(page)
    try:
        for node in session.send("Accessibility.getFullAXTree")["nodes"]:
            found = (node.get("role", {}).get("value"), node.get("name", {}).get("value"))
            if found == (role, name):
                return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
    finally:
        session.detach()
    raise AssertionError(f"no {role} named {name!r}")


def test_required_fields_say_so_and_a_missing_one_is_invalid_with_its_reason(portal):
    _menu_link(portal, "Bulk Dispatching Tool").click()
    portal.get_by_role("button", name="Add", exact=True).click()
    form = portal.get_by_role("form", name="Add Bulk Dispatch SMS Information")
    expect(form).to_be_visible()
    # The label's "*" is drawn by the style sheet, so it is part of the names.
    assert _ax_properties(portal, "radiogroup", "* Direction").get("required") is True
    assert _ax_properties(portal, "textbox", "* SMS Content").get("required") is True
    assert _ax_properties(portal, "radiogroup", "* Direction").get("invalid") == "false"

    form.get_by_role("button", name="Submit").click()

    expect(portal.get_by_role("alert")).to_contain_text("Please complete the form.")
    expect(form.get_by_role("textbox", name="Mission Name")).to_be_focused()
    # The problem first, then the field's character count.
    expect(form.get_by_role("textbox", name="Mission Name")).to_have_accessible_description(
        re.compile(r"^Mission Name is required\. 0/\d+$")
    )
    assert _ax_properties(portal, "textbox", "* Mission Name").get("invalid") == "true"
    assert _ax_properties(portal, "radiogroup", "* Direction").get("invalid") == "true"

    form.get_by_role("textbox", name="Mission Name").fill("Spring")
    form.get_by_role("button", name="Submit").click()
    # The problem is gone: only the count is left to read.
    expect(form.get_by_role("textbox", name="Mission Name")).to_have_accessible_description(
        re.compile(r"^6/\d+$")
    )
    assert _ax_properties(portal, "textbox", "* Mission Name").get("invalid") == "false"

    _menu_link(portal, "Black List Mgt").click()
    expect(portal.get_by_role("textbox", name="Phone Numbers")).to_be_visible()
    assert _ax_properties(portal, "textbox", "* Phone Numbers").get("required") is True


def test_the_add_forms_title_says_what_it_adds(portal):
    _menu_link(portal, "Bulk Dispatching Tool").click()
    expect(portal).to_have_title("Bulk Dispatching Tool · CloudSMS Portal")

    portal.get_by_role("button", name="Add", exact=True).click()

    expect(portal.get_by_role("heading", level=1)).to_have_text("Add Bulk Dispatch SMS Information")
    expect(portal).to_have_title("Add · Bulk Dispatching Tool · CloudSMS Portal")


def test_a_row_removed_after_its_confirmation_leaves_the_focus_in_the_page(portal):
    _menu_link(portal, "Black List Mgt").click()
    portal.get_by_label("Phone Numbers").fill("+639215347003")
    portal.get_by_role("button", name="Add to blacklist").click()
    listing = portal.get_by_role("table", name="Blacklisted numbers")
    expect(listing).to_contain_text("+639215347003")

    portal.get_by_role("button", name="Remove +639215347003").focus()
    portal.keyboard.press("Enter")
    dialog = portal.get_by_role("dialog", name="Remove this number?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    # Escape closes it, and the focus is back on the row's button.
    portal.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(portal.get_by_role("button", name="Remove +639215347003")).to_be_focused()

    portal.keyboard.press("Enter")
    portal.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Remove")).to_be_focused()
    portal.keyboard.press("Enter")

    expect(listing).not_to_contain_text("+639215347003")
    # The row's button is gone: the focus is in the page, not back at its top.
    expect(portal.get_by_role("main")).to_be_focused()


def test_the_temporary_password_is_read_with_the_done_button_that_takes_the_focus(
    browser,  # noqa: F811 - the fixture
    stack,
    cloudsms_cli,
):
    tenant = "portal-a11y-accounts"
    cloudsms_cli("tenant-create", tenant, "--name", "Accessibility Accounts")
    name = f"a11y_{secrets.token_hex(3)}"
    with _logged_in(browser, stack, stack["operator_key"]) as page:
        page.goto(f"{stack['api_url']}/#/accounts?tenant={tenant}")
        form = page.get_by_role("form", name="Add Account")
        form.get_by_label("Account Name").fill(name)
        form.get_by_role("button", name="Add").focus()
        page.keyboard.press("Enter")

        done = page.get_by_role("button", name="Done")
        expect(done).to_be_focused()
        password = page.locator("code.secret").inner_text()
        # What a screen reader says with "Done": the password, and that it is shown once.
        expect(done).to_have_accessible_description(
            re.compile(f"Temporary password of {name}: {password}.*it will not be shown again")
        )

        page.keyboard.press("Enter")
        expect(page.get_by_text(password)).to_have_count(0)
        expect(page.get_by_role("main")).to_be_focused()


def _focus_outline(page: Page) -> str:
    """The outline drawn around the focused element: "solid 2px", or "none 0px"."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return `${s.outlineStyle} ${s.outlineWidth}`; }"
    )


def test_the_keyboard_focus_is_drawn_on_radios_checkboxes_and_the_language_menu(portal):
    _menu_link(portal, "Bulk Dispatching Tool").click()
    portal.get_by_role("button", name="Add", exact=True).click()
    form = portal.get_by_role("form", name="Add Bulk Dispatch SMS Information")
    form.get_by_role("textbox", name="Mission Name").focus()

    portal.keyboard.press("Tab")
    expect(form.get_by_role("radio", name="Mainland China")).to_be_focused()
    assert _focus_outline(portal) == "solid 2px"

    form.get_by_role("checkbox", name="User unsubscribe").focus()
    portal.keyboard.press("Shift+Tab")
    portal.keyboard.press("Tab")
    expect(form.get_by_role("checkbox", name="User unsubscribe")).to_be_focused()
    assert _focus_outline(portal) == "solid 2px"

    portal.get_by_role("button", name="Log out").focus()
    portal.keyboard.press("Shift+Tab")
    expect(portal.get_by_role("combobox", name="Language")).to_be_focused()
    assert _focus_outline(portal) == "solid 2px"


def test_a_success_notice_stays_until_the_next_one_or_dismissed(portal):
    # One may read slowly, or hear it late (WCAG 2.2.1): no notice leaves on a timer.
    portal.clock.install()
    _menu_link(portal, "Black List Mgt").click()
    portal.get_by_label("Phone Numbers").fill("+639215347002")
    portal.get_by_role("button", name="Add to blacklist").click()
    notice = portal.get_by_role("status")
    expect(notice).to_contain_text("1 number(s) added to the blacklist")

    portal.clock.run_for(60_000)

    expect(notice).to_contain_text("1 number(s) added to the blacklist")
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)


def test_a_character_counter_is_read_with_its_field_not_at_each_key(portal):
    _menu_link(portal, "Bulk Dispatching Tool").click()
    portal.get_by_role("button", name="Add", exact=True).click()
    form = portal.get_by_role("form", name="Add Bulk Dispatch SMS Information")
    name = form.get_by_label("Mission Name")

    name.fill("Launch")

    expect(name).to_have_accessible_description(re.compile(r"^6/\d+$"))
    expect(form.locator(".counter[aria-live]")).to_have_count(0)
