"""Granting and revoking API access, and explaining it."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from accessplane.schema.apis import Api
from accessplane.schema.base import UserError, to_global_id
from accessplane.schema.groups import Group
from accessplane.schema.members import Member
from accessplane.schema.roles import Role
from accessplane.services.grants import AccessExplanation as AccessExplanationModel
from accessplane.services.grants import AccessPathKind, GrantChange

AccessPathKindEnum = strawberry.enum(AccessPathKind, name="AccessPathKind")


@strawberry.type
class AccessPath:
    """One way a member reaches an API."""

    kind: AccessPathKindEnum  # type: ignore[valid-type]
    group: Group | None
    role: Role | None
    granted_by: str | None
    granted_at: datetime | None


@strawberry.type
class AccessExplanation:
    """Whether a member reaches an API, and every path by which they do."""

    member: Member
    api: Api
    has_access: bool
    paths: list[AccessPath]

    @classmethod
    def from_domain(cls, explanation: AccessExplanationModel) -> AccessExplanation:
        return cls(
            member=Member.from_model(explanation.member),
            api=Api.from_model(explanation.api),
            has_access=explanation.has_access,
            paths=[
                AccessPath(
                    kind=path.kind,
                    group=Group.from_model(path.group) if path.group else None,
                    role=Role.from_model(path.role) if path.role else None,
                    granted_by=path.granted_by_name,
                    granted_at=path.granted_at,
                )
                for path in explanation.paths
            ],
        )


@strawberry.input
class GrantApiAccessInput:
    """Members (direct grants) and groups to grant the API to, in one transaction."""

    api_id: relay.GlobalID
    member_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    group_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiAccessInput:
    """Direct grants of members and grants of groups to revoke, in one transaction."""

    api_id: relay.GlobalID
    member_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    group_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeAllApiAccessInput:
    api_id: relay.GlobalID
    confirmation: str = strawberry.field(description="Must be the literal word REVOKE.")


@strawberry.type
class ApiGrantPayload:
    """The API after the change, and whom the change touched."""

    api: Api | None = None
    member_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    group_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def from_change(cls, change: GrantChange) -> ApiGrantPayload:
        return cls(
            api=Api.from_model(change.api),
            member_ids=[to_global_id("Member", i) for i in change.member_ids],
            group_ids=[to_global_id("Group", i) for i in change.group_ids],
        )
