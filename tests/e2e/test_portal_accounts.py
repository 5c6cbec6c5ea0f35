"""Logging in to the portal with an account, as the guide's log-in page does (account
name, password, verify code), in a real browser against the local stack.

A person reads the verify code off its image; the test cannot, so it answers the
portal's request for a verify code with one it stored itself (its answer known), the
way the accounts function stores them. Everything else is the real stack.
"""

import base64
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from captcha.image import ImageCaptcha
from playwright.sync_api import Page, Route, expect

from cloudsms.services.accounts import answer_hash
from tests.e2e.test_portal import _new_page, _screenshot, browser  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

TENANT = "portal-accounts"
ANSWER = "k7Pw"
NEW_PASSWORD = "Harbour2026"


@pytest.fixture(scope="module")
def tenant(cloudsms_cli) -> str:
    cloudsms_cli("tenant-create", TENANT, "--name", "Account Tester")
    return TENANT


@pytest.fixture
def account(cloudsms_cli, tenant) -> dict[str, Any]:
    """A new account of the tests' tenant: its name and temporary password."""
    name = f"portal_{secrets.token_hex(3)}"
    created = cloudsms_cli("account-add", name, tenant)
    return {"name": name, "password": created["password"]}


class VerifyCodes:
    """Answers the portal's requests for a verify code with ones stored in the stack's
    table with a known answer; counts the requests."""

    def __init__(self, stack: dict[str, Any]):
        self.table = boto3.client(
            "dynamodb", endpoint_url=stack["aws_endpoint_url"], region_name="us-east-1"
        )
        self.table_name = stack["environment"]["CAPTCHAS_TABLE"]
        self.image = (
            "data:image/png;base64,"
            + base64.b64encode(
                ImageCaptcha(width=160, height=60).generate(ANSWER).getvalue()
            ).decode()
        )
        self.served = 0

    def __call__(self, route: Route) -> None:
        captcha_id = secrets.token_urlsafe(18)
        self.table.put_item(
            TableName=self.table_name,
            Item={
                "captcha_id": {"S": captcha_id},
                "answer_hash": {"S": answer_hash(captcha_id, ANSWER)},
                "expires_at": {"N": str(int(time.time()) + 300)},
            },
        )
        self.served += 1
        body = {"captcha_id": captcha_id, "image": self.image, "expires_in": 300}
        route.fulfill(status=201, content_type="application/json", body=json.dumps(body))


@pytest.fixture
def page(browser, stack) -> Iterator[tuple[Page, VerifyCodes]]:  # noqa: F811 - the fixture
    page = _new_page(browser)
    codes = VerifyCodes(stack)
    page.route("**/v1/captchas", codes)
    page.goto(stack["api_url"] + "/")
    yield page, codes
    page.context.close()


def _fill(page: Page, name: str, password: str, code: str = ANSWER) -> None:
    page.get_by_label("Account Name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Verify Code", exact=True).fill(code)
    page.get_by_role("button", name="Log in", exact=True).click()


def test_an_account_logs_in_and_changes_its_temporary_password_first(page, account):
    page, _ = page
    expect(page.get_by_role("img", name="Verify code image")).to_be_visible()
    _screenshot(page, "login-account")

    _fill(page, account["name"], account["password"])

    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    _screenshot(page, "change-password")
    page.get_by_label("Current password").fill(account["password"])
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    expect(page.get_by_role("heading", name="SMS Overview")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text(account["name"])
    # The overview's auth key is the tenant's API keys by id, never the session's token.
    expect(page.get_by_text("Your portal session is not an API key")).to_be_visible()
    token = page.evaluate("sessionStorage.getItem('cloudsms.apiKey')")
    assert token[-4:] not in page.locator("main").inner_text()

    page.get_by_role("button", name="Log out").click()
    _fill(page, account["name"], NEW_PASSWORD)
    expect(page.get_by_role("heading", name="SMS Overview")).to_be_visible()


def test_a_wrong_password_is_refused_and_a_new_verify_code_shown(page, account):
    page, codes = page
    expect(page.get_by_role("img", name="Verify code image")).to_be_visible()

    _fill(page, account["name"], "not-it-123")

    expect(page.get_by_role("alert")).to_contain_text("the account name or the password is wrong")
    expect(page.get_by_role("heading", name="SMS Overview")).to_have_count(0)
    assert codes.served == 2  # one verify code is good for one try


def test_a_wrong_verify_code_keeps_the_name_and_password_and_shows_a_new_code(page, account):
    page, codes = page
    expect(page.get_by_role("img", name="Verify code image")).to_be_visible()

    _fill(page, account["name"], account["password"], code="zzzz")

    expect(page.get_by_role("alert")).to_contain_text("verify code is wrong")
    expect(page.get_by_label("Account Name")).to_have_value(account["name"])
    expect(page.get_by_label("Password", exact=True)).to_have_value(account["password"])
    code = page.get_by_label("Verify Code", exact=True)
    expect(code).to_have_value("")
    expect(code).to_be_focused()  # once the new verify code is shown
    assert codes.served == 2
    code.fill(ANSWER)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()


def test_logging_out_ends_the_session_on_the_server(page, account, stack):
    import requests

    page, _ = page
    _fill(page, account["name"], account["password"])
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    token = page.evaluate("sessionStorage.getItem('cloudsms.apiKey')")
    assert token.startswith("css_")

    def ended(response: Any) -> bool:
        return response.request.method == "DELETE" and response.url.endswith("/v1/sessions/current")

    with page.expect_response(ended) as logged_out:
        page.get_by_role("button", name="Log out").click()
    assert logged_out.value.status == 204
    expect(page.get_by_label("Account Name")).to_be_visible()

    # At once: the authorizer remembers API keys for a while, never sessions.
    status = requests.get(
        stack["api_url"] + "/v1/overview", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code
    assert status == 401
