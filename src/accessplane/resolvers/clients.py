"""Client mutations."""

from __future__ import annotations

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.errors import InputError, UserErrorCode
from accessplane.schema.base import decode_id, decode_ids, to_global_id, user_errors_as_payload
from accessplane.schema.clients import (
    Client,
    ClientPayload,
    CreateClientInput,
    DeleteClientInput,
    DeleteClientPayload,
    SetClientActiveInput,
    UpdateClientInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import clients
from accessplane.services.clients import LogoUpload


async def read_logo(upload: Upload | None, max_bytes: int) -> LogoUpload | None:
    """The upload's bytes, read at most one byte past the limit (the service refuses more)."""
    if upload is None:
        return None
    if not isinstance(upload, UploadFile):  # e.g. a string in a JSON request
        raise InputError.one(
            "logo", "Send the logo as a file in a GraphQL multipart request.", UserErrorCode.INVALID
        )
    data = await upload.read(max_bytes + 1)
    return LogoUpload(data=data, filename=upload.filename or "")


@strawberry.type
class ClientMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Register a client; its logo is a PNG/JPEG upload (multipart) or a URL.",
    )
    @user_errors_as_payload
    async def create_client(self, info: Info, input: CreateClientInput) -> ClientPayload:
        ctx = info.context
        max_bytes = ctx.settings.client_logo_max_bytes
        client = await clients.create_client(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            description=input.description,
            logo=await read_logo(input.logo, max_bytes),
            logo_url=input.logo_url,
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds"),
            max_logo_bytes=max_bytes,
        )
        return ClientPayload(client=Client.from_model(client))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_CLIENTS))
    @user_errors_as_payload
    async def update_client(self, info: Info, input: UpdateClientInput) -> ClientPayload:
        ctx = info.context
        max_bytes = ctx.settings.client_logo_max_bytes
        client = await clients.update_client(
            session=ctx.session,
            actor=ctx.principal,
            client_id=decode_id(input.id, "Client", field="id"),
            name=input.name,
            description=input.description,
            logo=await read_logo(input.logo, max_bytes),
            logo_url=input.logo_url,
            remove_logo=input.remove_logo,
            member_ids=decode_ids(input.member_ids, "Member", field="memberIds")
            if input.member_ids is not None
            else None,
            max_logo_bytes=max_bytes,
        )
        return ClientPayload(client=Client.from_model(client))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="An inactive client's apps are denied on the very next decision.",
    )
    @user_errors_as_payload
    async def set_client_active(self, info: Info, input: SetClientActiveInput) -> ClientPayload:
        ctx = info.context
        client = await clients.set_client_active(
            session=ctx.session,
            actor=ctx.principal,
            client_id=decode_id(input.id, "Client", field="id"),
            active=input.active,
        )
        return ClientPayload(client=Client.from_model(client))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Delete a client with its apps and requests; the apps' tokens stop at once.",
    )
    @user_errors_as_payload
    async def delete_client(self, info: Info, input: DeleteClientInput) -> DeleteClientPayload:
        ctx = info.context
        client = await clients.delete_client(
            session=ctx.session,
            actor=ctx.principal,
            client_id=decode_id(input.id, "Client", field="id"),
        )
        return DeleteClientPayload(deleted_client_id=to_global_id("Client", client.id))
