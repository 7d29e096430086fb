"""Members: a user in a workspace with a role, their groups and effective APIs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.entities import RoleByIdLoader, UserByIdLoader
from accessplane.loaders.grants import ApisByMemberIdLoader
from accessplane.loaders.groups import GroupsByMemberIdLoader
from accessplane.models import MemberKind
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.permissions import requires
from accessplane.schema.roles import Role
from accessplane.schema.users import User

if TYPE_CHECKING:
    from accessplane.schema.apis import Api
    from accessplane.schema.groups import Group

MemberKindEnum = strawberry.enum(MemberKind, name="MemberKind")


@strawberry.type
class Member(relay.Node):
    """A user's membership of a workspace."""

    id: relay.NodeID[str]
    kind: MemberKindEnum  # type: ignore[valid-type]
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    role_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, member: models.Member) -> Member:
        return cls(
            id=str(member.id),
            kind=member.kind,
            created_at=member.created_at,
            pk=member.id,
            workspace_id=member.workspace_id,
            user_id=member.user_id,
            role_id=member.role_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await info.context.loaders.get(UserByIdLoader).load(self.user_id)
        assert user is not None  # a member's user is deleted with the member
        return User.from_model(user)

    @strawberry.field(extensions=requires(Permission.GET_ROLE))
    async def role(self, info: Info) -> Role:
        role = await info.context.loaders.get(RoleByIdLoader).load(self.role_id)
        assert role is not None  # roles held by members cannot be deleted
        return Role.from_model(role)

    @strawberry.field(extensions=requires(Permission.GET_GROUP))
    async def groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Group, strawberry.lazy("accessplane.schema.groups")]]:
        from accessplane.schema.groups import Group

        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(GroupsByMemberIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(GroupsByMemberIdLoader), self.pk, page, Group.from_model
        )

    @strawberry.field(
        extensions=requires(Permission.GET_API),
        description="APIs the member reaches: by role (allApis), directly, or through groups; "
        "limited to the APIs the viewer can reach.",
    )
    async def apis(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Api, strawberry.lazy("accessplane.schema.apis")]]:
        from accessplane.schema.apis import Api

        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(ApisByMemberIdLoader).load((self.pk, args))
        return child_connection(loaders.count(ApisByMemberIdLoader), self.pk, page, Api.from_model)


@strawberry.input
class MemberFilter:
    """Narrow members by role, group, or a part of their email or name."""

    role_ids: list[relay.GlobalID] | None = None
    group_ids: list[relay.GlobalID] | None = None
    search: str | None = None


@strawberry.input
class AddMemberInput:
    workspace_id: relay.GlobalID
    email: str
    role_id: relay.GlobalID
    name: str = ""


@strawberry.input
class UpdateMemberRoleInput:
    id: relay.GlobalID
    role_id: relay.GlobalID


@strawberry.input
class RemoveMemberInput:
    id: relay.GlobalID


@strawberry.type
class MemberPayload:
    """The member added or changed, or why not."""

    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveMemberPayload:
    removed_member_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
