"""API product mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, decode_ids, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.schema.products import (
    ApiProduct,
    ApiProductPayload,
    CreateApiProductInput,
    DeleteApiProductInput,
    DeleteApiProductPayload,
    UpdateApiProductInput,
)
from accessplane.services import products


@strawberry.type
class ProductMutations:
    @strawberry.mutation(extensions=requires(Permission.MANAGE_PRODUCTS))
    @user_errors_as_payload
    async def create_api_product(
        self, info: Info, input: CreateApiProductInput
    ) -> ApiProductPayload:
        ctx = info.context
        product = await products.create_product(
            session=ctx.session,
            actor=ctx.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            name=input.name,
            auth_method=input.auth_method,
            api_ids=decode_ids(input.api_ids, "Api", field="apiIds"),
            description=input.description,
            published=input.published,
            operation_ids=decode_ids(input.operation_ids, "ApiOperation", field="operationIds"),
        )
        return ApiProductPayload(api_product=ApiProduct.from_model(product))

    @strawberry.mutation(extensions=requires(Permission.MANAGE_PRODUCTS))
    @user_errors_as_payload
    async def update_api_product(
        self, info: Info, input: UpdateApiProductInput
    ) -> ApiProductPayload:
        ctx = info.context
        product = await products.update_product(
            session=ctx.session,
            actor=ctx.principal,
            product_id=decode_id(input.id, "ApiProduct", field="id"),
            name=input.name,
            description=input.description,
            auth_method=input.auth_method,
            api_ids=decode_ids(input.api_ids, "Api", field="apiIds")
            if input.api_ids is not None
            else None,
            published=input.published,
            operation_ids=decode_ids(input.operation_ids, "ApiOperation", field="operationIds")
            if input.operation_ids is not None
            else None,
        )
        return ApiProductPayload(api_product=ApiProduct.from_model(product))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_PRODUCTS),
        description="Delete a product no app holds and no pending request names.",
    )
    @user_errors_as_payload
    async def delete_api_product(
        self, info: Info, input: DeleteApiProductInput
    ) -> DeleteApiProductPayload:
        ctx = info.context
        product = await products.delete_product(
            session=ctx.session,
            actor=ctx.principal,
            product_id=decode_id(input.id, "ApiProduct", field="id"),
        )
        return DeleteApiProductPayload(
            deleted_api_product_id=to_global_id("ApiProduct", product.id)
        )
