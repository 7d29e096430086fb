"""Declared permissions: every protected field names what it needs (cf. Saleor's
``PermissionsField``); ``tests/api/test_schema_permissions.py`` walks the schema to hold us to it.

On a field of a workspace-scoped type the check is exact (the source's workspace). On root
fields the subject is known only once its id is decoded, so the field checks that the caller
holds the permission somewhere, and the service checks it in the subject's workspace.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.errors import Forbidden


class Requires(BasePermission):
    """The caller must hold ``permission`` (in the source's workspace, when there is one), or
    one of the ``alternatives``: a field that consumers reach for their own rows only (their
    clients, their requests) names the consumers' permission too; its service filters rows."""

    def __init__(self, permission: Permission, *alternatives: Permission) -> None:
        self.permission = permission
        self.permissions = (permission, *alternatives)

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        workspace_id = getattr(source, "workspace_id", None)
        if workspace_id is not None:
            held = any(principal.holds(workspace_id, p) for p in self.permissions)
            if not held:
                principal.require(workspace_id, self.permission)
        elif not any(principal.holds_anywhere(p) for p in self.permissions):
            raise Forbidden(
                f"The permission '{self.permission.value}' is needed.",
                permission=self.permission.value,
            )
        return True


class Authenticated(BasePermission):
    """Any authenticated caller; the resolver limits what it returns to the caller's own."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        _ = info.context.principal
        return True


def requires(permission: Permission, *alternatives: Permission) -> list[FieldExtension]:
    """``extensions=requires(Permission.X)`` on a field or mutation; with alternatives, any
    one of the permissions will do."""
    return [
        PermissionExtension(permissions=[Requires(permission, *alternatives)], use_directives=False)
    ]


def authenticated() -> list[FieldExtension]:
    """``extensions=authenticated()``: open to every authenticated caller."""
    return [PermissionExtension(permissions=[Authenticated()], use_directives=False)]
