"""Portal accounts through the accounts handler against moto: the operator's accounts, the
log-in page (verify code, password, lock-out), sessions, password changes."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudsms import clock
from cloudsms.errors import Conflict
from tests.integration.conftest import api_event
from tests.integration.test_authorizer import _authorize, _effects

CAPTCHA = "aqVj"
# The address api_event's requests come from (tests/events/api_request.json).
ADDRESS = "203.0.113.7"


@pytest.fixture
def accounts_app(tenant, monkeypatch):
    from cloudsms.services import accounts
    from cloudsms.settings import get_settings

    # Tests read the verify code's text; people read the image.
    monkeypatch.setattr(accounts, "_captcha_text", lambda: CAPTCHA)
    # The clock goes on from the start of an address's failure window: a test's 20 tries
    # must all count in one window, and on a slow machine they took long enough to be
    # cut in two by a window's end (the 21st then let through).
    window = get_settings().address_window_minutes * 60
    real = datetime.now(UTC)
    start = datetime.fromtimestamp(int(real.timestamp()) // window * window, UTC)
    shift = start + timedelta(seconds=1) - real
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + shift)
    from functions.accounts import app

    return app


@pytest.fixture
def operator_key(tenant) -> str:
    from cloudsms.services import tenants

    return tenants.issue_key("acme", role="operator").key


def _call(
    app,
    context,
    method: str,
    path: str,
    resource: str | None = None,
    key: str | None = None,
    principal: Any = None,
    source_ip: str = ADDRESS,
    **kwargs: Any,
) -> dict[str, Any]:
    """Through the handler, with the authorizer context the key resolves to, or the
    `principal` the authorizer resolved earlier and still holds (none: the log-in page's
    calls), from `source_ip`."""
    from cloudsms.services.tenants import resolve_key

    event = api_event(method, path, resource or path, tenant_id=None, **kwargs)
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    if key is not None:
        principal = resolve_key(key)
        assert principal is not None, "the key does not resolve"
    if principal is not None:
        event["requestContext"]["authorizer"] = {
            "tenant_id": principal.tenant_id,
            "role": principal.role,
            "key_id": principal.key_id,
        }
    response = app.lambda_handler(event, context)
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def _create(app, context, operator_key: str, name: str = "CNX01_Adm") -> str:
    response = _call(
        app,
        context,
        "POST",
        "/v1/admin/accounts",
        key=operator_key,
        body={"account_name": name, "tenant_id": "acme"},
    )
    assert response["statusCode"] == 201, response["body"]
    return response["json"]["password"]


def _captcha(app, context, source_ip: str = ADDRESS) -> str:
    response = _call(app, context, "POST", "/v1/captchas", source_ip=source_ip)
    assert response["statusCode"] == 201, response["body"]
    image = response["json"]["image"]
    assert base64.b64decode(image.removeprefix("data:image/png;base64,"))[:4] == b"\x89PNG"
    return response["json"]["captcha_id"]


def _log_in(
    app,
    context,
    password: str,
    name: str = "CNX01_Adm",
    captcha: str = CAPTCHA,
    captcha_id: str | None = None,
    source_ip: str = ADDRESS,
) -> dict[str, Any]:
    return _call(
        app,
        context,
        "POST",
        "/v1/sessions",
        source_ip=source_ip,
        body={
            "account_name": name,
            "password": password,
            "captcha_id": captcha_id or _captcha(app, context, source_ip),
            "captcha": captcha,
        },
    )


def _token(app, context, password: str) -> str:
    response = _log_in(app, context, password)
    assert response["statusCode"] == 201, response["body"]
    return response["json"]["token"]


def _change_password(
    app, context, current: str, new: str = "Spring2026", **caller: Any
) -> dict[str, Any]:
    """POST /v1/account/password as the `key` or the `principal` given."""
    body = {"current_password": current, "new_password": new}
    return _call(app, context, "POST", "/v1/account/password", body=body, **caller)


def test_an_account_logs_in_with_its_password_and_the_verify_code(
    accounts_app, context, operator_key
):
    from cloudsms.services.tenants import list_keys, resolve_key

    password = _create(accounts_app, context, operator_key)

    response = _log_in(accounts_app, context, password, captcha="AQVJ")  # any case

    assert response["statusCode"] == 201, response["body"]
    account = response["json"]["account"]
    assert (account["tenant_id"], account["role_label"]) == ("acme", "Tenant Manager")
    assert account["must_change_password"] is True
    # With a temporary password, the session may only change it.
    principal = resolve_key(response["json"]["token"])
    assert principal is not None
    assert (principal.tenant_id, principal.role) == ("acme", "password_change")
    # A session is not one of the tenant's API keys.
    assert all(key.kind == "key" for key in list_keys("acme"))


def test_no_password_is_stored_listed_or_logged(accounts_app, context, operator_key, capsys):
    from cloudsms.store.accounts import AccountModel

    password = _create(accounts_app, context, operator_key)
    _token(accounts_app, context, password)

    listed = _call(
        accounts_app,
        context,
        "GET",
        "/v1/admin/tenants/acme/accounts",
        "/v1/admin/tenants/{tenant_id}/accounts",
        key=operator_key,
        path_parameters={"tenant_id": "acme"},
    )
    assert [a["account_name"] for a in listed["json"]["accounts"]] == ["CNX01_Adm"]
    assert password not in listed["body"] and "password_hash" not in listed["body"]
    assert password not in AccountModel.get("cnx01_adm").password_hash
    assert password not in capsys.readouterr().out


def test_a_wrong_verify_code_is_refused_and_used_up(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    captcha_id = _captcha(accounts_app, context)

    wrong = _log_in(accounts_app, context, password, captcha="zzzz", captcha_id=captcha_id)
    again = _log_in(accounts_app, context, password, captcha_id=captcha_id)

    assert wrong["statusCode"] == 400 and "verify code is wrong" in wrong["body"]
    assert again["statusCode"] == 400 and "used or has expired" in again["body"]


def test_a_verify_code_dynamodb_refuses_to_use_up_is_raised_not_taken_for_used(
    accounts_app, context, operator_key, monkeypatch
):
    from pynamodb.exceptions import DeleteError

    from cloudsms.store.accounts import CaptchaModel
    from tests.integration.conftest import throttled

    password = _create(accounts_app, context, operator_key)
    captcha_id = _captcha(accounts_app, context)

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(DeleteError)

    monkeypatch.setattr(CaptchaModel, "delete", refused)

    with pytest.raises(DeleteError):
        _log_in(accounts_app, context, password, captcha_id=captcha_id)


def test_an_expired_verify_code_is_refused(accounts_app, context, operator_key):
    from cloudsms.errors import BadRequest
    from cloudsms.services import accounts

    password = _create(accounts_app, context, operator_key)
    captcha_id = _captcha(accounts_app, context)

    with pytest.raises(BadRequest, match="expired"):
        accounts.log_in(
            "CNX01_Adm", password, captcha_id, CAPTCHA, clock.now() + timedelta(minutes=6), ADDRESS
        )


def test_a_log_in_body_nested_too_deeply_is_refused_as_invalid_json(accounts_app, context):
    event = api_event("POST", "/v1/sessions", "/v1/sessions", tenant_id=None)
    event["body"] = "[" * 1000 + "]" * 1000

    response = accounts_app.lambda_handler(event, context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_request"


def test_a_blank_account_name_is_refused_at_log_in_naming_it(accounts_app, context):
    response = _log_in(accounts_app, context, "not-it-1", name="   ")

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["error"]["message"] == "account_name: the account name is empty"


@pytest.mark.parametrize("action", ["password-reset", "disable", "enable"])
def test_an_operator_action_on_a_blank_account_name_finds_no_account(
    accounts_app, context, operator_key, action
):
    response = _call(
        accounts_app,
        context,
        "POST",
        f"/v1/admin/accounts/%20%20/{action}",
        f"/v1/admin/accounts/{{account_name}}/{action}",
        key=operator_key,
        path_parameters={"account_name": "%20%20"},
    )

    assert response["statusCode"] == 404, response["body"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    accounts_app, context, operator_key
):
    _create(accounts_app, context, operator_key)

    wrong = _log_in(accounts_app, context, "not-it-1")
    unknown = _log_in(accounts_app, context, "not-it-1", name="nobody")

    assert wrong["statusCode"] == unknown["statusCode"] == 401
    assert wrong["json"]["error"]["message"] == unknown["json"]["error"]["message"]


def test_an_unknown_name_and_a_locked_account_cost_what_a_wrong_password_does(
    accounts_app, context, operator_key, monkeypatch
):
    """Timing must not tell which names exist: every refusal hashes the password once, at
    the same cost, and writes to the accounts table once, as a wrong password's count
    does. Counted rather than timed, so that the test cannot flake."""
    from cloudsms.domain import passwords
    from cloudsms.store.accounts import AccountModel

    password = _create(accounts_app, context, operator_key)
    hashed: list[tuple[int, int, int]] = []
    scrypt = passwords._scrypt

    def counted_scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        hashed.append((n, r, p))
        return scrypt(secret, salt, n, r, p)

    writes: list[str] = []
    update = AccountModel.update

    def counted_update(self: Any, *args: Any, **kwargs: Any) -> Any:
        writes.append(self.account_name)
        return update(self, *args, **kwargs)

    monkeypatch.setattr(passwords, "_scrypt", counted_scrypt)
    monkeypatch.setattr(AccountModel, "update", counted_update)

    def work(name: str, tried: str) -> tuple[list[tuple[int, int, int]], int]:
        hashed.clear()
        writes.clear()
        assert _log_in(accounts_app, context, tried, name=name)["statusCode"] == 401
        return list(hashed), len(writes)

    wrong = work("CNX01_Adm", "not-it-1")
    assert wrong == ([(2**14, 8, 1)], 1)
    assert work("nobody", "not-it-1") == wrong
    assert AccountModel.count("nobody") == 0  # the write created no account

    for _ in range(4):
        work("CNX01_Adm", "not-it-1")
    assert _failed_logins()[1] is not None
    assert work("CNX01_Adm", password) == wrong
    assert _failed_logins()[0] == 0  # the lock's count is left as locking set it


def test_five_wrong_passwords_in_a_row_lock_the_account_for_a_while(
    accounts_app, context, operator_key
):
    from cloudsms.services import accounts

    password = _create(accounts_app, context, operator_key)
    for _ in range(5):
        assert _log_in(accounts_app, context, "not-it-1")["statusCode"] == 401

    # Even the right password is refused now, with the answer a wrong one gets, so that
    # the lock does not tell a stranger the name exists.
    locked = _log_in(accounts_app, context, password)
    unknown = _log_in(accounts_app, context, password, name="nobody")
    assert locked["statusCode"] == 401 and locked["body"] == unknown["body"]
    listed = accounts.list_accounts("acme")
    assert listed[0]["locked_until"] is not None

    later = clock.now() + timedelta(minutes=16)
    captcha_id = accounts.new_captcha(later, ADDRESS)["captcha_id"]
    session = accounts.log_in("CNX01_Adm", password, captcha_id, CAPTCHA, later, ADDRESS)
    assert session.token


def test_a_right_password_starts_the_count_of_wrong_ones_anew(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    for _ in range(4):
        _log_in(accounts_app, context, "not-it-1")
    _token(accounts_app, context, password)

    for _ in range(4):
        _log_in(accounts_app, context, "not-it-1")

    assert _log_in(accounts_app, context, password)["statusCode"] == 201


def test_a_right_password_tried_while_wrong_ones_lock_the_account_opens_no_session(
    accounts_app, context, operator_key, monkeypatch
):
    """Tries made at once each read the account unlocked before any is counted: five
    wrong ones lock it while the right one is being checked, and the right one must not
    open a session then, or sending tries in parallel would get past the lock."""
    from cloudsms.domain import passwords
    from cloudsms.services import accounts

    password = _create(accounts_app, context, operator_key)
    now = clock.now()
    captcha_ids = [accounts.new_captcha(now, ADDRESS)["captcha_id"] for _ in range(6)]
    verify = passwords.verify

    def wrong_ones_lock_it_meanwhile(tried: str, stored: str) -> bool:
        if tried == password and captcha_ids:
            for captcha_id in captcha_ids[1:]:
                with pytest.raises(accounts.Unauthorized):
                    accounts.log_in("CNX01_Adm", "not-it-1", captcha_id, CAPTCHA, now, ADDRESS)
            captcha_ids.clear()
        return verify(tried, stored)

    monkeypatch.setattr(passwords, "verify", wrong_ones_lock_it_meanwhile)

    with pytest.raises(accounts.Unauthorized) as refused:
        accounts.log_in("CNX01_Adm", password, captcha_ids[0], CAPTCHA, now, ADDRESS)

    assert not captcha_ids  # the wrong ones were tried while the right one was checked
    assert str(refused.value) == accounts.wrong_credentials()
    assert _failed_logins()[1] is not None  # locked, and no session was opened
    assert not [key for key in accounts.ApiKeyModel.scan() if key.kind == "session"]


def test_a_password_change_checks_the_current_one_and_the_rule(accounts_app, context, operator_key):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    def change(current: str, new: str) -> dict[str, Any]:
        return _change_password(accounts_app, context, current, new, key=token)

    assert "current password is wrong" in change("not-it-1", "Spring2026")["body"]
    assert "one letter and one digit" in change(password, "springtime")["body"]
    assert "8 to 64 characters" in change(password, "ab1")["body"]
    assert "account name" in change(password, "cnx01_adm99")["body"]
    changed = change(password, "Spring2026")
    assert changed["statusCode"] == 200
    # The answer is a new, full session; the old one ends.
    token, old = changed["json"]["token"], token
    assert resolve_key(old) is None and resolve_key(token).role == "tenant"

    account = _call(accounts_app, context, "GET", "/v1/account", key=token)["json"]
    assert account["must_change_password"] is False
    assert _log_in(accounts_app, context, password)["statusCode"] == 401
    assert _log_in(accounts_app, context, "Spring2026")["statusCode"] == 201


def test_a_password_change_logs_out_every_session_and_answers_a_new_one(
    accounts_app, context, operator_key
):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    elsewhere = _token(accounts_app, context, password)
    here = _token(accounts_app, context, password)

    changed = _change_password(accounts_app, context, password, key=here)

    assert resolve_key(elsewhere) is None and resolve_key(here) is None
    assert resolve_key(changed["json"]["token"]) is not None


def test_of_two_password_changes_at_once_one_wins_and_the_other_is_told(
    accounts_app, context, operator_key, monkeypatch
):
    from cloudsms.domain import passwords
    from cloudsms.services import accounts

    password = _create(accounts_app, context, operator_key)
    first, second = _token(accounts_app, context, password), _token(accounts_app, context, password)
    check_rule = passwords.check_rule
    answers: list[dict[str, Any]] = []

    def change(token: str, new: str) -> dict[str, Any]:
        body = {"current_password": password, "new_password": new}
        return _call(accounts_app, context, "POST", "/v1/account/password", key=token, body=body)

    def second_changes_meanwhile(new: str, name: str) -> None:
        # The second change runs after the first checked the current password and before
        # it writes the new one.
        monkeypatch.setattr(accounts.passwords, "check_rule", check_rule)
        answers.append(change(second, "Summer2026"))
        check_rule(new, name)

    monkeypatch.setattr(accounts.passwords, "check_rule", second_changes_meanwhile)

    answers.append(change(first, "Spring2026"))

    assert [a["statusCode"] for a in answers] == [200, 409], [a["body"] for a in answers]
    assert "changed by another request" in answers[1]["json"]["error"]["message"]
    assert _log_in(accounts_app, context, "Summer2026")["statusCode"] == 201
    assert _log_in(accounts_app, context, "Spring2026")["statusCode"] == 401


def test_a_password_change_dynamodb_refuses_is_raised_not_taken_for_another_change(
    accounts_app, context, operator_key, monkeypatch
):
    from pynamodb.exceptions import UpdateError

    from cloudsms.store.accounts import AccountModel
    from tests.integration.conftest import throttled

    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    def refused(*_: Any, **__: Any) -> None:
        raise throttled(UpdateError)

    monkeypatch.setattr(AccountModel, "update", refused)

    with pytest.raises(UpdateError):
        _change_password(accounts_app, context, password, key=token)


def test_guessing_the_current_password_locks_the_account(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    def change(current: str) -> dict[str, Any]:
        return _change_password(accounts_app, context, current, key=token)

    assert [change(f"guess-{n}1")["statusCode"] for n in range(5)] == [400] * 5
    assert change(password)["statusCode"] == 403
    assert _log_in(accounts_app, context, password)["statusCode"] == 401


def test_the_answers_name_the_lock_as_it_is_set(accounts_app, context, operator_key, monkeypatch):
    from cloudsms.services import accounts
    from cloudsms.settings import get_settings

    lock = get_settings().model_copy(update={"max_failed_logins": 3, "lock_minutes": 30})
    monkeypatch.setattr(accounts, "get_settings", lambda: lock)
    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    wrong = _log_in(accounts_app, context, "not-it-1")
    for n in range(3):
        _change_password(accounts_app, context, f"guess-{n}1", key=token)
    locked = _change_password(accounts_app, context, password, key=token)

    assert "(3 wrong passwords in a row lock the account for 30 minutes)" in str(wrong["json"])
    assert locked["json"]["error"]["message"] == (
        "the account is locked after 3 wrong passwords: try again later"
    )


def test_a_password_change_starts_the_count_of_wrong_ones_anew(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)
    wrong = _change_password(accounts_app, context, "not-it-1", key=token)
    changed = _change_password(accounts_app, context, password, key=token)
    assert (wrong["statusCode"], changed["statusCode"]) == (400, 200)

    for _ in range(4):
        _log_in(accounts_app, context, "not-it-1")

    assert _log_in(accounts_app, context, "Spring2026")["statusCode"] == 201


def test_logging_out_ends_the_session(accounts_app, context, operator_key):
    from cloudsms.services.tenants import resolve_key

    token = _token(accounts_app, context, _create(accounts_app, context, operator_key))

    response = _call(accounts_app, context, "DELETE", "/v1/sessions/current", key=token)

    assert response["statusCode"] == 204
    assert resolve_key(token) is None


def test_a_logged_out_session_is_refused_by_the_authorizer_at_once(
    accounts_app, context, operator_key
):
    # An API key is remembered by a warm authorizer for a minute; a session is not.
    token = _token(accounts_app, context, _create(accounts_app, context, operator_key))
    headers = {"Authorization": f"Bearer {token}"}
    assert _effects(_authorize(context, headers))[0] == "Allow"

    _call(accounts_app, context, "DELETE", "/v1/sessions/current", key=token)

    with pytest.raises(Exception, match="^Unauthorized$"):
        _authorize(context, headers)


def test_a_logged_out_session_cannot_change_the_password(accounts_app, context, operator_key):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)
    # The authorizer keeps a resolved key for a minute: it still lets the token through.
    cached = resolve_key(token)
    _call(accounts_app, context, "DELETE", "/v1/sessions/current", key=token)

    changed = _change_password(accounts_app, context, password, principal=cached)

    assert changed["statusCode"] == 401 and "session has ended" in changed["body"]
    assert _log_in(accounts_app, context, password)["statusCode"] == 201


def test_an_expired_session_cannot_change_the_password(
    accounts_app, context, operator_key, monkeypatch
):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    cached = resolve_key(_token(accounts_app, context, password))
    nine_hours = clock.now() + timedelta(hours=9)
    monkeypatch.setattr(clock, "now", lambda: nine_hours)

    changed = _change_password(accounts_app, context, password, principal=cached)

    assert changed["statusCode"] == 401 and "session has ended" in changed["body"]


def test_a_session_ends_when_it_expires(accounts_app, context, operator_key, monkeypatch):
    from cloudsms.services import tenants

    token = _token(accounts_app, context, _create(accounts_app, context, operator_key))
    assert tenants.resolve_key(token) is not None

    nine_hours = clock.now() + timedelta(hours=9)
    monkeypatch.setattr(tenants.clock, "now", lambda: nine_hours)

    assert tenants.resolve_key(token) is None


def test_a_reset_ends_the_sessions_lifts_the_lock_and_asks_for_a_new_password(
    accounts_app, context, operator_key
):
    from cloudsms.services.tenants import resolve_key

    old = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, old)
    for _ in range(5):
        _log_in(accounts_app, context, "not-it-1")

    reset = _call(
        accounts_app,
        context,
        "POST",
        "/v1/admin/accounts/CNX01_Adm/password-reset",
        "/v1/admin/accounts/{account_name}/password-reset",
        key=operator_key,
        path_parameters={"account_name": "CNX01_Adm"},
    )

    assert reset["statusCode"] == 200
    assert resolve_key(token) is None
    assert _log_in(accounts_app, context, old)["statusCode"] == 401
    again = _log_in(accounts_app, context, reset["json"]["password"])
    assert again["statusCode"] == 201 and again["json"]["account"]["must_change_password"]


def _operator_action(app, context, operator_key: str, action: str) -> dict[str, Any]:
    return _call(
        app,
        context,
        "POST",
        f"/v1/admin/accounts/CNX01_Adm/{action}",
        f"/v1/admin/accounts/{{account_name}}/{action}",
        key=operator_key,
        path_parameters={"account_name": "CNX01_Adm"},
    )


@pytest.fixture
def lagging_index(monkeypatch):
    """The keys table's tenant index does not show sessions yet (it lags the table), so
    ending the account's sessions through it finds none."""
    from cloudsms.store.api_keys import ApiKeyModel

    monkeypatch.setattr(ApiKeyModel.by_tenant, "query", lambda *args, **kwargs: iter(()))


@pytest.mark.parametrize("action", ["password-reset", "disable"])
def test_a_session_the_index_does_not_show_yet_ends_too(
    accounts_app, context, operator_key, request, action
):
    from cloudsms.services.tenants import resolve_key

    token = _token(accounts_app, context, _create(accounts_app, context, operator_key))
    request.getfixturevalue("lagging_index")

    assert _operator_action(accounts_app, context, operator_key, action)["statusCode"] == 200

    assert resolve_key(token) is None


def test_of_two_resets_at_once_only_the_one_whose_password_works_shows_one(
    accounts_app, context, operator_key, monkeypatch
):
    from cloudsms.services import accounts

    _create(accounts_app, context, operator_key)
    read_account = accounts._account
    shown: list[str] = []

    def another_reset_meanwhile(name: str) -> Any:
        account = read_account(name)  # read by this reset, then the other one writes
        monkeypatch.setattr(accounts, "_account", read_account)
        shown.append(accounts.reset_password(name, clock.now()).password)
        return account

    monkeypatch.setattr(accounts, "_account", another_reset_meanwhile)

    with pytest.raises(Conflict, match="changed meanwhile"):
        accounts.reset_password("CNX01_Adm", clock.now())

    assert _log_in(accounts_app, context, shown[0])["statusCode"] == 201


def test_a_log_in_that_read_the_password_before_a_reset_gets_no_session_that_works(
    accounts_app, context, operator_key, monkeypatch
):
    """The operator resets a compromised account while someone logs in with its old
    password: the log-in read the account before the reset, and opens its session after."""
    from cloudsms.domain import passwords
    from cloudsms.store.api_keys import ApiKeyModel

    old = _create(accounts_app, context, operator_key)
    verify = passwords.verify

    def verify_while_the_operator_resets(password: str, stored: str) -> bool:
        right = verify(password, stored)
        monkeypatch.setattr(passwords, "verify", verify)
        assert (
            _operator_action(accounts_app, context, operator_key, "password-reset")["statusCode"]
            == 200
        )
        return right

    monkeypatch.setattr(passwords, "verify", verify_while_the_operator_resets)
    logged_in = _log_in(accounts_app, context, old)

    # It read the old password; its write that starts the count of wrong ones anew finds
    # the sessions ended since.
    assert logged_in["statusCode"] == 401, logged_in["body"]
    assert not [key for key in ApiKeyModel.scan() if key.kind == "session"]


def test_a_log_in_racing_a_change_of_a_leaked_password_gets_no_session(
    accounts_app, context, operator_key, monkeypatch
):
    """The owner changes a leaked password while a stranger, who has tried a wrong one
    before, logs in with it: the log-in read the account before the change. Its write
    that starts the count of wrong passwords anew read the account back, the change's
    end of its sessions too, and it opened a session the change did not end."""
    from cloudsms.domain import passwords
    from cloudsms.store.api_keys import ApiKeyModel

    temporary = _create(accounts_app, context, operator_key)
    first = _change_password(
        accounts_app, context, temporary, "Leaked2026", key=_token(accounts_app, context, temporary)
    )
    owner = first["json"]["token"]
    assert _log_in(accounts_app, context, "not-it-1")["statusCode"] == 401
    verify = passwords.verify

    def verify_while_the_owner_changes_it(password: str, stored: str) -> bool:
        right = verify(password, stored)
        monkeypatch.setattr(passwords, "verify", verify)
        changed = _change_password(accounts_app, context, "Leaked2026", "Autumn2026", key=owner)
        assert changed["statusCode"] == 200, changed["body"]
        return right

    monkeypatch.setattr(passwords, "verify", verify_while_the_owner_changes_it)
    stranger = _log_in(accounts_app, context, "Leaked2026")

    assert stranger["statusCode"] == 401, stranger["body"]
    sessions = [key for key in ApiKeyModel.scan() if key.kind == "session"]
    assert len(sessions) == 3  # the owner's two, the second change's new one: no other


def test_a_session_missed_while_disabled_stays_ended_once_enabled(
    accounts_app, context, operator_key, lagging_index
):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    _operator_action(accounts_app, context, operator_key, "disable")
    _operator_action(accounts_app, context, operator_key, "enable")

    assert resolve_key(token) is None
    assert resolve_key(_token(accounts_app, context, password)) is not None


def test_a_disabled_account_cannot_log_in(accounts_app, context, operator_key):
    from cloudsms.services.tenants import resolve_key

    password = _create(accounts_app, context, operator_key)
    token = _token(accounts_app, context, password)

    _call(
        accounts_app,
        context,
        "POST",
        "/v1/admin/accounts/CNX01_Adm/disable",
        "/v1/admin/accounts/{account_name}/disable",
        key=operator_key,
        path_parameters={"account_name": "CNX01_Adm"},
    )

    assert resolve_key(token) is None
    refused = _log_in(accounts_app, context, password)
    wrong = _log_in(accounts_app, context, "not-it-1")
    # The same answer as a wrong password: nobody learns a disabled account's password.
    assert refused["statusCode"] == 401 and refused["body"] == wrong["body"]

    enabled = _call(
        accounts_app,
        context,
        "POST",
        "/v1/admin/accounts/CNX01_Adm/enable",
        "/v1/admin/accounts/{account_name}/enable",
        key=operator_key,
        path_parameters={"account_name": "CNX01_Adm"},
    )
    assert enabled["statusCode"] == 200 and enabled["json"]["disabled"] is False
    assert _log_in(accounts_app, context, password)["statusCode"] == 201


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"account_name": "a b"}, "an account name has 3 to 30"),
        ({"tenant_id": "nobody"}, "tenant nobody does not exist"),
        # DynamoDB refuses an empty key: it must not reach it (a 500).
        ({"tenant_id": ""}, "the tenant id is empty"),
        # Named by its start; and not looked up: DynamoDB refuses a key over 2,048 bytes.
        ({"tenant_id": "x" * 100_000}, f"tenant {'x' * 40}… does not exist"),
        ({"role": "king"}, "role must be one of tenant_manager"),
        ({"account_type": "operator"}, "account type must be one of tenant"),
    ],
)
def test_a_bad_account_is_refused_with_the_reason(
    accounts_app, context, operator_key, fields, words
):
    body = {"account_name": "CNX01_Adm", "tenant_id": "acme", **fields}

    response = _call(
        accounts_app, context, "POST", "/v1/admin/accounts", key=operator_key, body=body
    )

    assert response["statusCode"] in (400, 404)
    assert words in response["json"]["error"]["message"]


def test_an_account_name_is_taken_once(accounts_app, context, operator_key):
    _create(accounts_app, context, operator_key)

    again = _call(
        accounts_app,
        context,
        "POST",
        "/v1/admin/accounts",
        key=operator_key,
        body={"account_name": "CNX01_Adm", "tenant_id": "acme"},
    )

    assert again["statusCode"] == 409


def test_only_the_operator_manages_accounts(accounts_app, context, tenant):
    response = _call(
        accounts_app,
        context,
        "POST",
        "/v1/admin/accounts",
        key=tenant["key"],
        body={"account_name": "CNX01_Adm", "tenant_id": "acme"},
    )

    assert response["statusCode"] == 403


def test_a_session_with_a_temporary_password_may_only_change_it(
    accounts_app, context, operator_key
):
    from functions.reports import app as reports_app

    token = _token(accounts_app, context, _create(accounts_app, context, operator_key))

    overview = _call(reports_app, context, "GET", "/v1/overview", key=token)
    account = _call(accounts_app, context, "GET", "/v1/account", key=token)

    assert overview["statusCode"] == 403 and "temporary password" in overview["body"]
    assert account["statusCode"] == 200


def test_an_api_key_has_no_account(accounts_app, context, tenant):
    response = _call(accounts_app, context, "GET", "/v1/account", key=tenant["key"])

    assert response["statusCode"] == 403 and "portal session" in response["body"]


def test_the_overview_lists_the_tenants_own_api_keys_not_sessions_or_operator_keys(
    accounts_app, context, tenant, operator_key
):
    from cloudsms.services.tenants import resolve_key
    from functions.reports import app as reports_app

    operator_key_id = resolve_key(operator_key).key_id
    password = _create(accounts_app, context, operator_key)
    token = _change_password(
        accounts_app, context, password, key=_token(accounts_app, context, password)
    )["json"]["token"]

    overview = _call(reports_app, context, "GET", "/v1/overview", key=token)

    assert overview["statusCode"] == 200, overview["body"]
    assert overview["json"]["api_key_ids"] == [tenant["key_id"]]
    assert operator_key_id not in overview["body"]


def test_a_route_without_a_body_takes_an_empty_form_as_no_body(accounts_app, context):
    # curl -d '' sends an empty body typed as a URL-encoded form.
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    response = _call(accounts_app, context, "POST", "/v1/captchas", headers=headers)

    assert response["statusCode"] == 201, response["body"]


def test_a_verify_code_has_no_characters_people_mistake_for_others():
    from cloudsms.services import accounts

    drawn = "".join(accounts._captcha_text() for _ in range(500))

    assert drawn.isupper() or drawn.isdigit()
    assert not set(drawn) & set("0O1IL" + "abcdefghijklmnopqrstuvwxyz")


# --- the limit per address -------------------------------------------------------------------

SPRAYER = "198.51.100.23"
# An address over the limit gets no verify code either: its refused log-ins name any id.
ANY_ID = "no-verify-code"


def _fail_from(app, context, address: str, times: int = 20) -> None:
    """`times` refused log-ins from `address`: a spray, one password tried on names that
    are not there, which locks no account."""
    for n in range(times):
        refused = _log_in(app, context, "Winter2026", name=f"user{n}", source_ip=address)
        assert refused["statusCode"] == 401, refused["body"]


def _refused_status(app, context, password: str, address: str = SPRAYER) -> int:
    """The status of a log-in from an address whose verify codes are refused."""
    return _log_in(app, context, password, captcha_id=ANY_ID, source_ip=address)["statusCode"]


def _failed_logins(name: str = "cnx01_adm") -> tuple[int, Any]:
    from cloudsms.store.accounts import AccountModel

    account = AccountModel.get(name, consistent_read=True)
    return account.failed_logins, account.locked_until


def test_twenty_failures_from_an_address_refuse_its_log_ins_even_with_the_right_password(
    accounts_app, context, operator_key
):
    password = _create(accounts_app, context, operator_key)
    _fail_from(accounts_app, context, SPRAYER)

    refused = _log_in(accounts_app, context, password, source_ip=SPRAYER, captcha_id=ANY_ID)

    assert refused["statusCode"] == 429, refused["body"]
    error = refused["json"]["error"]
    assert error["code"] == "too_many_requests"
    assert "try again after" in error["message"] and "20 failed log-ins" in error["message"]
    retry_after = int(refused["multiValueHeaders"]["Retry-After"][0])
    assert 0 < retry_after <= 15 * 60
    # The refused tries are not tried: the account's own count and lock stay as they were,
    # so a spraying address locks no more accounts.
    for _ in range(5):
        assert _refused_status(accounts_app, context, "not-it-1") == 429
    assert _failed_logins() == (0, None)
    # Another address logs in.
    assert _log_in(accounts_app, context, password)["statusCode"] == 201


def test_wrong_verify_codes_count_as_failures_of_the_address(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    for _ in range(20):
        wrong = _log_in(accounts_app, context, password, captcha="zzzz", source_ip=SPRAYER)
        assert wrong["statusCode"] == 400, wrong["body"]

    assert _refused_status(accounts_app, context, password) == 429


def test_a_right_password_does_not_reset_the_count_of_an_address(
    accounts_app, context, operator_key
):
    password = _create(accounts_app, context, operator_key)
    _fail_from(accounts_app, context, SPRAYER, times=19)
    assert _log_in(accounts_app, context, password, source_ip=SPRAYER)["statusCode"] == 201
    _fail_from(accounts_app, context, SPRAYER, times=1)

    assert _refused_status(accounts_app, context, password) == 429


def test_an_address_over_the_limit_gets_no_verify_code(accounts_app, context, operator_key):
    _create(accounts_app, context, operator_key)
    _fail_from(accounts_app, context, SPRAYER)

    refused = _call(accounts_app, context, "POST", "/v1/captchas", source_ip=SPRAYER)

    assert refused["statusCode"] == 429, refused["body"]
    assert refused["json"]["error"]["code"] == "too_many_requests"
    assert "Retry-After" in refused["multiValueHeaders"]
    assert _call(accounts_app, context, "POST", "/v1/captchas")["statusCode"] == 201


def test_the_end_of_the_window_lets_the_address_in_again(
    accounts_app, context, operator_key, monkeypatch
):
    password = _create(accounts_app, context, operator_key)
    _fail_from(accounts_app, context, SPRAYER)
    assert _refused_status(accounts_app, context, password) == 429

    # Whenever in its window the limit was reached, 15 minutes on is the next window.
    later = clock.now() + timedelta(minutes=15)
    monkeypatch.setattr(clock, "now", lambda: later)

    assert _log_in(accounts_app, context, password, source_ip=SPRAYER)["statusCode"] == 201


def test_the_addresses_of_one_ipv6_network_share_a_count(accounts_app, context, operator_key):
    password = _create(accounts_app, context, operator_key)
    for n in range(20):
        address = f"2001:db8:5:7::{n + 1:x}"
        _fail_from(accounts_app, context, address, times=1)

    refused = _refused_status(accounts_app, context, password, "2001:db8:5:7::abcd")
    elsewhere = _log_in(accounts_app, context, password, source_ip="2001:db8:5:8::1")

    assert (refused, elsewhere["statusCode"]) == (429, 201)


def test_a_failure_counted_meanwhile_is_not_lost(aws, monkeypatch):
    """Two failures from one address at once both count: another count lands between a
    count's reading the item and its writing it (an atomic ADD has no such gap)."""
    from moto.dynamodb.responses import DynamoHandler

    from cloudsms.services import login_limit
    from cloudsms.store.accounts import LoginFailuresModel

    now = clock.now()
    call_action = DynamoHandler.call_action
    interleaved: list[bool] = []

    def another_count_first(self: DynamoHandler) -> Any:
        target = self.headers.get("X-Amz-Target", "")
        writes = target.endswith(("UpdateItem", "PutItem"))
        if writes and LoginFailuresModel.Meta.table_name in self.body and not interleaved:
            interleaved.append(True)
            login_limit.take_try(SPRAYER, now)
        return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", another_count_first)

    login_limit.take_try(SPRAYER, now)

    assert interleaved
    counted = list(LoginFailuresModel.query(login_limit._address(SPRAYER)))
    assert [item.failures for item in counted] == [2]


def test_log_ins_sent_at_once_from_an_address_cannot_all_pass_its_limit(
    accounts_app, context, operator_key, monkeypatch
):
    """An address with one failure left sends two log-ins at once: both would read the
    count under the limit before either is counted, and a spray sent in parallel would
    try as many passwords as it sends. The second is refused (429) untried."""
    from cloudsms.domain import passwords
    from cloudsms.errors import TooManyRequests
    from cloudsms.services import accounts

    password = _create(accounts_app, context, operator_key)
    _fail_from(accounts_app, context, SPRAYER, times=19)
    now = clock.now()
    first, second = (accounts.new_captcha(now, SPRAYER)["captcha_id"] for _ in range(2))
    verify = passwords.verify
    tried: list[str] = []
    meanwhile: list[Exception] = []

    def another_try_meanwhile(candidate: str, stored: str) -> bool:
        tried.append(candidate)
        if candidate == "not-it-1":
            try:
                accounts.log_in("CNX01_Adm", "not-it-2", second, CAPTCHA, now, SPRAYER)
            except (TooManyRequests, accounts.Unauthorized) as error:
                meanwhile.append(error)
        return verify(candidate, stored)

    monkeypatch.setattr(passwords, "verify", another_try_meanwhile)

    with pytest.raises(accounts.Unauthorized):
        accounts.log_in("CNX01_Adm", "not-it-1", first, CAPTCHA, now, SPRAYER)

    assert [type(error) for error in meanwhile] == [TooManyRequests]
    assert tried == ["not-it-1"]  # the second password was never tried
    assert _failed_logins() == (1, None)
    assert _refused_status(accounts_app, context, password) == 429


def test_a_log_in_that_fails_for_the_platform_gives_its_count_back(
    accounts_app, context, operator_key, monkeypatch
):
    from cloudsms.services import accounts
    from cloudsms.store.accounts import LoginFailuresModel

    password = _create(accounts_app, context, operator_key)
    _log_in(accounts_app, context, "not-it-1", source_ip=SPRAYER)

    def broken(*args: Any) -> Any:
        raise RuntimeError("the tenants table cannot be read")

    captcha_id = _captcha(accounts_app, context, SPRAYER)
    get_tenant = accounts.get_tenant
    monkeypatch.setattr(accounts, "get_tenant", broken)
    with pytest.raises(RuntimeError):
        accounts.log_in("CNX01_Adm", password, captcha_id, CAPTCHA, clock.now(), SPRAYER)
    monkeypatch.setattr(accounts, "get_tenant", get_tenant)

    assert _log_in(accounts_app, context, password, source_ip=SPRAYER)["statusCode"] == 201
    # The wrong password's count alone: neither the platform's failure nor the log-in.
    assert [item.failures for item in LoginFailuresModel.scan()] == [1]
