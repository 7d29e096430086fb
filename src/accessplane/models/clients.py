"""Clients: consumer organisations, their logos and their consumer members."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class ClientBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    # An external https logo; empty when the logo is uploaded (``ClientLogo``) or absent.
    logo_url: str = Field(default="", max_length=2000)


class Client(ClientBase, table=True):
    """A consumer organisation of one workspace; inactive clients can call no API."""

    __tablename__ = "client"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_client_workspace_name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    # Read by the decision endpoint on every decision: false denies every app of the client.
    active: bool = True
    has_logo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClientLogo(SQLModel, table=True):
    """An uploaded logo (PNG or JPEG, checked by its bytes), served at ``/logos/{client id}``."""

    __tablename__ = "client_logo"

    client_id: uuid.UUID = Field(foreign_key="client.id", ondelete="CASCADE", primary_key=True)
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClientMember(SQLModel, table=True):
    """A workspace member who belongs to a client (a consumer of it)."""

    __tablename__ = "client_member"

    client_id: uuid.UUID = Field(foreign_key="client.id", ondelete="CASCADE", primary_key=True)
    member_id: uuid.UUID = Field(
        foreign_key="member.id", ondelete="CASCADE", primary_key=True, index=True
    )
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
