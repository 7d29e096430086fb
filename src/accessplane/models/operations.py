"""API operations (method + path template, scopes) and the operations a product bundles."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from accessplane.models.base import UTCDateTime, new_id, utcnow

ANY_METHOD = "*"


class ApiOperation(SQLModel, table=True):
    """One operation an API declares: an HTTP method and a normalised path template.

    ``method`` is an upper-case HTTP method or ``*`` for any. ``path`` starts with ``/``; its
    segments are literals or ``{name}`` parameters, optionally ending in ``/*`` (one or more
    further segments). ``scopes`` are the OAuth2 scopes a JWT must carry for this operation.
    """

    __tablename__ = "api_operation"
    __table_args__ = (
        UniqueConstraint("api_id", "method", "path", name="uq_api_operation_api_method_path"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    api_id: uuid.UUID = Field(foreign_key="api.id", ondelete="CASCADE", index=True)
    method: str = Field(max_length=10)
    path: str = Field(max_length=2000)
    name: str = Field(default="", max_length=200)  # the OpenAPI operationId, if any
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiProductOperation(SQLModel, table=True):
    """An operation a product bundles; its API is in the product's ``api_product_api`` too.

    When a product chose operations of one of its APIs it grants only those of that API;
    with none chosen, the whole API.
    """

    __tablename__ = "api_product_operation"

    product_id: uuid.UUID = Field(
        foreign_key="api_product.id", ondelete="CASCADE", primary_key=True
    )
    operation_id: uuid.UUID = Field(
        foreign_key="api_operation.id", ondelete="CASCADE", primary_key=True, index=True
    )
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
