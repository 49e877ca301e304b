"""``teamspro admin``: organisations, users, tokens and sign-in links from the shell."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

app = typer.Typer(no_args_is_help=True, help="Administer organisations, users and tokens.")
T = TypeVar("T")


def _run(fn: Callable[[AsyncSession, Any], Awaitable[T]]) -> T:
    from teamspro.cli import _database, _settings
    from teamspro.core.db import make_sessionmaker, transaction
    from teamspro.core.errors import TeamsProError

    settings = _settings()

    async def go() -> T:
        engine = await _database(settings)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                return await fn(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except TeamsProError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


async def _find_user(session: AsyncSession, email: str, org: str | None) -> Any:
    from teamspro.core.errors import InvalidInput, NotFound
    from teamspro.core.identity.models import User

    stmt = select(User).where(User.email == email.strip().lower())
    if org:
        stmt = stmt.where(User.org_id == await _org_id(session, org))
    users = list((await session.execute(stmt)).scalars())
    if not users:
        raise NotFound(f"no user {email}")
    if len(users) > 1:
        raise InvalidInput(f"{email} exists in several organisations; pass --org")
    return users[0]


async def _org_id(session: AsyncSession, org: str) -> uuid.UUID:
    from teamspro.core.errors import NotFound
    from teamspro.core.tenancy.models import Organization

    try:
        return uuid.UUID(org)
    except ValueError:
        found = (
            await session.execute(select(Organization.id).where(Organization.name == org))
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"no organisation named {org!r}") from None
        return found


@app.command("create-org")
def create_org(name: str) -> None:
    """Create a local organisation and print its id."""
    from teamspro.core.tenancy import service as org_service

    async def go(session: AsyncSession, settings: Any) -> str:
        return str((await org_service.create(session=session, name=name)).id)

    typer.echo(_run(go))


@app.command("bind-tenant")
def bind_tenant(
    org: str = typer.Argument(..., help="The organisation (name or id)."),
    tenant_id: str = typer.Argument(..., help="The Microsoft 365 tenant (directory) id."),
    provider: str = typer.Option(
        "", help="The identity provider key (default: TEAMSPRO_TEAMS__IDENTITY_PROVIDER)."
    ),
) -> None:
    """Bind a Microsoft 365 tenant to an organisation, so its people reach its bots in Teams
    (the Agents Playground's tenant included) without an admin's first web sign-in."""
    from teamspro.core.errors import Conflict
    from teamspro.core.tenancy import service as org_service
    from teamspro.core.tenancy.models import Organization

    async def go(session: AsyncSession, settings: Any) -> str:
        key = provider or settings.teams.identity_provider
        org_id = await _org_id(session, org)
        taken = await org_service.find_by_tenant(
            session=session, provider_key=key, external_tenant_id=tenant_id
        )
        if taken is not None and taken.id != org_id:
            raise Conflict(f"tenant {tenant_id} is bound to the organisation {taken.name!r}")
        row = await session.get(Organization, org_id)
        assert row is not None
        row.provider_key, row.external_tenant_id = key, tenant_id.strip()
        return f"{row.name}: tenant {tenant_id} ({key})"

    typer.echo(_run(go))


@app.command("create-user")
def create_user(
    email: str,
    org: str = typer.Option(..., help="Organisation id or name."),
    role: str = typer.Option("member", help="admin, member or guest."),
    name: str = typer.Option("", help="Display name."),
    password: str | None = typer.Option(None, help="Local password (8+ characters)."),
    superadmin: bool = typer.Option(False, help="May manage every organisation."),
) -> None:
    """Create a local user in an organisation and print their id."""
    from teamspro.core.identity import service as identity_service
    from teamspro.core.tenancy.models import Role

    async def go(session: AsyncSession, settings: Any) -> str:
        user = await identity_service.create_local_user(
            session=session,
            org_id=await _org_id(session, org),
            email=email,
            display_name=name,
            password=password,
            role=Role(role),
            is_superadmin=superadmin,
        )
        return str(user.id)

    typer.echo(_run(go))


@app.command("issue-token")
def issue_token(
    email: str,
    name: str = typer.Option("cli", help="A name to recognise the token by."),
    org: str | None = typer.Option(None, help="Organisation, when the e-mail is ambiguous."),
    days: int | None = typer.Option(None, help="Expires after this many days."),
) -> None:
    """Issue a personal API token for a user and print it (shown once)."""
    from teamspro.core.db import utcnow
    from teamspro.core.identity import service as identity_service

    async def go(session: AsyncSession, settings: Any) -> str:
        user = await _find_user(session, email, org)
        expires = utcnow() + timedelta(days=days) if days else None
        _, raw = await identity_service.create_api_token(
            session=session, user=user, name=name, expires_at=expires
        )
        return raw

    typer.echo(_run(go))


@app.command("login-link")
def login_link(
    email: str, org: str | None = typer.Option(None, help="Organisation, when ambiguous.")
) -> None:
    """Print a one-time sign-in link for a user, on the address people reach the server at:
    TEAMSPRO_BASE_URL, else the running server's own, else (said so) the configured one."""
    from teamspro.cli import running
    from teamspro.core.identity import service as identity_service

    async def go(session: AsyncSession, settings: Any) -> str:
        user = await _find_user(session, email, org)
        base = settings.base_url or running.address(settings)
        if base is None:
            typer.echo(
                f"No server is running on this data folder and TEAMSPRO_BASE_URL is not set:"
                f" the link assumes {settings.public_url}.",
                err=True,
            )
        return await identity_service.create_login_link(
            session=session,
            user=user,
            base_url=base or settings.public_url,
            ttl=timedelta(minutes=settings.login_link_ttl_minutes),
        )

    typer.echo(_run(go))
