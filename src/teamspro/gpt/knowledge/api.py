"""REST routes for a bot's knowledge base."""

from __future__ import annotations

import asyncio
import mimetypes
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from sqlalchemy import select
from starlette.responses import FileResponse, Response

from teamspro.core import odata
from teamspro.core.db import release
from teamspro.core.deps import CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import InvalidInput, TeamsProError
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.deps import ManagedBot
from teamspro.gpt.knowledge import replacement
from teamspro.gpt.knowledge import service as kb_service
from teamspro.gpt.knowledge.jobs import ingest_document
from teamspro.gpt.knowledge.models import DocumentStatus, KnowledgeDocument
from teamspro.gpt.knowledge.schemas import DocumentRead, Replacement, UploadResult

router = APIRouter(prefix="/api/v1/gpt", tags=["gpt knowledge"])
MAX_FILES = 50


async def enqueue(org_id: uuid.UUID, doc_id: uuid.UUID) -> None:
    await asyncio.to_thread(ingest_document, org_id=str(org_id), document_id=str(doc_id))


@router.post("/bots/{bot_id}/documents", response_model=list[UploadResult], status_code=201)
async def upload(
    bot: ManagedBot,
    files: Annotated[list[UploadFile], File(min_length=1, max_length=MAX_FILES)],
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> list[UploadResult]:
    """Upload one or more files; each is stored once and queued for ingestion."""
    bot_id = bot.id
    if not files or len(files) > MAX_FILES:
        raise InvalidInput(f"Send 1 to {MAX_FILES} files.", code="bad_files")
    results, queued = [], []
    for file in files:
        data = await file.read(state.settings.kb.max_file_bytes + 1)
        done = await kb_service.upload(
            session=session,
            settings=state.settings,
            org_id=principal.org.id,
            bot_id=bot_id,
            user_id=principal.user.id,
            filename=file.filename or "",
            data=data,
        )
        results.append(
            UploadResult(
                **DocumentRead.model_validate(done.document).model_dump(),
                duplicate=done.duplicate,
                uploaded_as=done.uploaded_as,
            )
        )
        if not done.duplicate and done.document.status == DocumentStatus.queued:
            queued.append(done.document.id)
    await session.commit()  # rows exist before any worker looks for them
    for doc_id in queued:
        await enqueue(principal.org.id, doc_id)
    return results


@router.get("/bots/{bot_id}/documents")
async def list_documents(
    bot: ManagedBot, request: Request, principal: CurrentPrincipal, session: SessionDep
) -> dict:
    bot_id = bot.id
    query = odata.parse(request.query_params, kb_service.FIELDS)
    stmt = select(KnowledgeDocument).where(
        KnowledgeDocument.org_id == principal.org.id, KnowledgeDocument.bot_id == bot_id
    )
    rows, total = await odata.page(session, stmt, KnowledgeDocument, query)
    items = [DocumentRead.model_validate(d).model_dump(mode="json") for d in rows]
    return odata.collection(request, items, query, total)


async def _managed(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> KnowledgeDocument:
    doc = await kb_service.get(session=session, org_id=principal.org.id, document_id=document_id)
    await bot_service.for_management(
        session=session, cache=state.cache, principal=principal, bot_id=doc.bot_id
    )
    return doc


@router.get("/documents/{document_id}", response_model=DocumentRead)
async def get_document(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> DocumentRead:
    return DocumentRead.model_validate(await _managed(document_id, principal, session, state))


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    doc = await _managed(document_id, principal, session, state)
    kb_service.check_removable(doc)
    await release(session)  # the removal commits batch by batch through its own transactions
    await kb_service.remove(maker=state.sessionmaker, settings=state.settings, document_id=doc.id)
    return Response(status_code=204)


@router.post("/documents/{document_id}/reindex", response_model=DocumentRead)
async def reindex_document(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> DocumentRead:
    """Retry a document that failed, or index a ready one again."""
    doc = await _managed(document_id, principal, session, state)
    await kb_service.requeue(session=session, doc=doc)
    await session.commit()
    await enqueue(principal.org.id, doc.id)
    return DocumentRead.model_validate(doc)


@router.put("/documents/{document_id}/replacement", response_model=DocumentRead)
async def set_replacement(
    document_id: uuid.UUID,
    body: Replacement,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> DocumentRead:
    """Mark a document as replaced by another (left out of answers), as current, or back to
    what the documents themselves say."""
    doc = await _managed(document_id, principal, session, state)
    await release(session)
    await replacement.mark(
        maker=state.sessionmaker, doc=doc, replaced_by=body.replaced_by, automatic=body.automatic
    )
    await session.refresh(doc)
    return DocumentRead.model_validate(doc)


@router.get("/documents/{document_id}/file")
async def document_file(
    document_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    """The original file, for anyone who may chat with its bot (citations open it)."""
    doc = await kb_service.get(session=session, org_id=principal.org.id, document_id=document_id)
    await bot_service.for_use(
        session=session, cache=state.cache, principal=principal, bot_id=doc.bot_id
    )
    path = kb_service.file_path(state.settings, doc)
    if not path.exists():
        raise TeamsProError("The stored file is missing.")
    media = mimetypes.guess_type(doc.filename)[0] or "application/octet-stream"
    inline = media in (
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/csv",
        "image/png",
        "image/jpeg",
    )
    return FileResponse(
        path,
        media_type=media if inline else "application/octet-stream",
        filename=doc.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "x-content-type-options": "nosniff",
            "content-security-policy": "sandbox; default-src 'none'",
        },
    )
