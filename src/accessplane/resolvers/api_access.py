"""API Access mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.api_access import (
    ApiAccess,
    ApiAccessPayload,
    ApiAccessTokenPayload,
    CreateApiAccessInput,
    DeleteApiAccessesInput,
    DeleteApiAccessesPayload,
    RegenerateApiAccessInput,
    UpdateApiAccessInput,
)
from accessplane.schema.base import decode_id, decode_ids, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.services import api_access
from accessplane.services.api_access import ApiAccessPolicy


@strawberry.type
class ApiAccessMutations:
    @strawberry.mutation(
        extensions=requires(Permission.CREATE_API_ACCESS),
        description="Create a platform API key; the token is returned this once only. "
        "Assigning the role needs getRole too.",
    )
    @user_errors_as_payload
    async def create_api_access(
        self, info: Info, input: CreateApiAccessInput
    ) -> ApiAccessTokenPayload:
        ctx = info.context
        issued = await api_access.create_api_access(
            session=ctx.session,
            actor=ctx.principal,
            policy=ApiAccessPolicy.from_settings(ctx.settings),
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            tags=input.tags,
            role_id=decode_id(input.role_id, "Role", field="roleId"),
            expires_at=input.expires_at,
        )
        return ApiAccessTokenPayload(
            api_access=ApiAccess.from_model(issued.api_access), token=issued.token
        )

    @strawberry.mutation(extensions=requires(Permission.UPDATE_API_ACCESS))
    @user_errors_as_payload
    async def update_api_access(self, info: Info, input: UpdateApiAccessInput) -> ApiAccessPayload:
        ctx = info.context
        key = await api_access.update_api_access(
            session=ctx.session,
            actor=ctx.principal,
            api_access_id=decode_id(input.id, "ApiAccess", field="id"),
            name=input.name,
            description=input.description,
            tags=input.tags,
            role_id=decode_id(input.role_id, "Role", field="roleId") if input.role_id else None,
        )
        return ApiAccessPayload(api_access=ApiAccess.from_model(key))

    @strawberry.mutation(
        extensions=requires(Permission.REGENERATE_API_ACCESS),
        description="Replace the token (returned this once only) and set a new expiry; the old "
        "token fails at once, or after gracePeriodSeconds.",
    )
    @user_errors_as_payload
    async def regenerate_api_access(
        self, info: Info, input: RegenerateApiAccessInput
    ) -> ApiAccessTokenPayload:
        ctx = info.context
        issued = await api_access.regenerate_api_access(
            session=ctx.session,
            actor=ctx.principal,
            policy=ApiAccessPolicy.from_settings(ctx.settings),
            api_access_id=decode_id(input.id, "ApiAccess", field="id"),
            expires_at=input.expires_at,
            grace_period_seconds=input.grace_period_seconds,
        )
        return ApiAccessTokenPayload(
            api_access=ApiAccess.from_model(issued.api_access), token=issued.token
        )

    @strawberry.mutation(
        extensions=requires(Permission.DELETE_API_ACCESS),
        description="Delete one or many keys, all or nothing; their tokens stop at once.",
    )
    @user_errors_as_payload
    async def delete_api_accesses(
        self, info: Info, input: DeleteApiAccessesInput
    ) -> DeleteApiAccessesPayload:
        ctx = info.context
        deleted = await api_access.delete_api_accesses(
            session=ctx.session,
            actor=ctx.principal,
            api_access_ids=decode_ids(input.ids, "ApiAccess", field="ids"),
        )
        return DeleteApiAccessesPayload(
            deleted_api_access_ids=[to_global_id("ApiAccess", i) for i in deleted]
        )
