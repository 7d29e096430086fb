"""Groups and their members."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.groups import MembersByGroupIdLoader
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.members import Member
from accessplane.schema.permissions import requires


@strawberry.type
class Group(relay.Node):
    """A team of members; its API grants reach every current member."""

    id: relay.NodeID[str]
    name: str
    description: str
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, group: models.Group) -> Group:
        return cls(
            id=str(group.id),
            name=group.name,
            description=group.description,
            created_at=group.created_at,
            pk=group.id,
            workspace_id=group.workspace_id,
        )

    @strawberry.field(extensions=requires(Permission.GET_MEMBER))
    async def members_count(self, info: Info) -> int:
        return int(await info.context.loaders.count(MembersByGroupIdLoader).load(self.pk))

    @strawberry.field(extensions=requires(Permission.GET_MEMBER))
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Member]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(MembersByGroupIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(MembersByGroupIdLoader), self.pk, page, Member.from_model
        )


@strawberry.input
class CreateGroupInput:
    workspace_id: relay.GlobalID
    name: str
    description: str = ""
    member_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateGroupInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None


@strawberry.input
class DeleteGroupInput:
    id: relay.GlobalID


@strawberry.input
class GroupMembersInput:
    """Members to add to, or remove from, a group."""

    group_id: relay.GlobalID
    member_ids: list[relay.GlobalID]


@strawberry.type
class GroupPayload:
    """The group created or changed, or why not."""

    group: Group | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteGroupPayload:
    deleted_group_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
