"""API shapes for organisations and their users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from teamspro.core.tenancy.models import OrgState, Role


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    provider_key: str | None
    external_tenant_id: str | None
    state: OrgState
    created_at: datetime
    deactivated_at: datetime | None
    purged_at: datetime | None


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class OrgUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    state: Literal["active", "deactivated"] | None = None


class UserRead(BaseModel):
    id: uuid.UUID
    email: str | None
    display_name: str
    upn: str | None
    provider_key: str
    object_id: str | None
    role: Role
    is_guest: bool
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@]+@[^@]+$")
    display_name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=1000)
    role: Role = Role.member


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    role: Role | None = None
