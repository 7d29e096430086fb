"""Role mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.schema.roles import (
    CreateRoleInput,
    DeleteRoleInput,
    DeleteRolePayload,
    PermissionInput,
    Role,
    RolePayload,
    UpdateRoleInput,
)
from accessplane.services import roles


def _specs(permissions: list[PermissionInput]) -> list[roles.PermissionSpec]:
    return [roles.PermissionSpec(name=p.name, name_pattern=p.name_pattern) for p in permissions]


@strawberry.type
class RoleMutations:
    @strawberry.mutation(extensions=requires(Permission.CREATE_ROLE))
    @user_errors_as_payload
    async def create_role(self, info: Info, input: CreateRoleInput) -> RolePayload:
        role = await roles.create_role(
            session=info.context.session,
            actor=info.context.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            permissions=_specs(input.permissions),
            all_apis=input.all_apis,
        )
        return RolePayload(role=Role.from_model(role))

    @strawberry.mutation(extensions=requires(Permission.UPDATE_ROLE))
    @user_errors_as_payload
    async def update_role(self, info: Info, input: UpdateRoleInput) -> RolePayload:
        role = await roles.update_role(
            session=info.context.session,
            actor=info.context.principal,
            role_id=decode_id(input.id, "Role", field="id"),
            name=input.name,
            description=input.description,
            permissions=None if input.permissions is None else _specs(input.permissions),
            all_apis=input.all_apis,
        )
        return RolePayload(role=Role.from_model(role))

    @strawberry.mutation(extensions=requires(Permission.DELETE_ROLE))
    @user_errors_as_payload
    async def delete_role(self, info: Info, input: DeleteRoleInput) -> DeleteRolePayload:
        role = await roles.delete_role(
            session=info.context.session,
            actor=info.context.principal,
            role_id=decode_id(input.id, "Role", field="id"),
        )
        return DeleteRolePayload(deleted_role_id=to_global_id("Role", role.id))
