"""Member mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.members import (
    AddMemberInput,
    Member,
    MemberPayload,
    RemoveMemberInput,
    RemoveMemberPayload,
    UpdateMemberRoleInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import members


@strawberry.type
class MemberMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_MEMBERS),
        description="Add a person by email; the user is created if new. Needs getRole too.",
    )
    @user_errors_as_payload
    async def add_member(self, info: Info, input: AddMemberInput) -> MemberPayload:
        member = await members.add_member(
            session=info.context.session,
            actor=info.context.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            email=input.email,
            name=input.name,
            role_id=decode_id(input.role_id, "Role", field="roleId"),
        )
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_MEMBERS))
    @user_errors_as_payload
    async def update_member_role(self, info: Info, input: UpdateMemberRoleInput) -> MemberPayload:
        member = await members.update_member_role(
            session=info.context.session,
            actor=info.context.principal,
            member_id=decode_id(input.id, "Member", field="id"),
            role_id=decode_id(input.role_id, "Role", field="roleId"),
        )
        return MemberPayload(member=Member.from_model(member))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_MEMBERS))
    @user_errors_as_payload
    async def remove_member(self, info: Info, input: RemoveMemberInput) -> RemoveMemberPayload:
        member = await members.remove_member(
            session=info.context.session,
            actor=info.context.principal,
            member_id=decode_id(input.id, "Member", field="id"),
        )
        return RemoveMemberPayload(removed_member_id=to_global_id("Member", member.id))
