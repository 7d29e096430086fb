"""API products: bundles of APIs offered to consumers, with one authentication method."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow


class AuthMethod(StrEnum):
    """How an app proves who it is: an AccessPlane token, tokens of a trusted issuer, or a
    registered client certificate."""

    AUTH_TOKEN = "AUTH_TOKEN"
    OAUTH2 = "OAUTH2"
    JWT = "JWT"
    OIDC = "OIDC"
    MTLS = "MTLS"  # a registered client certificate forwarded by the gateway; no token


class ApiProductBase(SQLModel):
    """Fields a client may set."""

    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    auth_method: AuthMethod = Field(max_length=16)
    published: bool = False  # only published products are in the consumers' catalogue


class ApiProduct(ApiProductBase, table=True):
    """A product of one workspace."""

    __tablename__ = "api_product"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_api_product_workspace_name"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiProductApi(SQLModel, table=True):
    """An API bundled in a product."""

    __tablename__ = "api_product_api"

    product_id: uuid.UUID = Field(
        foreign_key="api_product.id", ondelete="CASCADE", primary_key=True
    )
    api_id: uuid.UUID = Field(
        foreign_key="api.id", ondelete="CASCADE", primary_key=True, index=True
    )
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
