"""A scratch knowledge base for the evaluations: a database (a temporary SQLite one, or the one
given), one organisation and one bot, filled through the server's own upload and ingestion."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Scratch:
    settings: Any
    engine: Any
    maker: Any
    org_id: uuid.UUID
    bot_id: uuid.UUID

    async def add(self, name: str, data: bytes) -> uuid.UUID:
        """Upload and ingest one file, as the server's job does; it must end ready."""
        from teamspro.core.db import transaction
        from teamspro.gpt.knowledge import service as kb_service

        async with transaction(self.maker) as session:
            done = await kb_service.upload(
                session=session,
                settings=self.settings,
                org_id=self.org_id,
                bot_id=self.bot_id,
                user_id=None,
                filename=name,
                data=data,
            )
        status = await kb_service.ingest(
            maker=self.maker, settings=self.settings, document_id=done.document.id
        )
        assert status is not None and status.value == "ready", (name, status)
        return done.document.id

    async def settle(self) -> int:
        """Index again the documents marked outdated (a later file made some of their
        sentences boilerplate: gpt/knowledge/boilerplate.py), as the server's sweeper does in
        the background within a minute; returns how many."""
        from sqlalchemy import select, update

        from teamspro.core.db import transaction
        from teamspro.gpt.knowledge import chunking
        from teamspro.gpt.knowledge import service as kb_service
        from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeDocument

        async with transaction(self.maker) as session:
            outdated = list(
                (
                    await session.execute(
                        select(KnowledgeDocument.id).where(
                            KnowledgeDocument.bot_id == self.bot_id,
                            KnowledgeDocument.status == DocumentStatus.ready,
                            KnowledgeDocument.index_version < chunking.INDEX_VERSION,
                        )
                    )
                ).scalars()
            )
            if outdated:
                await session.execute(
                    update(KnowledgeDocument)
                    .where(KnowledgeDocument.id.in_(outdated))
                    .values(status=DocumentStatus.queued)
                )
        for doc_id in outdated:
            status = await kb_service.ingest(
                maker=self.maker, settings=self.settings, document_id=doc_id
            )
            assert status is not None and status.value == "ready", (doc_id, status)
        return len(outdated)


async def scratch(database_url: str | None = None) -> Scratch:
    from teamspro.config import Settings
    from teamspro.core import migrate
    from teamspro.core.db import make_engine, make_sessionmaker, transaction
    from teamspro.core.tenancy.models import Organization
    from teamspro.gpt.bot.models import Bot

    work = Path(tempfile.mkdtemp(prefix="teamspro-eval-"))
    settings = Settings(
        data_dir=work,
        secret_key="eval-secret-key-0123456789-abcdefghijkl",
        database_url=database_url,
    )
    await asyncio.to_thread(migrate.upgrade, settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    maker = make_sessionmaker(engine)
    async with transaction(maker) as session:
        org = Organization(name="Eval")
        session.add(org)
        await session.flush()
        bot = Bot(org_id=org.id, name="Eval")
        session.add(bot)
        await session.flush()
        return Scratch(settings, engine, maker, org.id, bot.id)
