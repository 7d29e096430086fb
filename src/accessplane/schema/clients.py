"""Clients: consumer organisations with their logos, members and apps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.clients import AccessProfilesByClientIdLoader, MembersByClientIdLoader
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.members import Member
from accessplane.schema.permissions import requires

if TYPE_CHECKING:
    from accessplane.schema.access_profiles import AccessProfile


def logo_path(client_id: uuid.UUID, updated_at: datetime) -> str:
    """Where an uploaded logo is served; the version changes the URL when the logo does."""
    return f"/logos/{client_id}?v={int(updated_at.timestamp())}"


@strawberry.type
class Client(relay.Node):
    """A consumer organisation; an inactive client's apps can call no API."""

    id: relay.NodeID[str]
    name: str
    description: str
    logo_url: str | None = strawberry.field(
        description="An uploaded logo's path on this server (/logos/…), or the external URL."
    )
    active: bool
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, client: models.Client) -> Client:
        logo = logo_path(client.id, client.updated_at) if client.has_logo else client.logo_url
        return cls(
            id=str(client.id),
            name=client.name,
            description=client.description,
            logo_url=logo or None,
            active=client.active,
            created_at=client.created_at,
            updated_at=client.updated_at,
            pk=client.id,
            workspace_id=client.workspace_id,
        )

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT), description="Consumer members, by email."
    )
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Member]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(MembersByClientIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(MembersByClientIdLoader), self.pk, page, Member.from_model
        )

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="The client's apps, by name.",
    )
    async def access_profiles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[
        Annotated[AccessProfile, strawberry.lazy("accessplane.schema.access_profiles")]
    ]:
        from accessplane.schema.access_profiles import AccessProfile

        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(AccessProfilesByClientIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(AccessProfilesByClientIdLoader), self.pk, page, AccessProfile.from_model
        )


@strawberry.input
class ClientFilter:
    """``active``, and ``search`` in the name or description."""

    active: bool | None = None
    search: str | None = None


@strawberry.input
class CreateClientInput:
    workspace_id: relay.GlobalID
    name: str
    description: str = ""
    logo: Upload | None = strawberry.field(
        default=None, description="A PNG or JPEG file (GraphQL multipart request), at most 1 MiB."
    )
    logo_url: str | None = strawberry.field(default=None, description="Or an https URL.")
    member_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateClientInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None
    logo: Upload | None = None
    logo_url: str | None = None
    remove_logo: bool = False
    member_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Replaces the client's members."
    )


@strawberry.input
class SetClientActiveInput:
    id: relay.GlobalID
    active: bool


@strawberry.input
class DeleteClientInput:
    id: relay.GlobalID


@strawberry.type
class ClientPayload:
    client: Client | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteClientPayload:
    deleted_client_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
