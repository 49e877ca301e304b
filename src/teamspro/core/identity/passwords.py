"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106).

The test suite seeds hundreds of accounts; at RFC 9106's cost (64 MiB, three passes) each hash
takes about 0.3 s, which made password hashing a fifth of the suite's time. A test instance
may therefore choose a weak hasher (``TEAMSPRO_PASSWORD_HASHING=test``); the settings refuse
that choice outside ``TEAMSPRO_ENVIRONMENT=test``, and a hash records its own parameters, so
verification never depends on which hasher made it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from teamspro.config import Settings

STRONG = PasswordHasher()
# argon2's smallest legal cost: the same algorithm and format, none of its work.
TEST_STRENGTH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

_hasher = STRONG
# Verified against when the account does not exist, so that unknown and known e-mails take
# the same time and sign-in cannot be used to find out who has an account. Made on first use
# (a third of a second), not at import: most processes never verify a password.
_dummy: dict[PasswordHasher, str] = {}


def configure(settings: Settings) -> None:
    """Use the hasher the settings ask for in this process (the app and the CLI call this)."""
    global _hasher
    _hasher = TEST_STRENGTH if settings.password_hashing == "test" else STRONG


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        if password_hash is None:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    if _hasher not in _dummy:
        _dummy[_hasher] = _hasher.hash("teamspro-dummy-password")
    return _dummy[_hasher]
