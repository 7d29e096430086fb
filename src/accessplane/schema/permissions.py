"""Declared permissions: every protected field names what it needs (cf. Saleor's
``PermissionsField``); ``tests/api/test_schema_permissions.py`` walks the schema to hold us to it.

On a field of a workspace-scoped type the check is exact (the source's workspace). On root
fields the subject is known only once its id is decoded, so the field checks that the caller
holds the permission somewhere, and the service checks it in the subject's workspace.

Each declaration appends what it requires to its field's description when the schema is built
(as Saleor's ``PermissionsField`` does), so GraphiQL, ``schema.graphql`` and the console's
generated types all show it.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField
from strawberry.extensions.field_extension import (
    AsyncExtensionResolver,
    FieldExtension,
    SyncExtensionResolver,
)
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.field import StrawberryField

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

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
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

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        _ = info.context.principal
        return True


def requirement(check: BasePermission) -> str:
    """The sentence a field's description gains, worded as Saleor's ``PermissionsField``."""
    if not isinstance(check, Requires):
        return "Requires an authenticated caller."
    if len(check.permissions) == 1:
        return f"Requires permission: {check.permission.value}."
    names = ", ".join(p.value for p in check.permissions)
    return f"Requires one of the permissions: {names}."


class DeclaredPermission(PermissionExtension):
    """Strawberry's permission check, also stating the requirement in the field's description
    (at schema build, before the description reaches the GraphQL field).

    The checks are plain functions that raise (FORBIDDEN, NOT_FOUND, UNAUTHENTICATED) rather
    than return False, so they run before the resolver without an awaitable of their own:
    a page of a hundred rows checks a few hundred fields, and each awaitable costs more than
    the dictionary look-ups of the check itself."""

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        for permission in self.permissions:
            if permission.has_permission(source, info, **kwargs) is not True:
                return self._on_unauthorized(permission)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        for permission in self.permissions:
            if permission.has_permission(source, info, **kwargs) is not True:
                return self._on_unauthorized(permission)
        return await next_(source, info, **kwargs)

    def apply(self, field: StrawberryField) -> None:
        super().apply(field)
        for sentence in map(requirement, self.permissions):
            described = field.description or ""
            # A field is applied once per schema built, and several schemas share it.
            if sentence not in described:
                field.description = f"{described}\n\n{sentence}" if described else sentence


def requires(permission: Permission, *alternatives: Permission) -> list[FieldExtension]:
    """``extensions=requires(Permission.X)`` on a field or mutation; with alternatives, any
    one of the permissions will do."""
    return [
        DeclaredPermission(permissions=[Requires(permission, *alternatives)], use_directives=False)
    ]


def authenticated() -> list[FieldExtension]:
    """``extensions=authenticated()``: open to every authenticated caller."""
    return [DeclaredPermission(permissions=[Authenticated()], use_directives=False)]


def declared_checks(field: GraphQLField) -> list[BasePermission]:
    """The permission checks declared on a field of the executable schema (none for a plain
    attribute): what the schema walk and the permission matrix in the tests read, so that they
    see exactly what ``requires()`` declared."""
    definition = (field.extensions or {}).get("strawberry-definition")
    return [
        permission
        for extension in getattr(definition, "extensions", None) or ()
        if isinstance(extension, DeclaredPermission)
        for permission in extension.permissions
    ]
