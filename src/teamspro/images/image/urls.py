"""Signed, expiring URLs for originals and renditions.

An ``<img>`` in a Teams tab (an iframe) may not carry our session cookie, so image bytes are
served against a signature instead: HMAC-SHA256 over the organisation, version, variant and
expiry, with a key derived for this purpose only.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

from teamspro.core.crypto import derive_key

VARIANT_ORIGINAL = "original"


def _mac(secret: str, org_id: uuid.UUID, version_id: uuid.UUID, variant: str, expires: int) -> str:
    key = derive_key(secret, "image-urls")
    message = f"{org_id}|{version_id}|{variant}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def sign(
    secret: str,
    org_id: uuid.UUID,
    version_id: uuid.UUID,
    variant: str,
    *,
    ttl: int,
    download: bool = False,
) -> str:
    # Expiry rounded up to the TTL grid: the same URL for a while, so browsers can cache it.
    now = int(time.time())
    expires = now - now % ttl + 2 * ttl
    params = {
        "o": str(org_id),
        "e": str(expires),
        "s": _mac(secret, org_id, version_id, variant, expires),
    }
    if download:
        params["dl"] = "1"
    return f"/images/files/{version_id}/{variant}?{urlencode(params)}"


def check(
    secret: str, org_id: str, version_id: uuid.UUID, variant: str, expires: str, signature: str
) -> uuid.UUID | None:
    """The organisation the URL was issued for, or None if forged or expired."""
    try:
        org = uuid.UUID(org_id)
        when = int(expires)
    except ValueError:
        return None
    if when < time.time():
        return None
    expected = _mac(secret, org, version_id, variant, when)
    return org if hmac.compare_digest(expected, signature) else None
