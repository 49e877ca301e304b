"""Every table of every domain, imported once for Alembic and for table discovery."""

from teamspro.core.identity.models import ApiToken, LoginLink, User, UserSession
from teamspro.core.tenancy.models import Membership, Organization

__all__ = ["ApiToken", "LoginLink", "Membership", "Organization", "User", "UserSession"]
