"""Console sessions: the server-side half of the signed session cookie, so logout really ends it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, utcnow


class ConsoleSessionMethod(StrEnum):
    """How the console session was opened (``method`` in ``GET /auth/session``)."""

    OIDC = "oidc"
    API_KEY = "api_key"


class ConsoleSession(SQLModel, table=True):
    """One live console session, keyed by a keyed hash of the random id in its cookie (the id
    itself is never stored). Deleting the row ends the session: logout deletes one, and
    deleting a user's or an API Access key's rows ends all of theirs."""

    __tablename__ = "console_session"
    __table_args__ = (
        # Exactly one of a person (OIDC) or an API Access key (API-key sign-in).
        CheckConstraint(
            "(user_id IS NULL) <> (api_access_id IS NULL)", name="ck_console_session_principal"
        ),
    )

    id_digest: str = Field(max_length=64, primary_key=True)
    method: str = Field(max_length=16)  # a ConsoleSessionMethod stored as text
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="CASCADE", index=True
    )
    issuer: str | None = Field(default=None, max_length=500)  # the OIDC issuer of the login
    api_access_id: uuid.UUID | None = Field(
        default=None, foreign_key="api_access.id", ondelete="CASCADE", index=True
    )
    # The key's version at sign-in: a regeneration bumps it, which ends the session.
    api_access_version: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
