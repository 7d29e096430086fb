"""API products: bundles of APIs offered to consumers."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.operations import OperationsByProductIdLoader
from accessplane.loaders.products import ApisByProductIdLoader
from accessplane.models import AuthMethod
from accessplane.schema.apis import Api
from accessplane.schema.base import Connection, UserError, child_connection, parse_page
from accessplane.schema.operations import ApiOperation
from accessplane.schema.permissions import requires

AuthMethodEnum = strawberry.enum(AuthMethod, name="AuthMethod")


@strawberry.type
class ApiProduct(relay.Node):
    """A bundle of APIs with one authentication method; consumers see published ones."""

    id: relay.NodeID[str]
    name: str
    description: str
    auth_method: AuthMethodEnum  # type: ignore[valid-type]
    published: bool
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, product: models.ApiProduct) -> ApiProduct:
        return cls(
            id=str(product.id),
            name=product.name,
            description=product.description,
            auth_method=product.auth_method,
            published=product.published,
            created_at=product.created_at,
            pk=product.id,
            workspace_id=product.workspace_id,
        )

    @strawberry.field(
        extensions=requires(Permission.GET_PRODUCT), description="The APIs bundled, by name."
    )
    async def apis(self, info: Info) -> list[Api]:
        rows = await info.context.loaders.get(ApisByProductIdLoader).load(self.pk)
        return [Api.from_model(api) for api in rows]

    @strawberry.field(
        extensions=requires(Permission.GET_PRODUCT),
        description="The operations chosen, by path then method. Of an API with chosen "
        "operations the product grants only those; of its other APIs, the whole API.",
    )
    async def operations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ApiOperation]:
        loaders = info.context.loaders
        args = parse_page(first, after, maximum=info.context.settings.max_page_size)
        page = await loaders.get(OperationsByProductIdLoader).load((self.pk, args))
        return child_connection(
            loaders.count(OperationsByProductIdLoader), self.pk, page, ApiOperation.from_model
        )


@strawberry.input
class ApiProductFilter:
    """``published``, ``authMethod``, and ``search`` in the name or description."""

    published: bool | None = None
    auth_method: AuthMethodEnum | None = None  # type: ignore[valid-type]
    search: str | None = None


@strawberry.input
class CreateApiProductInput:
    workspace_id: relay.GlobalID
    name: str
    auth_method: AuthMethodEnum  # type: ignore[valid-type]
    api_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    description: str = ""
    published: bool = False
    operation_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description="Operations to grant instead of their whole APIs (their APIs join the "
        "product).",
    )


@strawberry.input
class UpdateApiProductInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None
    auth_method: AuthMethodEnum | None = None  # type: ignore[valid-type]
    api_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Replaces the product's APIs."
    )
    published: bool | None = None
    operation_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None,
        description="Replaces the chosen operations (their APIs join the product). Left out "
        "while apiIds changes: the chosen operations of the APIs that stay are kept.",
    )


@strawberry.input
class DeleteApiProductInput:
    id: relay.GlobalID


@strawberry.type
class ApiProductPayload:
    api_product: ApiProduct | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteApiProductPayload:
    deleted_api_product_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
