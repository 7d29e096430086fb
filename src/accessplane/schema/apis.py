"""APIs, with the people and groups granted each."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.grants import GroupsByApiIdLoader, PeopleByApiIdLoader
from accessplane.loaders.operations import OperationsByApiIdLoader
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.groups import Group
from accessplane.schema.members import Member
from accessplane.schema.operations import ApiOperation
from accessplane.schema.permissions import requires


@strawberry.type
class Api(relay.Node):
    """An API of the workspace."""

    id: relay.NodeID[str]
    name: str
    identifier: str = strawberry.field(description="Slug gateways use to name the API.")
    base_url: str
    description: str
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, api: models.Api) -> Api:
        return cls(
            id=str(api.id),
            name=api.name,
            identifier=api.identifier,
            base_url=api.base_url,
            description=api.description,
            created_at=api.created_at,
            pk=api.id,
            workspace_id=api.workspace_id,
        )

    @strawberry.field(
        extensions=requires(Permission.GET_API_GRANTS),
        description="Members granted this API directly.",
    )
    async def people_count(self, info: Info) -> int:
        return int(await info.context.loaders.count(PeopleByApiIdLoader).load(self.pk))

    @strawberry.field(
        extensions=requires(Permission.GET_API_GRANTS), description="Groups granted this API."
    )
    async def groups_count(self, info: Info) -> int:
        return int(await info.context.loaders.count(GroupsByApiIdLoader).load(self.pk))

    @strawberry.field(
        extensions=requires(Permission.GET_API_GRANTS),
        description="Members granted this API directly (see explainAccess for every path).",
    )
    async def people(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Member]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(PeopleByApiIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(PeopleByApiIdLoader), self.pk, page, Member.from_model
        )

    @strawberry.field(
        extensions=requires(Permission.GET_API_GRANTS), description="Groups granted this API."
    )
    async def groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Group]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(GroupsByApiIdLoader).load((self.pk, args))
        return child_connection(loaders.count(GroupsByApiIdLoader), self.pk, page, Group.from_model)

    @strawberry.field(
        extensions=requires(Permission.GET_API),
        description="The operations the API declares, by path then method (none: the API is "
        "granted as a whole).",
    )
    async def operations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ApiOperation]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(OperationsByApiIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(OperationsByApiIdLoader), self.pk, page, ApiOperation.from_model
        )


@strawberry.input
class ApiFilter:
    """``peopleIds``: granted directly to any of these members; ``groupIds``: granted to any of
    these groups; ``search``: a part of the name or identifier."""

    people_ids: list[relay.GlobalID] | None = None
    group_ids: list[relay.GlobalID] | None = None
    search: str | None = None


@strawberry.input
class CreateApiInput:
    workspace_id: relay.GlobalID
    name: str
    identifier: str
    base_url: str = ""
    description: str = ""


@strawberry.input
class UpdateApiInput:
    id: relay.GlobalID
    name: str | None = None
    identifier: str | None = None
    base_url: str | None = None
    description: str | None = None


@strawberry.input
class DeleteApiInput:
    id: relay.GlobalID


@strawberry.type
class ApiPayload:
    """The API created or changed, or why not."""

    api: Api | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteApiPayload:
    deleted_api_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
