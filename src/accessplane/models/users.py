"""Users: people, known by OIDC (issuer, subject) or invited by email."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class UserBase(SQLModel):
    """Fields a client may set."""

    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-cased
    name: str = Field(default="", max_length=200)


class User(UserBase, table=True):
    """A person; issuer and subject are filled at their first OIDC login."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_issuer_subject"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    issuer: str | None = Field(default=None, max_length=500)
    subject: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
