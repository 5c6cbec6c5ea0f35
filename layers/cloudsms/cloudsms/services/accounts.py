"""Portal accounts: created by the operator, logging in with a name, a password and a
verify code, and holding a session (an expiring API key) while logged in.

Passwords are never stored, logged or returned, except a temporary one, once, to the
operator who created or reset the account. Wrong passwords are counted with atomic
updates; `max_failed_logins` in a row lock the account for `lock_minutes`.
"""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from captcha.image import ImageCaptcha
from pydantic import BaseModel, Field
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from cloudsms import ids
from cloudsms.domain import passwords
from cloudsms.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, shown
from cloudsms.observability import logger
from cloudsms.services import login_limit
from cloudsms.services.tenants import PASSWORD_CHANGE, Principal, get_tenant, revoke_key
from cloudsms.settings import get_settings
from cloudsms.store.accounts import AccountModel, CaptchaModel
from cloudsms.store.api_keys import SESSION, SESSION_TOKEN_PREFIX, ApiKeyModel
from cloudsms.store.base import lost_a_race

ACCOUNT_TYPES = {"tenant": "Tenant"}
ROLES = {"tenant_manager": "Tenant Manager"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,29}")
# Capitals and digits that cannot be mistaken for one another on the image (the answer is
# taken in any case, so small letters would only add look-alikes: q and g, u and v).
_CAPTCHA_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CAPTCHA_LENGTH = 4


class _ReadableCaptcha(ImageCaptcha):
    """The library's image, less twisted: with its own settings people misread the code
    more often than not (overlapping, rotated, faint letters), while what stops machine
    guessing is one code a try and the lock after a few wrong passwords."""

    character_rotate = (-12, 12)
    character_warp_dx = (0.05, 0.12)
    character_warp_dy = (0.05, 0.12)
    word_space_probability = 1.0  # a space between every two letters
    word_offset_dx = 0.0  # and no squeezing them together again


CAPTCHA_INK = (25, 55, 130, 255)
CAPTCHA_PAPER = (245, 247, 250)


def lock_rule() -> str:
    settings = get_settings()
    return (
        f"{settings.max_failed_logins} wrong passwords in a row lock the account for "
        f"{settings.lock_minutes} minutes"
    )


def wrong_credentials() -> str:
    """One answer for a wrong name, a wrong password, a locked and a disabled account: any
    other would tell a stranger which names exist (and a disabled one's password)."""
    return (
        "the account name or the password is wrong, or the account is locked "
        f"({lock_rule()}) or disabled"
    )


@dataclass(frozen=True)
class IssuedPassword:
    account: dict[str, Any]
    password: str  # temporary: the only time it exists outside the account's hands


@dataclass(frozen=True)
class Session:
    token: str  # shown once, at log-in
    expires_at: datetime
    account: dict[str, Any]


def _key(account_name: str) -> str:
    return account_name.strip().lower()


class Account(BaseModel):
    """A portal account (never its password)."""

    account_name: str
    account_type: str = Field(json_schema_extra={"enum": list(ACCOUNT_TYPES)})
    tenant_id: str
    role: str = Field(json_schema_extra={"enum": list(ROLES)})
    role_label: str = Field(description="The role as the portal shows it")
    must_change_password: bool = Field(description="Its password is temporary: change it first")
    locked_until: datetime | None = Field(description="Locked by failed log-ins until then")
    disabled: bool
    created_at: datetime


def view(account: AccountModel) -> dict[str, Any]:
    return {
        "account_name": account.display_name,
        "account_type": account.account_type,
        "tenant_id": account.tenant_id,
        "role": account.role,
        "role_label": ROLES.get(account.role, account.role),
        "must_change_password": bool(account.must_change_password),
        "locked_until": account.locked_until.isoformat() if account.locked_until else None,
        "disabled": account.disabled_at is not None,
        "created_at": account.created_at.isoformat(),
    }


# --- the operator's ------------------------------------------------------------------------


def create_account(
    account_name: str, tenant_id: str, account_type: str = "tenant", role: str = "tenant_manager"
) -> IssuedPassword:
    if not NAME.fullmatch(account_name):
        raise BadRequest(
            "an account name has 3 to 30 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    if account_type not in ACCOUNT_TYPES:
        raise BadRequest(f"account type must be one of {', '.join(ACCOUNT_TYPES)}")
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    get_tenant(tenant_id)
    password = passwords.temporary()
    account = AccountModel(
        account_name=_key(account_name),
        display_name=account_name,
        account_type=account_type,
        tenant_id=tenant_id,
        role=role,
        password_hash=passwords.hash_password(password),
    )
    try:
        account.save(condition=AccountModel.account_name.does_not_exist())
    except PutError as error:
        if lost_a_race(error):
            raise Conflict(f"account {account_name} already exists") from error
        raise
    logger.info("account created", account_name=account_name, tenant_id=tenant_id)
    return IssuedPassword(view(account), password)


def list_accounts(tenant_id: str) -> list[dict[str, Any]]:
    get_tenant(tenant_id)
    return [view(a) for a in AccountModel.by_tenant.query(tenant_id)]


def reset_password(account_name: str, now: datetime) -> IssuedPassword:
    """A temporary password to be changed at the next log-in; the lock is lifted and
    every session of the account ends."""
    account = _account(account_name)
    password = passwords.temporary()
    try:
        account.update(
            actions=[
                AccountModel.password_hash.set(passwords.hash_password(password)),
                AccountModel.must_change_password.set(1),
                AccountModel.failed_logins.set(0),
                AccountModel.locked_until.remove(),
                AccountModel.password_changed_at.set(now),
                AccountModel.sessions_ended_at.set(now),
            ],
            # Two resets at once would each show a password, and only the last one work.
            condition=AccountModel.password_hash == account.password_hash,
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        raise Conflict(
            f"the password of {account_name} changed meanwhile (another reset, or its owner):"
            " reset it again if it is still needed"
        ) from error
    _end_sessions(account)
    logger.info("account password reset", account_name=account_name)
    return IssuedPassword(view(account), password)


def disable_account(account_name: str, now: datetime) -> dict[str, Any]:
    account = _account(account_name)
    account.update(
        actions=[AccountModel.disabled_at.set(now), AccountModel.sessions_ended_at.set(now)]
    )
    _end_sessions(account)
    logger.info("account disabled", account_name=account_name)
    return view(account)


def enable_account(account_name: str) -> dict[str, Any]:
    """Lets a disabled account log in again, with the password it had (or one reset
    meanwhile)."""
    account = _account(account_name)
    account.update(actions=[AccountModel.disabled_at.remove()])
    logger.info("account enabled", account_name=account_name)
    return view(account)


def _account(account_name: str) -> AccountModel:
    key = _key(account_name)
    if not key:
        # A blank name (a path of spaces) has no account; DynamoDB refuses an empty key.
        raise NotFound(f"no account {shown(account_name)}")
    try:
        return AccountModel.get(key, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(f"no account {shown(account_name)}") from error


def _end_sessions(account: AccountModel) -> None:
    """Revokes the account's sessions, once their sessions_ended_at has been moved on: the
    authorizer refuses any the tenant index does not list yet (store/accounts.py)."""
    for key in ApiKeyModel.by_tenant.query(account.tenant_id):
        if key.kind == SESSION and key.name == account.account_name and key.revoked_at is None:
            revoke_key(account.tenant_id, key.key_id)


# --- the log-in page -----------------------------------------------------------------------


def answer_hash(captcha_id: str, answer: str) -> str:
    # Case does not matter: "aqVj" and "AQVJ" are the same answer to a person.
    return hashlib.sha256(f"{captcha_id}:{answer.strip().lower()}".encode()).hexdigest()


def _captcha_text() -> str:
    return "".join(secrets.choice(_CAPTCHA_ALPHABET) for _ in range(_CAPTCHA_LENGTH))


class Captcha(BaseModel):
    """POST /v1/captchas"""

    captcha_id: str = Field(description="Give it back with the answer, as captcha_id")
    image: str = Field(description="The verify code, a PNG as a data: URL")
    expires_in: int = Field(description="Seconds it may be used for")


def new_captcha(now: datetime, source_ip: str) -> dict[str, Any]:
    """A verify-code image (PNG, as a data URL) and the id to answer it with; none for an
    address whose log-ins are refused (drawing one costs CPU, and it could not be used)."""
    login_limit.refuse_if_over(source_ip, now)
    text = _captcha_text()
    captcha_id = secrets.token_urlsafe(18)
    seconds = get_settings().captcha_seconds
    CaptchaModel(
        captcha_id=captcha_id,
        answer_hash=answer_hash(captcha_id, text),
        expires_at=int(now.timestamp()) + seconds,
    ).save()
    image = _ReadableCaptcha(width=180, height=60, font_sizes=(40, 44)).generate(
        text, fg_color=CAPTCHA_INK, bg_color=CAPTCHA_PAPER
    )
    return {
        "captcha_id": captcha_id,
        "image": "data:image/png;base64," + base64.b64encode(image.getvalue()).decode(),
        "expires_in": seconds,
    }


def _check_captcha(captcha_id: str, answer: str, now: datetime) -> None:
    """Uses the verify code up, right or wrong, so that one image buys one try."""
    used = BadRequest("the verify code has been used or has expired: get a new one")
    try:
        captcha = CaptchaModel.get(captcha_id, consistent_read=True)
        captcha.delete(condition=CaptchaModel.captcha_id.exists())
    except DoesNotExist as error:
        raise used from error
    except DeleteError as error:
        if not lost_a_race(error):
            raise
        raise used from error
    if captcha.expires_at <= now.timestamp():
        raise BadRequest("the verify code has expired: get a new one")
    if not secrets.compare_digest(captcha.answer_hash, answer_hash(captcha_id, answer)):
        raise BadRequest("the verify code is wrong: get a new one and try again")


def log_in(
    account_name: str,
    password: str,
    captcha_id: str,
    captcha: str,
    now: datetime,
    source_ip: str,
) -> Session:
    """Opens a session. An address over its limit of failures is refused before anything
    else, so that its tries lock no account; every refusal after that counts against it:
    a wrong, used or expired verify code (400) as much as wrong credentials (401). The
    try is counted first, and its count given back unless it is refused, so that tries
    sent at once cannot all pass the limit."""
    login_limit.take_try(source_ip, now)
    try:
        session = _log_in(account_name, password, captcha_id, captcha, now)
    except (BadRequest, Unauthorized):
        raise  # a refused log-in: its count stays
    except Exception:
        login_limit.give_back(source_ip, now)  # not the caller's failure
        raise
    login_limit.give_back(source_ip, now)
    return session


def _log_in(
    account_name: str, password: str, captcha_id: str, captcha: str, now: datetime
) -> Session:
    _check_captcha(captcha_id, captcha, now)
    try:
        account = AccountModel.get(_key(account_name), consistent_read=True)
    except DoesNotExist:
        passwords.verify_nothing(password)
        _count_nothing(_key(account_name))
        raise Unauthorized(wrong_credentials()) from None
    if _locked(account, now):
        passwords.verify_nothing(password)
        _count_nothing(account.account_name)
        raise Unauthorized(wrong_credentials())
    if not passwords.verify(password, account.password_hash):
        _count_failure(account, now)
        raise Unauthorized(wrong_credentials())
    if account.disabled_at is not None or get_tenant(account.tenant_id).disabled_at is not None:
        raise Unauthorized(wrong_credentials())
    _count_anew(account, now)
    return _open_session(account, now)


def _locked(account: AccountModel, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def _count_anew(account: AccountModel, now: datetime) -> None:
    """A right password starts the count of wrong ones anew, on conditions that hold
    what the log-in read. The account is still not locked, nor counted up to its lock:
    tries sent at once each read it unlocked before any was counted, and a right one
    among them must not open a session once the wrong ones have locked it, or tries sent
    in parallel would get past the lock. Its sessions have not been ended since (a
    reset, a password change, disabling): the write reads the account back, and a
    session opened with what it read would be one that the change meant to end."""
    ended = AccountModel.sessions_ended_at
    try:
        account.update(
            actions=[AccountModel.failed_logins.set(0)],
            condition=(
                AccountModel.locked_until.does_not_exist() | (AccountModel.locked_until <= now)
            )
            & (
                AccountModel.failed_logins.does_not_exist()
                | (AccountModel.failed_logins < get_settings().max_failed_logins)
            )
            & (
                ended.does_not_exist()
                if account.sessions_ended_at is None
                else ended == account.sessions_ended_at
            ),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        raise Unauthorized(wrong_credentials()) from error


def _count_failure(account: AccountModel, now: datetime) -> None:
    """One more wrong password. The count is an atomic add, so concurrent tries are all
    counted; the try that reaches the limit locks the account and starts counting anew."""
    settings = get_settings()
    account.update(actions=[AccountModel.failed_logins.add(1)])
    if account.failed_logins < settings.max_failed_logins:
        return
    try:
        account.update(
            actions=[
                AccountModel.locked_until.set(now + timedelta(minutes=settings.lock_minutes)),
                AccountModel.failed_logins.set(0),
            ],
            condition=AccountModel.failed_logins >= settings.max_failed_logins,
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        return  # a concurrent try locked it
    logger.warning("account locked after wrong passwords", account_name=account.account_name)


def _count_nothing(key: str) -> None:
    """The write `_count_failure` makes, changing nothing, for a name without an account
    or a locked account: without it a wrong password on an account that exists is refused
    one DynamoDB write later than those, and timing tells which names exist. Adding 0
    under the condition that the account exists leaves a locked one's count as it is
    (locking set it to 0) and creates no item for a name without one."""
    try:
        AccountModel(account_name=key).update(
            actions=[AccountModel.failed_logins.add(0)],
            condition=AccountModel.account_name.exists(),
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise


def _open_session(account: AccountModel, now: datetime) -> Session:
    """A session of the tenant's role; one opened with a temporary password may only
    change it (api.PASSWORD_CHANGE), and the change opens a full one."""
    token = SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=get_settings().session_hours)
    ApiKeyModel(
        key_hash=ids.hash_key(token),
        key_id="ses_" + secrets.token_hex(6),
        tenant_id=account.tenant_id,
        role=PASSWORD_CHANGE if account.must_change_password else "tenant",
        name=account.account_name,
        kind=SESSION,
        expires_at=int(expires_at.timestamp()),
        sessions_ended_at=account.sessions_ended_at,
    ).save()
    logger.info("logged in", account_name=account.account_name)
    return Session(token, expires_at, view(account))


def session_account(principal: Principal, now: datetime) -> AccountModel:
    """The account behind the caller's session; a plain API key has none.

    The session is looked at again here, not taken from the authorizer alone: the
    authorizer keeps a resolved key for a minute, and a session logged out (or reset,
    or ended by a password change) in that minute must not change the password."""
    for found in ApiKeyModel.by_tenant.query(
        principal.tenant_id, ApiKeyModel.key_id == principal.key_id
    ):
        if found.kind == SESSION:
            # The index lags the table: a log-out a moment ago may not be in it yet.
            key = ApiKeyModel.get(found.key_hash, consistent_read=True)
            ended = key.expires_at is not None and key.expires_at <= now.timestamp()
            if key.revoked_at is not None or ended:
                raise Unauthorized("this session has ended (logged out or expired): log in again")
            return _account(key.name)
    raise Forbidden("this needs a portal session: log in with an account")


def log_out(principal: Principal, now: datetime) -> None:
    session_account(principal, now)  # a key is revoked by the operator, not by logging out
    revoke_key(principal.tenant_id, principal.key_id)


def change_password(principal: Principal, current: str, new: str, now: datetime) -> Session:
    """Changes the password; answers a new session, which replaces the caller's (a session
    opened with a temporary password could do nothing else)."""
    account = session_account(principal, now)
    # A wrong current password counts as a wrong log-in: a session cannot try passwords
    # at machine speed.
    if _locked(account, now):
        raise Forbidden(
            f"the account is locked after {get_settings().max_failed_logins} wrong passwords:"
            " try again later"
        )
    if not passwords.verify(current, account.password_hash):
        _count_failure(account, now)
        raise BadRequest("the current password is wrong")
    if new == current:
        raise BadRequest("the new password must differ from the current one")
    try:
        passwords.check_rule(new, account.account_name)
    except passwords.WeakPassword as error:
        raise BadRequest(str(error)) from error
    try:
        account.update(
            actions=[
                AccountModel.password_hash.set(passwords.hash_password(new)),
                AccountModel.must_change_password.set(0),
                AccountModel.password_changed_at.set(now),
                AccountModel.sessions_ended_at.set(now),
                # The right current password ends a run of wrong ones, as a log-in does.
                AccountModel.failed_logins.set(0),
            ],
            # Only over the password just checked: of two changes at once (or a change
            # and the operator's reset) one wins, and the other is told so.
            condition=AccountModel.password_hash == account.password_hash,
        )
    except UpdateError as exc:
        if not lost_a_race(exc):
            raise
        raise Conflict(
            "the password was changed by another request meanwhile: log in with the new one"
        ) from exc
    # Whoever was logged in with the old password is logged out, this caller too: it
    # goes on with the new session.
    _end_sessions(account)
    logger.info("password changed", account_name=account.account_name)
    return _open_session(account, now)
