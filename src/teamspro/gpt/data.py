"""GPT Pro's part of an organisation's purge (core/tenancy/purge.py): the full-text rows
SQLite keeps outside the chunk table, cached bot and plugin configurations, and knowledge
files no other organisation's document shares; and of a person's erasure
(core/identity/erasure.py)."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.config import Settings
from teamspro.core.identity.erasure import eraser
from teamspro.core.identity.models import User
from teamspro.core.privacy.export import files_from
from teamspro.core.tenancy.purge import Plan, drop_files_later, purger
from teamspro.gpt.bot.models import Bot, BotAccess, cache_key
from teamspro.gpt.knowledge import vectors
from teamspro.gpt.knowledge.models import KnowledgeDocument, KnowledgeSource, SourceState
from teamspro.gpt.knowledge.service import blobs
from teamspro.gpt.plugins.service import cache_key as plugins_key


@purger
async def purge_gpt(
    session: AsyncSession, settings: Settings, org_id: uuid.UUID, plan: Plan
) -> None:
    bots = list((await session.execute(select(Bot.id).where(Bot.org_id == org_id))).scalars())
    plan.cache_keys += [cache_key(b) for b in bots] + [plugins_key(org_id)]
    vectors.matrices.forget(*bots)  # this process's vectors of them
    if bots and session.get_bind().dialect.name == "sqlite":
        await session.execute(
            text("DELETE FROM gpt_kb_fts WHERE bot_id IN (SELECT value FROM json_each(:ids))"),
            {"ids": json.dumps([b.hex for b in bots])},
        )
    stmt = select(KnowledgeDocument.content_hash).where(KnowledgeDocument.org_id == org_id)
    keys = set((await session.execute(stmt)).scalars())
    drop_files_later(plan, settings, blobs(settings), keys, [KnowledgeDocument.content_hash])


@eraser
async def forget_person(session: AsyncSession, settings: Settings, user: User) -> list[str]:
    """Conversations and feedback go with the account; bots that listed the person (who may
    use or manage them) must not keep them in their cached configuration; their SharePoint
    grant leaves the knowledge sources they connected."""
    # SharePoint sources they connected act with their grant: it goes with them, and each
    # source says it must be connected again.
    await session.execute(
        update(KnowledgeSource)
        .where(KnowledgeSource.org_id == user.org_id, KnowledgeSource.created_by == user.id)
        .values(
            credential_encrypted=None,
            state=SourceState.no_access,
            reason="The person who connected this source was removed: connect it again.",
        )
    )
    stmt = select(BotAccess.bot_id).where(BotAccess.user_id == user.id)
    return [cache_key(b) for b in set((await session.execute(stmt)).scalars())]


files_from("gpt_kb_document", "content_hash", "blobs")
