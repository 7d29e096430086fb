"""Access profiles: a client's apps, the credential and what it may call."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow
from accessplane.models.products import AuthMethod


class TokenRevocationReason(StrEnum):
    """Why an app's token stopped working."""

    REFRESHED = "refreshed"
    DELETED = "deleted"


class AccessProfile(SQLModel, table=True):
    """An app of a client. ``AUTH_TOKEN`` apps hold an ``apt_`` token (its keyed hash only);
    the token methods name the issuer whose tokens the app presents."""

    __tablename__ = "access_profile"
    __table_args__ = (UniqueConstraint("client_id", "name", name="uq_access_profile_client_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    auth_method: AuthMethod = Field(max_length=16)
    # The granted plan; set by approval (or by an admin). Plans in use cannot be deleted.
    plan_id: uuid.UUID | None = Field(
        default=None, foreign_key="plan.id", ondelete="RESTRICT", index=True
    )
    # Normalised addresses and networks ("203.0.113.0/24", "2001:db8::/32"); empty: any IP.
    allowed_ips: list[str] = Field(default_factory=list, sa_type=JSON)
    # Token methods: the issuer, audience, client id (azp/client_id, or sub) and scopes.
    trusted_issuer: str = Field(default="", max_length=500)
    audience: str = Field(default="", max_length=500)
    token_client_id: str = Field(default="", max_length=255)
    required_scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    # Token methods: tokens must be bound (RFC 8705 cnf.x5t#S256) to a registered client
    # certificate presented with them.
    certificate_bound_tokens: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    token_digest: str | None = Field(default=None, max_length=64, unique=True)
    token_hint: str = Field(default="", max_length=8)
    # Set by an alert rule's automatic response: the app's calls answer ``suspended`` until
    # an admin resumes it (docs/observability.md).
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_reason: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": ""}
    )
    # Bumped by every change the decision endpoint must notice; of concurrent token refreshes
    # exactly one wins (compare-and-set).
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccessProfileProduct(SQLModel, table=True):
    """A product an app was granted (by an approved request, or by an admin)."""

    __tablename__ = "access_profile_product"

    access_profile_id: uuid.UUID = Field(
        foreign_key="access_profile.id", ondelete="CASCADE", primary_key=True
    )
    product_id: uuid.UUID = Field(
        foreign_key="api_product.id", ondelete="CASCADE", primary_key=True, index=True
    )
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AccessProfileRevocation(SQLModel, table=True):
    """A token that no longer authenticates (refreshed or deleted), kept by its keyed hash so
    its use is answered ``revoked`` rather than ``unknown_credential``."""

    __tablename__ = "access_profile_revocation"

    token_digest: str = Field(max_length=64, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    # No foreign key: the revocation outlives a deleted app.
    access_profile_id: uuid.UUID = Field(index=True)
    reason: str = Field(max_length=16)
    revoked_at: datetime = Field(sa_type=UTCDateTime)
