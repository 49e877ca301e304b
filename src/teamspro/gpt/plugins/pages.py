"""Plugin pages for organisation admins: the list with the import form, and one plugin's
operations, credentials, refresh and deletion."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from teamspro.core.deps import AdminPrincipal, SessionDep, StateDep
from teamspro.core.errors import TeamsProError
from teamspro.core.templates import form_errors, render
from teamspro.gpt.plugins import service
from teamspro.gpt.plugins.schemas import PluginCreate, PluginUpdate
from teamspro.gpt.plugins.spec import MAX_DOCUMENT_BYTES

router = APIRouter(prefix="/gpt/plugins", include_in_schema=False)
AUTH_LABELS = {
    "none": "None",
    "api_key": "API key",
    "bearer": "Bearer token",
    "oauth2": "OAuth2 client credentials",
}


def _auth(form: FormData, *, keep_secret: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": str(form.get("auth_kind") or "none"),
        "api_key_in": str(form.get("api_key_in") or "header"),
        "api_key_name": str(form.get("api_key_name") or "X-API-Key"),
        "token_url": str(form.get("token_url") or ""),
        "client_id": str(form.get("client_id") or ""),
        "scope": str(form.get("scope") or ""),
    }
    secret = str(form.get("secret") or "")
    if secret or not keep_secret:  # an empty box on the edit page keeps the stored secret
        values["secret"] = secret
    return values


async def _document(form: FormData) -> str:
    upload = form.get("document")
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_DOCUMENT_BYTES + 1)
        return raw.decode("utf-8", errors="replace")
    return ""


async def _page(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    *,
    error: str | None = None,
) -> Response:
    rows = await service.list_all(session=session, org_id=principal.org.id)
    return render(
        request,
        "gpt/plugins.html",
        {
            "plugins": rows,
            "sources": service.SOURCE_LABELS,
            "auth_labels": AUTH_LABELS,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.get("")
async def plugins(request: Request, principal: AdminPrincipal, session: SessionDep) -> Response:
    return await _page(request, principal, session)


@router.post("")
async def add_plugin(
    request: Request, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    form = await request.form()
    try:
        body = PluginCreate.model_validate(
            {
                "key": str(form.get("key") or ""),
                "name": str(form.get("name") or ""),
                "source": str(form.get("source") or ""),
                "url": str(form.get("url") or "").strip(),
                "document": await _document(form),
                "server_url": str(form.get("server_url") or "").strip(),
                "auth": _auth(form, keep_secret=False),
            }
        )
        row = await service.create(session=session, state=state, org_id=principal.org.id, body=body)
    except ValidationError as exc:
        return await _page(request, principal, session, error=form_errors(exc))
    except TeamsProError as exc:
        await session.rollback()
        return await _page(request, principal, session, error=exc.message)
    return RedirectResponse(f"/gpt/plugins/{row.id}", status_code=303)


async def _detail(
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    plugin_id: uuid.UUID,
    *,
    error: str | None = None,
    saved: bool = False,
) -> Response:
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    return render(
        request,
        "gpt/plugin.html",
        {
            "plugin": service.to_read(row),
            "sources": service.SOURCE_LABELS,
            "auth_labels": AUTH_LABELS,
            "error": error,
            "saved": saved,
        },
        status_code=400 if error else 200,
    )


@router.get("/{plugin_id}")
async def plugin(
    plugin_id: uuid.UUID,
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    saved: bool = False,
) -> Response:
    return await _detail(request, principal, session, plugin_id, saved=saved)


@router.post("/{plugin_id}")
async def change_plugin(
    plugin_id: uuid.UUID,
    request: Request,
    principal: AdminPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    form = await request.form()
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    action = str(form.get("action") or "save")
    try:
        values: dict[str, Any]
        if action == "refresh":
            document = await _document(form)
            values = {"document": document} if row.source == "openapi_upload" else {}
            values["refresh"] = row.source != "openapi_upload"
        else:
            values = {
                "name": str(form.get("name") or "") or None,
                "server_url": str(form.get("server_url") or "").strip() or None,
                "auth": _auth(form, keep_secret=True),
                "enabled": [str(n) for n in form.getlist("enabled")],
            }
        body = PluginUpdate.model_validate(values)
        await service.update(session=session, state=state, row=row, body=body)
    except ValidationError as exc:
        return await _detail(request, principal, session, plugin_id, error=form_errors(exc))
    except TeamsProError as exc:
        await session.rollback()
        return await _detail(request, principal, session, plugin_id, error=exc.message)
    return RedirectResponse(f"/gpt/plugins/{plugin_id}?saved=1", status_code=303)


@router.post("/{plugin_id}/delete")
async def delete_plugin(
    plugin_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    row = await service.get(session=session, org_id=principal.org.id, plugin_id=plugin_id)
    await service.remove(session=session, cache=state.cache, row=row)
    return RedirectResponse("/gpt/plugins", status_code=303)
