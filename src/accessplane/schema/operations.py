"""API operations: method + path templates an API declares, and OpenAPI imports."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from accessplane import models
from accessplane.schema.base import UserError
from accessplane.services.openapi_import import ImportResult, OperationChange


@strawberry.type
class ApiOperation(relay.Node):
    """An operation of an API: an HTTP method (or * for any) and a path template whose
    segments are literals or {parameters}, optionally ending in /* (any further segments)."""

    id: relay.NodeID[str]
    method: str = strawberry.field(description="An upper-case HTTP method, or * for any.")
    path: str = strawberry.field(description="The path template, e.g. /invoices/{id}.")
    name: str = strawberry.field(description="The OpenAPI operationId, if any.")
    scopes: list[str] = strawberry.field(
        description="OAuth2 scopes a JWT must carry to call this operation."
    )
    api_id: relay.GlobalID = strawberry.field(description="The API declaring it.")
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, operation: models.ApiOperation) -> ApiOperation:
        return cls(
            id=str(operation.id),
            method=operation.method,
            path=operation.path,
            name=operation.name,
            scopes=list(operation.scopes),
            api_id=relay.GlobalID("Api", str(operation.api_id)),
            created_at=operation.created_at,
            updated_at=operation.updated_at,
            pk=operation.id,
        )


@strawberry.input
class CreateApiOperationInput:
    api_id: relay.GlobalID
    method: str = strawberry.field(description="An HTTP method (GET, POST, …) or * for any.")
    path: str = strawberry.field(
        description="Starts with /; segments are literals or {name}; may end in /*."
    )
    name: str = ""
    scopes: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateApiOperationInput:
    id: relay.GlobalID
    method: str | None = None
    path: str | None = None
    name: str | None = None
    scopes: list[str] | None = strawberry.field(default=None, description="Replaces the scopes.")


@strawberry.input
class DeleteApiOperationInput:
    id: relay.GlobalID


@strawberry.type
class ApiOperationPayload:
    api_operation: ApiOperation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteApiOperationPayload:
    deleted_api_operation_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ImportOpenApiInput:
    """An OpenAPI 3.0 or 3.1 document (JSON or YAML) pasted as ``document`` or uploaded as
    ``file`` (GraphQL multipart request); exactly one of the two."""

    api_id: relay.GlobalID
    document: str | None = None
    file: Upload | None = None
    dry_run: bool = strawberry.field(
        default=False, description="Answer the changes the import would make; write nothing."
    )
    prune: bool = strawberry.field(
        default=False, description="Delete the API's operations the document does not declare."
    )


@strawberry.type
class OpenApiOperationChange:
    """An operation an import adds, changes or removes; previousName and previousScopes are
    set for a changed one."""

    method: str
    path: str
    name: str
    scopes: list[str]
    previous_name: str | None = None
    previous_scopes: list[str] | None = None

    @classmethod
    def from_change(cls, change: OperationChange) -> OpenApiOperationChange:
        return cls(
            method=change.method,
            path=change.path,
            name=change.name,
            scopes=list(change.scopes),
            previous_name=change.previous_name,
            previous_scopes=change.previous_scopes,
        )


@strawberry.type
class ImportOpenApiPayload:
    """What the import changed (or, in a dry run, would change). ``removed`` lists the API's
    operations the document lacks; they were deleted only if ``pruned``."""

    added: list[OpenApiOperationChange] = strawberry.field(default_factory=list)
    changed: list[OpenApiOperationChange] = strawberry.field(default_factory=list)
    removed: list[OpenApiOperationChange] = strawberry.field(default_factory=list)
    unchanged_count: int = 0
    dry_run: bool = False
    pruned: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def from_result(cls, result: ImportResult) -> ImportOpenApiPayload:
        convert = OpenApiOperationChange.from_change
        return cls(
            added=[convert(c) for c in result.added],
            changed=[convert(c) for c in result.changed],
            removed=[convert(c) for c in result.removed],
            unchanged_count=result.unchanged_count,
            dry_run=result.dry_run,
            pruned=result.pruned,
        )
