"""First start: a default organisation, its admin, and a one-time link to sign in as them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from teamspro.config import Settings
from teamspro.core.db import make_engine, make_sessionmaker, serialize, transaction
from teamspro.core.identity import service as identity_service
from teamspro.core.identity.models import User
from teamspro.core.tenancy import service as org_service
from teamspro.core.tenancy.models import Role

DEFAULT_ADMIN = "admin@localhost"
BOOTSTRAP_LOCK = 72_356_002


async def first_start(settings: Settings) -> str | None:
    """Create the default org and admin when the instance has no user; return a sign-in link."""
    engine = make_engine(settings.resolved_database_url, pool=False)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            await serialize(session, BOOTSTRAP_LOCK)
            if (await session.execute(select(func.count(User.id)))).scalar():
                return None
            org = await org_service.create(session=session, name="Default organisation")
            admin = await identity_service.create_local_user(
                session=session,
                org_id=org.id,
                email=DEFAULT_ADMIN,
                display_name="Administrator",
                role=Role.admin,
                is_superadmin=True,
            )
            return await identity_service.create_login_link(
                session=session,
                user=admin,
                base_url=settings.public_url,
                ttl=timedelta(minutes=settings.login_link_ttl_minutes),
            )
    except IntegrityError:
        return None  # another replica bootstrapped at the same moment
    finally:
        await engine.dispose()
