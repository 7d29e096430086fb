"""The viewer: who is calling, and where they belong."""

from __future__ import annotations

import strawberry

from accessplane.auth.principals import Principal, PrincipalKind
from accessplane.context import Info
from accessplane.loaders.entities import WorkspaceByIdLoader
from accessplane.schema.roles import RolePermission
from accessplane.schema.workspaces import Workspace

PrincipalKindEnum = strawberry.enum(PrincipalKind, name="PrincipalKind")


@strawberry.type
class ViewerMembership:
    """The viewer's role in one workspace, with the permissions it gives."""

    workspace: Workspace
    role_name: str
    permissions: list[str]
    all_apis: bool
    permission_constraints: list[RolePermission] = strawberry.field(
        description="The viewer's permissions that carry a constraint, with it (e.g. "
        "createApiAccess limited to names matching namePattern), so a client can say so "
        "before the server refuses."
    )


@strawberry.type
class Viewer:
    """The authenticated caller."""

    kind: PrincipalKindEnum  # type: ignore[valid-type]
    name: str
    principal: strawberry.Private[Principal]

    @strawberry.field(description="Empty for a person who belongs to no workspace yet.")
    async def memberships(self, info: Info) -> list[ViewerMembership]:
        loader = info.context.loaders.get(WorkspaceByIdLoader)
        workspaces = await loader.load_many(list(self.principal.memberships))
        result = []
        for workspace in sorted((w for w in workspaces if w), key=lambda w: (w.name, w.id)):
            membership = self.principal.memberships[workspace.id]
            result.append(
                ViewerMembership(
                    workspace=Workspace.from_model(workspace),
                    role_name=membership.role_name,
                    permissions=sorted(p.value for p in membership.grants),
                    all_apis=membership.all_apis,
                    permission_constraints=[
                        RolePermission(
                            name=grant.permission.value,
                            name_pattern=grant.constraints.get("namePattern"),
                        )
                        for grant in sorted(membership.grants.values(), key=lambda g: g.permission)
                        if grant.constraints
                    ],
                )
            )
        return result
