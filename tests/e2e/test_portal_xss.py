"""Strings a tenant chose are shown by the portal as text, never run: a mission name, a
number list's rows, a template's name and content and a blacklist reason holding markup
show the markup itself, and nothing in it runs (Chromium, against the local stack)."""

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import _logged_in, _menu, _tenant_key, browser  # noqa: F401

pytestmark = pytest.mark.browser

TENANT = "portal-xss"
# Each sets a flag when it runs, in whichever way it would get to run.
IMAGE = "<img src=x onerror=__xss=1>"
SCRIPT = "<script>__xss=2</script>"
SVG = "<svg onload=__xss=3>"
HTTP_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def xss_key(stack, cloudsms_cli) -> str:
    return _tenant_key(cloudsms_cli, TENANT, "XSS Tester", stack["channel"])


def _api(stack: dict[str, Any], key: str, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(
        method,
        stack["api_url"] + path,
        headers={"Authorization": f"Bearer {key}"},
        timeout=HTTP_TIMEOUT,
        **kwargs,
    )
    assert response.ok, response.text
    return response.json()


def _number_list() -> bytes:
    workbook = Workbook()
    for row in [("Phone Number", "Name"), ("+639215347566", SVG), (IMAGE, "Eve")]:
        workbook.active.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


@pytest.fixture(scope="module")
def stored(stack, xss_key) -> dict[str, Any]:
    """Markup stored everywhere the tenant writes a string the portal shows."""
    _api(
        stack,
        xss_key,
        "POST",
        "/v1/templates",
        json={"name": IMAGE, "content": f"{SCRIPT} ${{Name}}", "sms_type": "business"},
    )
    _api(
        stack, xss_key, "POST", "/v1/blacklist", json={"numbers": ["+639215340000"], "reason": SVG}
    )
    fields = {
        "name": IMAGE,
        "direction": "international",
        "sms_type": "business",
        "channel": stack["channel"],
        "content": "Hello ${Name}",
        "signature": "CloudSMS",
    }
    mission = _api(
        stack,
        xss_key,
        "POST",
        "/v1/missions",
        data=fields,
        files={"number_list": ("list.xlsx", _number_list())},
    )
    return {"mission_id": mission["mission_id"]}


@pytest.fixture
def portal(browser, stack, xss_key) -> Iterator[Page]:  # noqa: F811
    with _logged_in(browser, stack, xss_key) as page:
        yield page


def _nothing_ran(page: Page) -> None:
    assert page.evaluate("window.__xss") is None  # undefined: nothing set it
    assert page.locator("main img, main svg:not([aria-hidden]), main script").count() == 0


def test_a_mission_name_and_its_rows_show_as_text(portal, stored):
    _menu(portal, "Bulk Dispatching Tool")
    expect(portal.get_by_text(IMAGE).first).to_be_visible()
    _nothing_ran(portal)

    portal.goto(portal.url.split("#")[0] + f"#/missions/{stored['mission_id']}")
    expect(portal.get_by_text(IMAGE).first).to_be_visible()
    portal.get_by_role("tab", name="Abnormal Data").click()
    expect(portal.get_by_role("cell", name=IMAGE)).to_be_visible()
    _nothing_ran(portal)


def test_a_template_and_a_blacklist_reason_show_as_text(portal, stored):
    _menu(portal, "SMS Template")
    expect(portal.get_by_text(IMAGE).first).to_be_visible()
    expect(portal.get_by_text(SCRIPT, exact=False).first).to_be_visible()
    _nothing_ran(portal)

    _menu(portal, "Black List Mgt")
    expect(portal.get_by_text(SVG).first).to_be_visible()
    _nothing_ran(portal)


def test_markup_put_in_a_page_by_mistake_runs_nothing(portal):
    # A second line behind showing strings as text: the pages' Content-Security-Policy
    # lets only the site's own scripts run, so not an event handler written in markup.
    ran = portal.evaluate(
        """() => new Promise((done) => {
            const holder = document.createElement("div");
            holder.innerHTML = '<img src="x" onerror="window.__xss = 4">';
            // Fires after the handler in the markup would have run.
            holder.querySelector("img").addEventListener("error", () => done(window.__xss ?? null));
            document.body.append(holder);
        })"""
    )

    assert ran is None


def test_every_page_works_within_the_content_security_policy(portal, stored):
    refused: list[str] = []
    portal.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    menu = portal.get_by_role("navigation", name="Main menu").get_by_role("link")
    names = [name.strip() for name in menu.all_inner_texts()]
    assert len(names) >= 6

    for name in names:
        _menu(portal, name)
        expect(portal.get_by_role("heading", name=name).first).to_be_visible()
    # A mission's page draws its progress bars' widths.
    portal.goto(portal.url.split("#")[0] + f"#/missions/{stored['mission_id']}")
    expect(portal.get_by_text(IMAGE).first).to_be_visible()
    portal.goto(portal.url.split("#")[0].removesuffix("index.html") + "api.html")
    expect(portal.get_by_role("heading").first).to_be_visible()

    assert refused == []
