"""Blob stores. Local, content-addressed by SHA-256: the same bytes are stored once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from email.utils import encode_rfc2231
from pathlib import Path, PurePath

from teamspro.core.errors import InvalidInput

# Each product keeps its blobs in its own folder of the data directory, by data category.
PREFIXES = {"blobs/": "KB files", "image-blobs/": "image properties", "exports/": "exports"}


def safe_name(filename: str) -> str:
    """Only the base name, without path parts or control characters."""
    name = PurePath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(". ")
    if not name:
        raise InvalidInput("The file has no usable name.", code="bad_filename")
    return name[:255]


class LocalBlobStore:
    """Blobs under <data dir>/blobs/<aa>/<bb>/<sha256>; written atomically (temp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("invalid blob key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def attachment(filename: str) -> str:
    """A Content-Disposition for downloading ``filename`` under its own name, whatever its
    script (RFC 6266): ``filename*`` in UTF-8 (RFC 5987), and a printable-ASCII fallback for
    clients that know only ``filename``. Headers are Latin-1, so a Cyrillic or emoji name
    written into ``filename="..."`` as it is cannot be sent at all."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f'attachment; filename="{fallback}"; filename*={encode_rfc2231(filename, "utf-8")}'
