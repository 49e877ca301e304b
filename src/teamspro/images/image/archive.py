"""Several images in one download: a zip of their current versions' originals, for the
library's multi-select. Each image is checked as its own download would be (organisation,
the library's tab rules); the zip is written to a temporary file, not held in memory."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
import zipfile
from pathlib import PurePosixPath
from typing import IO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.errors import InvalidInput, NotFound, PermissionDenied
from teamspro.core.identity.service import Principal
from teamspro.images.image import renditions, urls
from teamspro.images.image import service as image_service
from teamspro.images.image.models import Image, ImageVersion
from teamspro.images.tab import service as tab_service

MAX_IMAGES = 100
MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB of originals in one zip


async def build(
    session: AsyncSession, settings: Settings, principal: Principal, ids: list[uuid.UUID]
) -> IO[bytes]:
    """The zip, rewound, in a temporary file the caller closes (which deletes it)."""
    if not ids:
        raise InvalidInput("Choose at least one image.", code="nothing_chosen")
    if len(ids) > MAX_IMAGES:
        raise InvalidInput(f"At most {MAX_IMAGES} images in one download.", code="too_many")
    stmt = select(Image).where(Image.org_id == principal.org.id, Image.id.in_(set(ids)))
    images = list((await session.execute(stmt)).scalars())
    if len(images) != len(set(ids)):  # another organisation's, or deleted meanwhile
        raise NotFound("No such image.")
    rules = await tab_service.libraries_rules(
        session, principal.org.id, {i.library_id for i in images}
    )
    refused = [
        i for i in images if not tab_service.allowed(principal, rules[i.library_id], "download")
    ]
    if refused:
        raise PermissionDenied(
            f"Downloading {refused[0].title or refused[0].filename} is not allowed here."
        )
    keys: list[tuple[str, str]] = []
    total = 0
    for image in images:
        if image.current_version_id is None:
            continue
        version = await session.get(ImageVersion, image.current_version_id)
        if version is None:
            continue
        key, _ = await renditions.blob_of(session, settings, version, urls.VARIANT_ORIGINAL)
        total += image.size
        if total > MAX_BYTES:
            raise InvalidInput("The chosen images are over 1 GB together.", code="too_large")
        keys.append((key, image.filename))
    await session.commit()  # no transaction held while the files are read
    return await asyncio.to_thread(_write, settings, keys)


def _write(settings: Settings, keys: list[tuple[str, str]]) -> IO[bytes]:
    blobs = image_service.blobs(settings)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    used: set[str] = set()
    try:
        # Images are compressed already: stored, not deflated again.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for key, filename in keys:
                name = _unique(PurePosixPath(filename).name or "image", used)
                archive.writestr(name, blobs.get(key))
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _unique(name: str, used: set[str]) -> str:
    """Two images may share a file name; the zip may not."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    used.add(candidate.lower())
    return candidate
