"""Group mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, decode_ids, to_global_id, user_errors_as_payload
from accessplane.schema.groups import (
    CreateGroupInput,
    DeleteGroupInput,
    DeleteGroupPayload,
    Group,
    GroupMembersInput,
    GroupPayload,
    UpdateGroupInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import groups


@strawberry.type
class GroupMutations:
    @strawberry.mutation(extensions=requires(Permission.MANAGE_GROUPS))
    @user_errors_as_payload
    async def create_group(self, info: Info, input: CreateGroupInput) -> GroupPayload:
        group = await groups.create_group(
            session=info.context.session,
            actor=info.context.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
        )
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_GROUPS))
    @user_errors_as_payload
    async def update_group(self, info: Info, input: UpdateGroupInput) -> GroupPayload:
        group = await groups.update_group(
            session=info.context.session,
            actor=info.context.principal,
            group_id=decode_id(input.id, "Group", field="id"),
            name=input.name,
            description=input.description,
        )
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_GROUPS))
    @user_errors_as_payload
    async def delete_group(self, info: Info, input: DeleteGroupInput) -> DeleteGroupPayload:
        group = await groups.delete_group(
            session=info.context.session,
            actor=info.context.principal,
            group_id=decode_id(input.id, "Group", field="id"),
        )
        return DeleteGroupPayload(deleted_group_id=to_global_id("Group", group.id))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_GROUPS))
    @user_errors_as_payload
    async def add_group_members(self, info: Info, input: GroupMembersInput) -> GroupPayload:
        group = await groups.add_group_members(
            session=info.context.session,
            actor=info.context.principal,
            group_id=decode_id(input.group_id, "Group", field="groupId"),
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
        )
        return GroupPayload(group=Group.from_model(group))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_GROUPS))
    @user_errors_as_payload
    async def remove_group_members(self, info: Info, input: GroupMembersInput) -> GroupPayload:
        group = await groups.remove_group_members(
            session=info.context.session,
            actor=info.context.principal,
            group_id=decode_id(input.group_id, "Group", field="groupId"),
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
        )
        return GroupPayload(group=Group.from_model(group))
