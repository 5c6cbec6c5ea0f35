"""Account passwords: the rule a new one must meet, temporary ones, and their hashes.

Hashes are scrypt (memory-hard, in the standard library) with a random salt per
password, stored with their parameters so that they can be raised later.
"""

import base64
import hashlib
import hmac
import secrets
import string

MIN_LENGTH = 8
MAX_LENGTH = 64
_N, _R, _P = 2**14, 8, 1
_TEMPORARY_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


class WeakPassword(ValueError):
    """The password breaks the rule; the message says which part."""


def check_rule(password: str, account_name: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise WeakPassword("a password has at least one letter and one digit")
    if account_name.lower() in password.lower():
        raise WeakPassword("a password must not contain the account name")


def temporary() -> str:
    """A random password that meets the rule, for a new account or a reset."""
    while True:
        password = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        if any(c.isalpha() for c in password) and any(c.isdigit() for c in password):
            return password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(_scrypt(password, salt, _N, _R, _P))}"


def verify(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def verify_nothing(password: str) -> None:
    """The work of `verify`, for a name that has no account: a wrong name takes as long
    to refuse as a wrong password, so timing does not tell which names exist."""
    _scrypt(password, bytes(16), _N, _R, _P)
