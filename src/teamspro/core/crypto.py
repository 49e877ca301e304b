"""Secrets at rest and opaque tokens.

Encryption keys are derived from the one instance secret with HKDF, one key per purpose,
so a leak of one derived key does not expose the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"teamspro", info=purpose.encode()
    ).derive(secret.encode())


class SecretBox:
    """Fernet (AES-128-CBC + HMAC) over a key derived for one purpose."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, purpose)))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str, *, ttl: int | None = None) -> str | None:
        try:
            return self._fernet.decrypt(token.encode(), ttl=ttl).decode()
        except (InvalidToken, ValueError):
            return None


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is enough (no slow hash needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
