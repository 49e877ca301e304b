"""Admin actions in the audit log: every change (POST, PUT, PATCH, DELETE) an organisation or
instance admin makes through a route that requires the role, with the route, its ids and the
outcome (``ok``, or the HTTP status that refused it).

Written after the response, in its own short transaction: the outcome is known only then
(a page may answer a refused form with 400 after rolling back), and the request's own
changes were committed before its response began.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamspro.core.audit import service
from teamspro.core.db import transaction

log = logging.getLogger(__name__)
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


class AdminAuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGES:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            actor = scope.get("state", {}).get("audit_actor")
            if actor is not None:
                await _record(scope, actor, status)


async def _record(scope: Scope, actor: tuple[Any, Any], status: int) -> None:
    route = scope.get("route")
    template = str(getattr(route, "path", None) or scope.get("path", ""))
    org_id, user_id = actor
    try:
        async with transaction(scope["app"].state.tp.sessionmaker) as session:
            service.record(
                session,
                org_id=org_id,
                kind="admin_action",
                status="ok" if status < 400 else f"http_{status}",
                actor_id=user_id,
                subject=template,
                operation=scope["method"],
                # The ids the route acted on, but never a person's: an erased person's id
                # must not outlive them here.
                detail={
                    k: str(v) for k, v in (scope.get("path_params") or {}).items() if k != "user_id"
                },
            )
    except Exception:  # the action happened; a lost audit line must not turn it into a 500
        log.exception("could not record an admin action in the audit log")
