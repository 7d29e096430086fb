"""Configuration as code: export a workspace's file, apply one (thin: the service plans)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.schema.workspace_config import (
    ApplyWorkspaceConfigInput,
    ApplyWorkspaceConfigPayload,
)
from accessplane.services import workspace_config


@strawberry.type
class WorkspaceConfigQueries:
    @strawberry.field(
        extensions=requires(Permission.GET_WORKSPACE),
        description="The workspace's configuration as YAML, sorted and without secrets (see "
        "applyWorkspaceConfig); reading it all needs every get permission of the workspace.",
    )
    async def export_workspace_config(self, info: Info, workspace_id: relay.GlobalID) -> str:
        ctx = info.context
        return await workspace_config.export_workspace_config(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(workspace_id, "Workspace", field="workspaceId"),
        )


@strawberry.type
class WorkspaceConfigMutations:
    @strawberry.mutation(
        extensions=requires(Permission.UPDATE_WORKSPACE),
        description="Make the workspace match a configuration file in one transaction, each "
        "change through its own mutation's rules and audit; returns the plan, and the tokens of "
        "new apps (shown once).",
    )
    @user_errors_as_payload
    async def apply_workspace_config(
        self, info: Info, input: ApplyWorkspaceConfigInput
    ) -> ApplyWorkspaceConfigPayload:
        ctx = info.context
        result = await workspace_config.apply_workspace_config(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            text=input.config,
            secret=ctx.settings.secret_key.get_secret_value().encode(),
            dry_run=input.dry_run,
            prune=input.prune,
        )
        return ApplyWorkspaceConfigPayload.from_result(result)
