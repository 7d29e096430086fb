"""API Access: platform API keys that act on AccessPlane itself with an assigned role."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class ApiAccessType(StrEnum):
    """The kind of credential; only API keys for now."""

    API_KEY = "API_KEY"


class ApiAccessStatus(StrEnum):
    """Derived from the clock, never stored: a key is EXPIRED from its ``expires_at`` on."""

    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


class RevocationReason(StrEnum):
    """Why a token stopped working (the ``reason`` of UNAUTHENTICATED is ``revoked``)."""

    REGENERATED = "regenerated"
    DELETED = "deleted"


class ApiAccessBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)


class ApiAccess(ApiAccessBase, table=True):
    """A platform API key; only the keyed hash of its token is stored."""

    __tablename__ = "api_access"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_api_access_workspace_name"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    type: ApiAccessType = Field(default=ApiAccessType.API_KEY, max_length=16)
    role_id: uuid.UUID = Field(foreign_key="role.id", ondelete="RESTRICT", index=True)
    token_digest: str = Field(max_length=64, unique=True)
    token_hint: str = Field(max_length=8)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The principal that created it: a user's id, or an API Access key's.
    created_by_principal_id: uuid.UUID | None = None
    created_by_name: str = Field(default="", max_length=254)
    # Who receives expiry reminders: the creating person, or the author of the creating key.
    author_email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Usage, flushed in batches by ``ApiAccessUsage`` (never a write per request).
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    usage_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Bumped by every token change: of concurrent regenerations exactly one wins.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class ApiAccessRevocation(SQLModel, table=True):
    """A token that no longer authenticates (regenerated or deleted), kept by its keyed hash so
    its use is answered ``revoked`` rather than ``unknown_credential``. ``revoked_at`` in the
    future is a rotation's grace period: until then the old token still works."""

    __tablename__ = "api_access_revocation"

    token_digest: str = Field(max_length=64, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    # No foreign key: the revocation outlives a deleted key.
    api_access_id: uuid.UUID = Field(index=True)
    reason: str = Field(max_length=16)
    revoked_at: datetime = Field(sa_type=UTCDateTime)


class ApiAccessReminder(SQLModel, table=True):
    """An expiry reminder threshold that was handled for one expiry date of one key; the
    primary key makes each (key, threshold, expiry) happen once, whatever the number of
    workers. A regeneration with a new expiry starts a fresh set."""

    __tablename__ = "api_access_reminder"

    api_access_id: uuid.UUID = Field(
        foreign_key="api_access.id", ondelete="CASCADE", primary_key=True
    )
    days_before: int = Field(primary_key=True)  # 30, 7, 1, or 0 for "has expired"
    expires_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    # The mail sent for it; None when a nearer threshold was due at once and sent instead.
    notification_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
