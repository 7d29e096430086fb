"""Workspace mutations."""

from __future__ import annotations

import strawberry

from accessplane.context import Info
from accessplane.schema.base import user_errors_as_payload
from accessplane.schema.permissions import authenticated
from accessplane.schema.workspaces import CreateWorkspaceInput, Workspace, WorkspacePayload
from accessplane.services import workspaces


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(
        extensions=authenticated(), description="Any person may create a workspace and own it."
    )
    @user_errors_as_payload
    async def create_workspace(self, info: Info, input: CreateWorkspaceInput) -> WorkspacePayload:
        workspace = await workspaces.create_workspace(
            session=info.context.session,
            actor=info.context.principal,
            name=input.name,
            slug=input.slug,
        )
        return WorkspacePayload(workspace=Workspace.from_model(workspace))
