"""Building a data export: a zip of JSON Lines (one file per table) and the files the rows
point at, for one person or for a whole organisation.

Tables are read generically from the metadata, so a new table is exported without code here:
a person's rows are those whose person columns (``user_id``, ``created_by``, ...) name them,
an organisation's those with its ``org_id``. Secrets never leave (password and token hashes,
encrypted columns), nor binary columns (embeddings). Rows are read in keyset batches of short
transactions and written straight into the zip on disk, so a large organisation streams
through a bounded amount of memory. Products say which columns name stored files
(``files_from``); those files are copied in as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamspro.config import Settings
from teamspro.core.db import Base, transaction, utcnow
from teamspro.core.privacy.models import DataExport, ExportScope, ExportStatus
from teamspro.core.storage import LocalBlobStore

FOLDER = "exports"
KEEP_DAYS = 7
BATCH = 500
SECRET_COLUMNS = {"password_hash", "token_hash", "csrf_token"}
PERSON_COLUMNS = ("user_id", "created_by", "edited_by", "actor_id", "uploaded_by", "requested_by")
README = """This is a TeamsPro data export ({scope}), made {made}.

data/<table>.jsonl   one JSON object per line for each row of that table
files/<folder>/...   the stored files those rows point at (knowledge-base documents, images)

Secrets (password and token hashes, encrypted keys) and binary columns (embeddings) are left
out. What each table holds is described on the server's /privacy page.
"""


@dataclass(frozen=True)
class FileSource:
    table: str
    key_column: str  # the column holding the file's key in the blob folder
    folder: str  # the blob folder under the data directory


FILE_SOURCES: list[FileSource] = []


def files_from(table: str, key_column: str, folder: str) -> None:
    """A product declares that ``table.key_column`` names a file in ``folder``."""
    source = FileSource(table, key_column, folder)
    if source not in FILE_SOURCES:
        FILE_SOURCES.append(source)


def _readable(table: Table) -> list[Any]:
    columns = []
    for column in table.c:
        if column.name in SECRET_COLUMNS or column.name.endswith(("_encrypted", "_tsv")):
            continue
        try:
            kind = column.type.python_type
        except NotImplementedError:  # vectors and other database-only types
            continue
        if kind is not bytes:
            columns.append(column)
    return columns


def _rows_of(table: Table, export: DataExport) -> ColumnElement[bool] | None:
    """Which rows of ``table`` the export holds (None: none of them)."""
    if export.scope == ExportScope.organization:
        if table.name == "organization":
            return table.c.id == export.org_id
        return table.c.org_id == export.org_id if "org_id" in table.c else None
    person = export.requested_by
    if table.name == "user_account":
        return table.c.id == person
    named = [table.c[name] == person for name in PERSON_COLUMNS if name in table.c]
    return or_(*named) if named else None


def path_of(settings: Settings, export: DataExport) -> Path:
    return settings.data_dir / FOLDER / export.file_name


async def _set(
    maker: async_sessionmaker[AsyncSession], export_id: uuid.UUID, **values: Any
) -> None:
    async with transaction(maker) as session:
        row = await session.get(DataExport, export_id)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)


async def build(
    maker: async_sessionmaker[AsyncSession], settings: Settings, export_id: uuid.UUID
) -> None:
    """Write the export's zip, reporting progress table by table; a failure is recorded on
    the export (and the half-written file removed)."""
    async with maker() as session:
        export = await session.get(DataExport, export_id)
    if export is None or export.status != ExportStatus.queued:
        return
    await _set(maker, export_id, status=ExportStatus.running, progress=1)
    folder = settings.data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{export.id.hex}.zip"
    partial = folder / f"{name}.part"
    try:
        await _write(maker, settings, export, partial)
        os.replace(partial, folder / name)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        await _set(maker, export_id, status=ExportStatus.failed, error=str(exc)[:500])
        raise
    await _set(
        maker,
        export_id,
        status=ExportStatus.ready,
        progress=100,
        file_name=name,
        size=(folder / name).stat().st_size,
        finished_at=utcnow(),
        expires_at=utcnow() + timedelta(days=KEEP_DAYS),
    )


async def _write(
    maker: async_sessionmaker[AsyncSession], settings: Settings, export: DataExport, target: Path
) -> int:
    tables = [t for t in Base.metadata.sorted_tables if _rows_of(t, export) is not None]
    sources = {s.table: s for s in FILE_SOURCES}
    wanted: set[tuple[str, str]] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr(
            "README.txt", README.format(scope=export.scope.value, made=utcnow().isoformat())
        )
        for done, table in enumerate(tables, 1):
            where = _rows_of(table, export)
            assert where is not None
            columns = _readable(table)
            key = next(iter(table.primary_key.columns))
            source = sources.get(table.name)
            last: Any = None
            out = None
            while True:
                stmt = select(*columns).where(where).order_by(key).limit(BATCH)
                if last is not None:
                    stmt = stmt.where(key > last)
                async with maker() as session:
                    rows = (await session.execute(stmt)).mappings().all()
                if not rows:
                    break
                if out is None:
                    out = zf.open(f"data/{table.name}.jsonl", "w", force_zip64=True)
                for row in rows:
                    out.write(
                        (json.dumps(dict(row), default=str, ensure_ascii=False) + "\n").encode()
                    )
                    if source is not None and row.get(source.key_column):
                        wanted.add((source.folder, str(row[source.key_column])))
                last = rows[-1][key.name]
            if out is not None:
                out.close()
            await _set(maker, export.id, progress=max(2, int(90 * done / len(tables))))
        for folder, blob in sorted(wanted):
            try:
                path = LocalBlobStore(settings.data_dir / folder).path(blob)
            except ValueError:  # not a blob key (e.g. a remote item's id)
                continue
            if path.is_file():
                with (
                    path.open("rb") as src,
                    zf.open(f"files/{folder}/{blob}", "w", force_zip64=True) as dst,
                ):
                    shutil.copyfileobj(src, dst, 1024 * 1024)
    return len(wanted)
