"""Configuration as code over GraphQL: the plan of an apply and the tokens it created."""

from __future__ import annotations

import strawberry
from strawberry import relay

from accessplane.schema.base import UserError
from accessplane.services.workspace_config import ApplyResult


@strawberry.type
class WorkspaceConfigChange:
    """One change of the plan, e.g. action ``update``, kind ``plan``, name ``gold``, detail
    ``rateLimit.requests 100 -> 200``."""

    action: str = strawberry.field(description="create, update or delete.")
    kind: str = strawberry.field(
        description="role, member, group, api, operation, grant, plan, product, client, app or "
        "notifications."
    )
    name: str
    detail: str
    line: str = strawberry.field(description="The change as `accessplane apply` prints it.")


@strawberry.type
class WorkspaceConfigCredential:
    """The token of an app the apply created: shown this once, stored only as a hash."""

    client: str
    app: str
    token: str


@strawberry.input
class ApplyWorkspaceConfigInput:
    workspace_id: relay.GlobalID
    config: str = strawberry.field(description="The file's text, YAML or JSON.")
    dry_run: bool = strawberry.field(default=False, description="Plan and check; write nothing.")
    prune: bool = strawberry.field(default=False, description="Delete what the file leaves out.")


@strawberry.type
class ApplyWorkspaceConfigPayload:
    changes: list[WorkspaceConfigChange] = strawberry.field(default_factory=list)
    credentials: list[WorkspaceConfigCredential] = strawberry.field(default_factory=list)
    applied: bool = strawberry.field(
        default=False, description="False for a dry run and when nothing had to change."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="A refused file: `field` is the path in the file, e.g. apis[2].identifier.",
    )

    @classmethod
    def from_result(cls, result: ApplyResult) -> ApplyWorkspaceConfigPayload:
        return cls(
            changes=[
                WorkspaceConfigChange(
                    action=c.action, kind=c.kind, name=c.name, detail=c.detail, line=c.line()
                )
                for c in result.changes
            ],
            credentials=[
                WorkspaceConfigCredential(client=c.client, app=c.app, token=c.token)
                for c in result.credentials
            ],
            applied=result.applied,
        )
