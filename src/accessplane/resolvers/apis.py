"""API mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.apis import (
    Api,
    ApiPayload,
    CreateApiInput,
    DeleteApiInput,
    DeleteApiPayload,
    UpdateApiInput,
)
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.services import apis


@strawberry.type
class ApiMutations:
    @strawberry.mutation(extensions=requires(Permission.CREATE_API))
    @user_errors_as_payload
    async def create_api(self, info: Info, input: CreateApiInput) -> ApiPayload:
        api = await apis.create_api(
            session=info.context.session,
            actor=info.context.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            identifier=input.identifier,
            base_url=input.base_url,
            description=input.description,
        )
        return ApiPayload(api=Api.from_model(api))

    @strawberry.mutation(extensions=requires(Permission.UPDATE_API))
    @user_errors_as_payload
    async def update_api(self, info: Info, input: UpdateApiInput) -> ApiPayload:
        api = await apis.update_api(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.id, "Api", field="id"),
            name=input.name,
            identifier=input.identifier,
            base_url=input.base_url,
            description=input.description,
        )
        return ApiPayload(api=Api.from_model(api))

    @strawberry.mutation(extensions=requires(Permission.DELETE_API))
    @user_errors_as_payload
    async def delete_api(self, info: Info, input: DeleteApiInput) -> DeleteApiPayload:
        api = await apis.delete_api(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.id, "Api", field="id"),
        )
        return DeleteApiPayload(deleted_api_id=to_global_id("Api", api.id))
