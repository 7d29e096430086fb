"""Roles and the permission catalogue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import CONSTRAINABLE, DESCRIPTIONS, Permission
from accessplane.schema.base import UserError

PermissionEnum = strawberry.enum(Permission, name="Permission")


@strawberry.type
class PermissionInfo:
    """A permission of the catalogue."""

    name: str
    description: str
    constraints: list[str]


def permission_catalog() -> list[PermissionInfo]:
    return [
        PermissionInfo(
            name=p.value,
            description=DESCRIPTIONS[p],
            constraints=[CONSTRAINABLE[p]] if p in CONSTRAINABLE else [],
        )
        for p in Permission
    ]


@strawberry.type
class RolePermission:
    """A permission held by a role, with its optional constraint."""

    name: str
    name_pattern: str | None = None


@strawberry.type
class Role(relay.Node):
    """A named set of permissions."""

    id: relay.NodeID[str]
    name: str
    description: str
    permissions: list[RolePermission]
    all_apis: bool = strawberry.field(
        description="Reaches every API of the workspace without grants."
    )
    built_in: bool
    created_at: datetime
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, role: models.Role) -> Role:
        permissions: list[dict[str, Any]] = role.permissions
        return cls(
            id=str(role.id),
            name=role.name,
            description=role.description,
            permissions=[
                RolePermission(name=p["name"], name_pattern=p.get("namePattern"))
                for p in permissions
            ],
            all_apis=role.all_apis,
            built_in=role.built_in,
            created_at=role.created_at,
            workspace_id=role.workspace_id,
        )


@strawberry.input
class PermissionInput:
    """A permission to put in a role; ``namePattern`` applies to ``createApiAccess`` only."""

    name: str
    name_pattern: str | None = None


@strawberry.input
class CreateRoleInput:
    workspace_id: relay.GlobalID
    name: str
    description: str = ""
    permissions: list[PermissionInput]
    all_apis: bool = False


@strawberry.input
class UpdateRoleInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None
    permissions: list[PermissionInput] | None = None
    all_apis: bool | None = None


@strawberry.input
class DeleteRoleInput:
    id: relay.GlobalID


@strawberry.type
class RolePayload:
    """The role created or changed, or why not."""

    role: Role | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteRolePayload:
    deleted_role_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
