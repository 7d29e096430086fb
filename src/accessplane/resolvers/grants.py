"""Grant and revoke mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, decode_ids, user_errors_as_payload
from accessplane.schema.grants import (
    ApiGrantPayload,
    GrantApiAccessInput,
    RevokeAllApiAccessInput,
    RevokeApiAccessInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import grants


@strawberry.type
class GrantMutations:
    @strawberry.mutation(
        extensions=requires(Permission.GRANT_API_ACCESS),
        description="Grant an API to members and groups, all or nothing.",
    )
    @user_errors_as_payload
    async def grant_api_access(self, info: Info, input: GrantApiAccessInput) -> ApiGrantPayload:
        change = await grants.grant_access(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.api_id, "Api", field="apiId"),
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
            group_ids=decode_ids(input.group_ids, "Group", field="groupIds"),
        )
        return ApiGrantPayload.from_change(change)

    @strawberry.mutation(
        extensions=requires(Permission.REVOKE_API_ACCESS),
        description="Revoke members' direct grants and groups' grants, all or nothing.",
    )
    @user_errors_as_payload
    async def revoke_api_access(self, info: Info, input: RevokeApiAccessInput) -> ApiGrantPayload:
        change = await grants.revoke_access(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.api_id, "Api", field="apiId"),
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
            group_ids=decode_ids(input.group_ids, "Group", field="groupIds"),
        )
        return ApiGrantPayload.from_change(change)

    @strawberry.mutation(
        extensions=requires(Permission.REVOKE_API_ACCESS),
        description="Remove every direct and group grant of an API; confirmation: REVOKE.",
    )
    @user_errors_as_payload
    async def revoke_all_api_access(
        self, info: Info, input: RevokeAllApiAccessInput
    ) -> ApiGrantPayload:
        change = await grants.revoke_all_access(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.api_id, "Api", field="apiId"),
            confirmation=input.confirmation,
        )
        return ApiGrantPayload.from_change(change)
