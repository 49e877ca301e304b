"""GPT Pro pages: the bot gallery, the bot editor, a bot's feedback, and model providers."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from teamspro.core import odata
from teamspro.core.db import rollback_keeping
from teamspro.core.deps import AdminPrincipal, CurrentPrincipal, SessionDep, StateDep
from teamspro.core.errors import TeamsProError
from teamspro.core.identity.service import Principal
from teamspro.core.templates import form_errors, render
from teamspro.core.tenancy import service as org_service
from teamspro.gpt import runtime
from teamspro.gpt.bot import service as bot_service
from teamspro.gpt.bot.deps import ManagedBot, ManagedConfig
from teamspro.gpt.bot.models import Bot, BotStatus
from teamspro.gpt.bot.schemas import BotCreate, BotUpdate
from teamspro.gpt.chat import markdown
from teamspro.gpt.conversation import service as conv_service
from teamspro.gpt.plugins import service as plugin_service
from teamspro.gpt.provider import service as provider_service
from teamspro.gpt.provider.registry import KIND_LABELS
from teamspro.gpt.provider.schemas import ProviderCreate

router = APIRouter(prefix="/gpt", include_in_schema=False)
TEXT_FIELDS = ("name", "description", "avatar", "instructions", "model", "welcome_message")


async def _form_values(request: Request) -> dict[str, Any]:
    form = await request.form()
    values: dict[str, Any] = {f: str(form.get(f) or "") for f in TEXT_FIELDS}
    values["provider_key"] = str(form.get("provider_key") or "") or None
    values["temperature"] = form.get("temperature") or 0.3
    values["max_output_tokens"] = form.get("max_output_tokens") or 800
    values["kb_top_k"] = form.get("kb_top_k") or 5
    values["kb_min_score"] = form.get("kb_min_score") or 0.2
    values["kb_embedding"] = str(form.get("kb_embedding") or "local").strip()
    values["starters"] = [s for s in str(form.get("starters") or "").splitlines() if s.strip()]
    values["plugins"] = [str(p) for p in form.getlist("plugins")]
    values["audience"] = form.get("audience") or "organization"
    values["audience_user_ids"] = form.getlist("audience_user_ids")
    values["admin_user_ids"] = form.getlist("admin_user_ids")
    return values


async def _editor(
    request: Request,
    principal: Principal,
    session: SessionDep,
    state: StateDep,
    *,
    bot: dict[str, Any] | None,
    error: str | None = None,
    error_code: str | None = None,
) -> Response:
    query = odata.ODataQuery(top=odata.MAX_TOP, orderby=[("display_name", False)])
    members, _ = await org_service.list_members(
        session=session, org_id=principal.org.id, query=query
    )
    providers = await provider_service.list_all(
        session=session, org_id=principal.org.id, settings=state.settings
    )
    ctx = {
        "bot": bot,
        "members": members,
        "providers": providers,
        "plugins": await plugin_service.available(session=session, org_id=principal.org.id),
        "error": error,
        "error_code": error_code,
    }
    return render(request, "gpt/bot_form.html", ctx, status_code=400 if error else 200)


@router.get("")
async def gallery(
    request: Request, principal: CurrentPrincipal, session: SessionDep, state: StateDep
) -> Response:
    stmt = bot_service.visible_stmt(principal).order_by(Bot.name)
    bots = list((await session.execute(stmt)).scalars())
    configs = await bot_service.configs(
        session=session, cache=state.cache, principal=principal, bots=bots
    )
    cards = [(c, c.can_manage(principal)) for c in configs]
    return render(request, "gpt/gallery.html", {"cards": cards})


@router.get("/bots/new")
async def new_bot(
    request: Request, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    return await _editor(request, principal, session, state, bot=None)


def _said(exc: ValidationError | TeamsProError) -> str:
    return form_errors(exc) if isinstance(exc, ValidationError) else exc.message


def _code(exc: ValidationError | TeamsProError) -> str | None:
    return None if isinstance(exc, ValidationError) else exc.code


async def _check_model(
    request: Request,
    state: StateDep,
    session: SessionDep,
    principal: Principal,
    key: str | None,
    model: str,
) -> None:
    """Checked against the provider's own list unless the admin ticked "use it anyway"."""
    form = await request.form()
    await provider_service.check_model(
        session=session,
        org_id=principal.org.id,
        settings=state.settings,
        vault=state.vault,
        key=key,
        model=model,
        live=None if form.get("model_unlisted") else runtime.models(state),
    )


@router.post("/bots/new")
async def create_bot(
    request: Request, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    values = await _form_values(request)
    try:
        body = BotCreate(**values)
        await _check_model(request, state, session, principal, body.provider_key, body.model)
    except (ValidationError, TeamsProError) as exc:  # nothing written yet: nothing to undo
        return await _editor(
            request, principal, session, state, bot=values, error=_said(exc), error_code=_code(exc)
        )
    try:
        bot = await bot_service.create(session=session, principal=principal, body=body)
    except TeamsProError as exc:
        await rollback_keeping(session, principal.org, principal.user)
        return await _editor(request, principal, session, state, bot=values, error=exc.message)
    return RedirectResponse(f"/gpt/bots/{bot.id}/edit?saved=1", status_code=303)


@router.get("/bots/{bot_id}/edit")
async def edit_bot(
    request: Request,
    config: ManagedConfig,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    return await _editor(request, principal, session, state, bot=config.dump())


@router.post("/bots/{bot_id}/edit")
async def update_bot(
    request: Request,
    bot: ManagedBot,
    principal: CurrentPrincipal,
    session: SessionDep,
    state: StateDep,
) -> Response:
    bot_id = bot.id
    values = await _form_values(request)
    if not principal.is_admin:
        values.pop("admin_user_ids")  # only organisation admins choose bot administrators
    form = await request.form()
    shown = {**values, "id": bot_id, "status": bot.status}
    try:
        body = BotUpdate(**values)
        key = body.provider_key if "provider_key" in body.model_fields_set else bot.provider_key
        await _check_model(request, state, session, principal, key, body.model or bot.model)
    except (ValidationError, TeamsProError) as exc:  # nothing written yet: nothing to undo
        return await _editor(
            request, principal, session, state, bot=shown, error=_said(exc), error_code=_code(exc)
        )
    try:
        await bot_service.update(
            session=session, cache=state.cache, principal=principal, bot=bot, body=body
        )
        if (action := form.get("action")) in ("publish", "unpublish"):
            status = BotStatus.published if action == "publish" else BotStatus.draft
            await bot_service.set_status(session=session, cache=state.cache, bot=bot, status=status)
    except TeamsProError as exc:
        await rollback_keeping(session, principal.org, principal.user)
        error = exc.message
    else:
        return RedirectResponse(f"/gpt/bots/{bot_id}/edit?saved=1", status_code=303)
    return await _editor(request, principal, session, state, bot=shown, error=error)


@router.get("/bots/{bot_id}/feedback")
async def feedback(
    request: Request, config: ManagedConfig, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    rows = await conv_service.bot_feedback(
        session=session, org_id=principal.org.id, bot_id=config.id
    )
    likes = sum(1 for r in rows if r["rating"] > 0)
    for row in rows:  # as the person saw it: Markdown rendered and sanitised, not raw
        row["answer_html"] = markdown.render(row["answer"][:2000])
        # Conversations are their owner's: an admin opens only their own from here.
        row["own"] = row["user_id"] == principal.user.id
    return render(
        request,
        "gpt/feedback.html",
        {"bot": config, "rows": rows, "likes": likes, "dislikes": len(rows) - likes},
    )


@router.get("/providers")
async def providers(
    request: Request, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    return await _providers_page(request, principal, session, state)


async def _providers_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    state: StateDep,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The page, with what was typed kept after a refusal (all but the API key, which is
    never sent back to the browser)."""
    rows = await provider_service.list_all(
        session=session, org_id=principal.org.id, settings=state.settings
    )
    return render(
        request,
        "gpt/providers.html",
        {"providers": rows, "kinds": KIND_LABELS, "error": error, "typed": typed or {}},
        status_code=400 if error else 200,
    )


@router.post("/providers")
async def add_provider(
    request: Request, principal: AdminPrincipal, session: SessionDep, state: StateDep
) -> Response:
    form = await request.form()
    try:
        body = ProviderCreate.model_validate(
            {
                "key": str(form.get("key") or ""),
                "name": str(form.get("name") or ""),
                "kind": str(form.get("kind") or ""),
                "base_url": str(form.get("base_url") or ""),
                "api_version": str(form.get("api_version") or ""),
                "api_key": str(form.get("api_key") or ""),
                "models": [
                    m.strip() for m in str(form.get("models") or "").split(",") if m.strip()
                ],
            }
        )
        await provider_service.create(
            session=session,
            settings=state.settings,
            org_id=principal.org.id,
            vault=state.vault,
            body=body,
        )
    except (ValidationError, TeamsProError) as exc:
        await rollback_keeping(session, principal.org, principal.user)
        error = _said(exc)
        fields = ("key", "name", "kind", "base_url", "api_version", "models")
        typed = {f: str(form.get(f) or "") for f in fields}
        return await _providers_page(request, principal, session, state, error, typed)
    return RedirectResponse("/gpt/providers", status_code=303)


@router.post("/providers/{provider_id}/delete")
async def delete_provider(
    provider_id: uuid.UUID, principal: AdminPrincipal, session: SessionDep
) -> Response:
    await provider_service.remove(session=session, org_id=principal.org.id, provider_id=provider_id)
    return RedirectResponse("/gpt/providers", status_code=303)
