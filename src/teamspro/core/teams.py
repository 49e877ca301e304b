"""Teams bots on Microsoft's Teams SDK for Python (``microsoft-teams-apps``), for both products.

The SDK checks each activity's token (Bot Framework and Entra issuers, the app id as
audience, the ``serviceurl`` claim, signing keys from the published metadata, cached), routes
activities to a product's handlers and speaks Teams' reply, streaming, citation and message
extension protocol. TeamsPro keeps the HTTP endpoints (each product's router calls
``handle``), so the SDK's FastAPI adapter, which replaces the application's lifespan, is not
used: ``Endpoint`` receives the SDK's route instead.

Who sent an activity is decided here once for both products: the person whose web sign-in
has the same tenant and Entra object id (core/identity/external.principal_for_external).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import uuid
import warnings
import zipfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from teamspro.config import Settings, TeamsApp, TeamsSettings
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.identity import external as identity_external
from teamspro.core.identity.service import Principal
from teamspro.core.state import AppState

if TYPE_CHECKING:
    from microsoft_teams.apps import App
    from microsoft_teams.apps.http.adapter import HttpRouteHandler
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)


class Endpoint:
    """Receives the SDK's messaging route (token checks included) for a router to call."""

    def __init__(self) -> None:
        self.handle: HttpRouteHandler | None = None
        # Whose Entra-issued tokens may reach the SDK (see ``_tenant_refused``).
        self.single_tenant: str | None = None
        self.login_endpoint = "https://login.microsoftonline.com"

    def register_route(self, method: str, path: str, handler: HttpRouteHandler) -> None:
        self.handle = handler

    # The SDK calls these only from ``App.start()``/static hosting, which TeamsPro never
    # uses: reaching one is a wiring mistake, said plainly.
    def serve_static(self, path: str, directory: str) -> None:
        raise RuntimeError("TeamsPro serves its own files; the Teams SDK does not.")

    async def start(self, port: int) -> None:
        raise RuntimeError("TeamsPro runs the HTTP server; the Teams SDK does not.")

    async def stop(self) -> None:
        return None


def enabled(cfg: TeamsSettings, registration: TeamsApp) -> bool:
    return bool(registration.app_id) or cfg.allow_unauthenticated


def _cloud(cfg: TeamsSettings) -> Any:
    from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

    overrides = {}
    if cfg.openid_metadata_url:
        overrides["openid_metadata_url"] = cfg.openid_metadata_url
    if cfg.login_endpoint:
        overrides["login_endpoint"] = cfg.login_endpoint.rstrip("/")
    return with_overrides(PUBLIC, **overrides) if overrides else PUBLIC


async def endpoint(
    state: AppState, key: str, registration: TeamsApp, wire: Callable[[App], None]
) -> Endpoint | None:
    """A product's SDK endpoint, built once per app (``wire`` adds its handlers); None when
    the product's bot is not configured."""
    cfg = state.settings.teams
    if not enabled(cfg, registration):
        return None
    if key not in state.products:
        found = Endpoint()
        found.single_tenant = registration.app_tenant_id
        found.login_endpoint = _cloud(cfg).login_endpoint
        app = _app(cfg, registration, found)
        wire(app)
        await app.initialize()
        state.products[key] = found
    return state.products[key]


def _app(cfg: TeamsSettings, registration: TeamsApp, found: Endpoint) -> App:
    # Imported here: the SDK is large, and reads a .env file of the working directory when
    # imported; a server without Teams never loads it. (Its HTML-widget preview warns at
    # import; TeamsPro does not use it.)
    from microsoft_teams.common.experimental import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        from microsoft_teams.apps import App

    # (TEAMSPRO_TEAMS__ALLOW_UNAUTHENTICATED is warned about at start: app.py.)
    return App(
        client_id=registration.app_id,
        client_secret=registration.app_password,
        tenant_id=registration.app_tenant_id,
        cloud=_cloud(cfg),
        http_server_adapter=found,
        dangerously_allow_unauthenticated_requests=cfg.allow_unauthenticated,
        state=False,
    )


async def handle(request: Request, found: Endpoint | None, what: str, setting: str) -> Response:
    """An activity in, through the SDK (token first), and its HTTP answer out."""
    if found is None or found.handle is None:
        raise NotFound(
            f"The {what} Teams bot is not configured on this server (set {setting}).",
            code="teams_not_configured",
        )
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput("The activity is not JSON.", code="invalid_activity") from exc
    if not isinstance(body, dict):
        raise InvalidInput("The activity is not a JSON object.", code="invalid_activity")
    if await _tenant_refused(request, found):
        return JSONResponse(
            {"error": {"code": "unknown_tenant", "message": "This tenant is not served here."}},
            status_code=401,
        )
    result = await found.handle({"body": body, "headers": dict(request.headers)})
    if result.get("body") is None:
        return Response(status_code=result["status"])
    return JSONResponse(result["body"], status_code=result["status"])


_GUID = re.compile(r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$")
_ENTRA_V1 = "https://sts.windows.net/"
KNOWN_TENANTS_FRESH = 5.0  # seconds a refused tenant waits before the list is read again


async def _tenant_refused(request: Request, found: Endpoint) -> bool:
    """Whether a token claims to come from an Entra tenant this server does not serve.

    Why before the SDK: for a token issued by Entra (not Bot Framework's connector), the SDK
    fetches ``<login endpoint>/<tid>/discovery/v2.0/keys`` with the token's unverified tenant id
    and keeps a validator per tenant: 2,500 forged tokens made 2,500 outbound fetches, with
    paths the attacker chose, and as many validators kept. Served tenants: the bot's own when
    it is single-tenant, else those of the organisations here. Connector tokens, malformed
    tokens and requests without one go on to the SDK, which refuses what it must.
    """
    import jwt

    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return False
    try:
        claims = jwt.decode(header[7:].strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not (
        issuer.startswith(found.login_endpoint) or issuer.startswith(_ENTRA_V1)
    ):
        return False
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not _GUID.match(tenant.lower()):
        return True
    tenant = tenant.lower()
    if found.single_tenant:
        return tenant != found.single_tenant.lower()
    return tenant not in await _known_tenants(request.app.state.tp, tenant)


async def _known_tenants(state: AppState, wanted: str) -> set[str]:
    """The tenants of this server's organisations, read again at most every few seconds
    (a tenant bound a moment ago is served; a flood of unknown ones reads nothing)."""
    from sqlalchemy import select

    from teamspro.core.tenancy.models import Organization

    loop = asyncio.get_running_loop()
    known: tuple[float, set[str]] | None = state.products.get("teams.tenants")
    if known is not None and (wanted in known[1] or loop.time() - known[0] < KNOWN_TENANTS_FRESH):
        return known[1]
    async with state.sessionmaker() as session:
        rows = await session.execute(
            select(Organization.external_tenant_id).where(
                Organization.provider_key == state.settings.teams.identity_provider,
                Organization.external_tenant_id.is_not(None),
            )
        )
        tenants = {str(t).lower() for t in rows.scalars()}
    state.products["teams.tenants"] = (loop.time(), tenants)
    return tenants


def later(state: AppState, work: Coroutine[Any, Any, None]) -> None:
    """Run a turn after the activity's HTTP request has been answered.

    Why: Teams' connector gives the bot 15 seconds to answer an activity's POST and then
    delivers it again; a model taking longer would be asked the same question twice. The
    reply goes out through the connector anyway (streamed or sent), so the POST is answered
    at once. Tasks are kept until done (asyncio holds only weak references) and cancelled at
    shutdown with the app's other resources.
    """
    if "teams.tasks" not in state.products:
        state.products["teams.tasks"] = set()
        state.closers.append(lambda: _cancel(state.products["teams.tasks"]))
    tasks: set[asyncio.Task[None]] = state.products["teams.tasks"]

    async def guarded() -> None:
        try:
            await work
        except Exception:
            log.exception("a Teams turn failed")

    task = asyncio.get_running_loop().create_task(guarded())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True)
class Asker:
    """Who sent a Teams activity, as Teams says: their tenant, Entra object id and name."""

    tenant_id: str
    object_id: str
    upn: str | None
    name: str


def asker(activity: Any) -> Asker | None:
    """The sender of an SDK activity; None when Teams did not name an Entra user."""
    sender = activity.from_
    tenant = activity.conversation.tenant_id if activity.conversation else None
    tenant = tenant or getattr(getattr(activity.channel_data, "tenant", None), "id", None)
    if not sender or not sender.aad_object_id or not tenant:
        return None
    return Asker(
        tenant_id=tenant,
        object_id=sender.aad_object_id,
        upn=getattr(sender, "user_principal_name", None),
        name=sender.name or "",
    )


async def person(*, session: AsyncSession, settings: Settings, who: Asker) -> Principal:
    """The TeamsPro person behind a Teams user (Unauthenticated for an unknown tenant)."""
    return await identity_external.principal_for_external(
        session=session,
        provider_key=settings.teams.identity_provider,
        tenant_id=who.tenant_id,
        object_id=who.object_id,
        upn=who.upn,
        display_name=who.name,
        via="teams",
    )


# --- app packages -------------------------------------------------------------------------

MANIFEST_VERSION = "1.19"
MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
)


_SEMVER = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")


def package_version(version: str | None = None, *, now: datetime | None = None) -> str:
    """The app's version: the one given (x.y.z), else one made from the time, so that each
    package made later is a higher version (Teams refuses an update of the same version)."""
    if version:
        if not _SEMVER.match(version.strip()):
            raise InvalidInput(
                f"The version {version!r} is not of the form 1.2.3.", code="bad_version"
            )
        return version.strip()
    at = now or datetime.now(UTC)
    return f"1.{at:%Y%m%d}.{at.hour * 3600 + at.minute * 60 + at.second}"


def manifest_base(settings: Settings, *, app_key: str, version: str) -> dict[str, Any]:
    """What every TeamsPro app's manifest starts with: a stable id per server and app (Teams
    updates the app instead of adding another), this server as developer and valid domain,
    its public privacy and terms pages, and Teams single sign-on when a provider offers it
    (its resource on this server's domain, or Teams refuses the app's sign-in)."""
    base = settings.public_url
    domain = urlsplit(base).netloc
    body: dict[str, Any] = {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{app_key}")),
        "developer": {
            "name": "TeamsPro",
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#5B5FC7",
        "permissions": ["identity"],
        "validDomains": [domain],
    }
    sso = next((p for p in settings.oidc_providers if p.sso_audience), None)
    if sso is not None:
        resource = urlsplit(sso.sso_audience)
        if resource.scheme != "api" or resource.netloc.split(":")[0] != domain.split(":")[0]:
            raise InvalidInput(
                f"The sign-on resource {sso.sso_audience!r} must be api://{domain}/<client id> "
                f"(on this server's domain, {domain}): Teams refuses single sign-on otherwise.",
                code="sso_resource_mismatch",
            )
        body["webApplicationInfo"] = {"id": sso.client_id, "resource": sso.sso_audience}
    return body


def publishable(settings: Settings) -> str | None:
    """Why Teams would refuse a package made with these settings (None: it would not)."""
    if not settings.public_url.startswith("https://"):
        return (
            f"its URLs would be {settings.public_url}: Teams needs the https address it reaches "
            "this server at (set TEAMSPRO_BASE_URL)"
        )
    return None


def app_zip(manifest: dict[str, Any], color: PILImage, outline: PILImage) -> bytes:
    """The package Teams' admin centre takes: manifest.json and its two icons as PNG."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name, icon in (("color.png", color), ("outline.png", outline)):
            png = io.BytesIO()
            icon.save(png, "PNG")
            z.writestr(name, png.getvalue())
    return buf.getvalue()
