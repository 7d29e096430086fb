"""API Access: platform API keys, their table and detail data, and their mutations' types."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.entities import RoleByIdLoader
from accessplane.models import ApiAccessStatus, ApiAccessType
from accessplane.schema.base import UserError
from accessplane.schema.permissions import requires
from accessplane.schema.roles import Role
from accessplane.services.api_access import ApiAccessOrderField, status_of

ApiAccessStatusEnum = strawberry.enum(ApiAccessStatus, name="ApiAccessStatus")
ApiAccessTypeEnum = strawberry.enum(ApiAccessType, name="ApiAccessType")
ApiAccessOrderFieldEnum = strawberry.enum(ApiAccessOrderField, name="ApiAccessOrderField")


@strawberry.type
class ApiAccess(relay.Node):
    """A platform API key acting with its role. The token itself is never readable: it is
    returned once by createApiAccess and regenerateApiAccess."""

    id: relay.NodeID[str]
    access_id: str = strawberry.field(description="The key's own id, as shown in audit logs.")
    name: str
    description: str
    tags: list[str]
    type: ApiAccessTypeEnum  # type: ignore[valid-type]
    expires_at: datetime | None
    token_hint: str = strawberry.field(description="The token's last four characters.")
    created_by: str = strawberry.field(description="Who created it (email or key name).")
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="Last successful authentication; written in batches, so it may lag a "
        "few seconds (ACCESSPLANE_API_ACCESS_USAGE_FLUSH_SECONDS)."
    )
    usage_count: int = strawberry.field(
        description="Successful authentications (batched like lastUsedAt)."
    )
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    role_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, key: models.ApiAccess) -> ApiAccess:
        return cls(
            id=str(key.id),
            access_id=str(key.id),
            name=key.name,
            description=key.description,
            tags=list(key.tags),
            type=key.type,
            expires_at=key.expires_at,
            token_hint=key.token_hint,
            created_by=key.created_by_name,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            usage_count=key.usage_count,
            pk=key.id,
            workspace_id=key.workspace_id,
            role_id=key.role_id,
        )

    @strawberry.field(description="ACTIVE until expiresAt, EXPIRED from then on.")
    def status(self) -> ApiAccessStatusEnum:  # type: ignore[valid-type]
        return status_of(self.expires_at)

    @strawberry.field(extensions=requires(Permission.GET_ROLE))
    async def role(self, info: Info) -> Role:
        role = await info.context.loaders.get(RoleByIdLoader).load(self.role_id)
        assert role is not None  # roles held by keys cannot be deleted
        return Role.from_model(role)


@strawberry.input
class ApiAccessFilter:
    """``status``: ACTIVE or EXPIRED now; ``roleIds``: any of these roles; ``tags``: every one
    of these tags; ``search``: a part of the name or description."""

    status: ApiAccessStatusEnum | None = None  # type: ignore[valid-type]
    role_ids: list[relay.GlobalID] | None = None
    tags: list[str] | None = None
    search: str | None = None


@strawberry.input
class ApiAccessOrder:
    """Sort order; keys without expiry come last by EXPIRES_AT (first when descending)."""

    field: ApiAccessOrderFieldEnum = ApiAccessOrderField.NAME  # type: ignore[valid-type]
    descending: bool = False


@strawberry.input
class CreateApiAccessInput:
    workspace_id: relay.GlobalID
    name: str
    role_id: relay.GlobalID
    expires_at: datetime = strawberry.field(
        description="In the future, within the maximum lifetime (365 days by default)."
    )
    description: str = ""
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateApiAccessInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    role_id: relay.GlobalID | None = None


@strawberry.input
class RegenerateApiAccessInput:
    id: relay.GlobalID
    expires_at: datetime
    grace_period_seconds: int | None = strawberry.field(
        default=None,
        description="Keep the old token valid this long (at most 86400 by default); "
        "without it the old token fails on the very next request.",
    )


@strawberry.input
class DeleteApiAccessesInput:
    ids: list[relay.GlobalID]


@strawberry.type
class ApiAccessPayload:
    """The key changed, or why not."""

    api_access: ApiAccess | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiAccessTokenPayload:
    """The key and its new token: shown this once only, store it now."""

    api_access: ApiAccess | None = None
    token: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteApiAccessesPayload:
    deleted_api_access_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
