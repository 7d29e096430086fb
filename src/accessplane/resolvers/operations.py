"""API operation mutations and OpenAPI imports."""

from __future__ import annotations

from dataclasses import replace

import strawberry
from starlette.datastructures import UploadFile

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.errors import InputError, UserErrorCode
from accessplane.schema.base import decode_id, to_global_id, user_errors_as_payload
from accessplane.schema.operations import (
    ApiOperation,
    ApiOperationPayload,
    CreateApiOperationInput,
    DeleteApiOperationInput,
    DeleteApiOperationPayload,
    ImportOpenApiInput,
    ImportOpenApiPayload,
    UpdateApiOperationInput,
)
from accessplane.schema.permissions import requires
from accessplane.services import openapi_import, operations
from accessplane.services.openapi_import import MAX_DOCUMENT_BYTES


async def read_document(input: ImportOpenApiInput) -> str:
    """The pasted document or the uploaded file's text (one of the two), read at most one
    byte past the limit."""
    if (input.document is None) == (input.file is None):
        raise InputError.one(
            "document",
            "Paste the document or upload it as file: exactly one of the two.",
            UserErrorCode.REQUIRED,
        )
    if input.document is not None:
        return input.document
    if not isinstance(input.file, UploadFile):  # e.g. a string in a JSON request
        raise InputError.one(
            "file", "Send the file in a GraphQL multipart request.", UserErrorCode.INVALID
        )
    data = await input.file.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        # Said here: the cut may split a character, which would read as "not UTF-8".
        raise InputError.one(
            "file",
            f"The document is over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.",
            UserErrorCode.TOO_LONG,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.one("file", "The file is not UTF-8 text.", UserErrorCode.INVALID) from None


@strawberry.type
class OperationMutations:
    @strawberry.mutation(
        extensions=requires(Permission.UPDATE_API),
        description="Declare an operation (method + path template, scopes) on an API.",
    )
    @user_errors_as_payload
    async def create_api_operation(
        self, info: Info, input: CreateApiOperationInput
    ) -> ApiOperationPayload:
        operation = await operations.create_operation(
            session=info.context.session,
            actor=info.context.principal,
            api_id=decode_id(input.api_id, "Api", field="apiId"),
            method=input.method,
            path=input.path,
            name=input.name,
            scopes=input.scopes,
        )
        return ApiOperationPayload(api_operation=ApiOperation.from_model(operation))

    @strawberry.mutation(extensions=requires(Permission.UPDATE_API))
    @user_errors_as_payload
    async def update_api_operation(
        self, info: Info, input: UpdateApiOperationInput
    ) -> ApiOperationPayload:
        operation = await operations.update_operation(
            session=info.context.session,
            actor=info.context.principal,
            operation_id=decode_id(input.id, "ApiOperation", field="id"),
            edit=operations.OperationEdit(
                method=input.method, path=input.path, name=input.name, scopes=input.scopes
            ),
        )
        return ApiOperationPayload(api_operation=ApiOperation.from_model(operation))

    @strawberry.mutation(extensions=requires(Permission.UPDATE_API))
    @user_errors_as_payload
    async def delete_api_operation(
        self, info: Info, input: DeleteApiOperationInput
    ) -> DeleteApiOperationPayload:
        operation = await operations.delete_operation(
            session=info.context.session,
            actor=info.context.principal,
            operation_id=decode_id(input.id, "ApiOperation", field="id"),
        )
        return DeleteApiOperationPayload(
            deleted_api_operation_id=to_global_id("ApiOperation", operation.id)
        )

    @strawberry.mutation(
        extensions=requires(Permission.UPDATE_API),
        description="Declare an API's operations from an OpenAPI 3.0/3.1 document (JSON or "
        "YAML): answers the operations added, changed and removed; dryRun writes nothing, "
        "prune deletes those the document lacks.",
    )
    @user_errors_as_payload
    async def import_open_api(self, info: Info, input: ImportOpenApiInput) -> ImportOpenApiPayload:
        api_id = decode_id(input.api_id, "Api", field="apiId")
        try:
            result = await openapi_import.import_openapi(
                session=info.context.session,
                actor=info.context.principal,
                api_id=api_id,
                document=await read_document(input),
                dry_run=input.dry_run,
                prune=input.prune,
            )
        except InputError as error:
            if input.file is None:
                raise
            # The service names the document; the caller sent it as the file.
            raise InputError(
                [replace(e, field="file") if e.field == "document" else e for e in error.errors]
            ) from None
        return ImportOpenApiPayload.from_result(result)
