"""The Schema: root types and the extensions that harden and speed it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from accessplane.errors import DomainError, ErrorCode, InputError
from accessplane.observability.graphql import GraphQLMetrics, OperationObserver
from accessplane.observability.tracing import Tracing
from accessplane.resolvers.access_profiles import AccessProfileMutations
from accessplane.resolvers.access_requests import AccessRequestMutations
from accessplane.resolvers.alerts import AlertMutations
from accessplane.resolvers.api_access import ApiAccessMutations
from accessplane.resolvers.apis import ApiMutations
from accessplane.resolvers.certificates import CertificateMutations
from accessplane.resolvers.clients import ClientMutations
from accessplane.resolvers.grants import GrantMutations
from accessplane.resolvers.groups import GroupMutations
from accessplane.resolvers.members import MemberMutations
from accessplane.resolvers.notifications import NotificationMutations
from accessplane.resolvers.operations import OperationMutations
from accessplane.resolvers.plans import PlanMutations
from accessplane.resolvers.products import ProductMutations
from accessplane.resolvers.query import Query
from accessplane.resolvers.roles import RoleMutations
from accessplane.resolvers.service_accounts import ServiceAccountMutations
from accessplane.resolvers.webhooks import WebhookMutations
from accessplane.resolvers.workspace_config import WorkspaceConfigMutations, WorkspaceConfigQueries
from accessplane.resolvers.workspaces import WorkspaceMutations
from accessplane.schema.base import input_path
from accessplane.schema.scalars import SCALARS, check_scalar_arguments
from accessplane.settings import Settings


@strawberry.type
class Mutation(
    WorkspaceMutations,
    MemberMutations,
    RoleMutations,
    GroupMutations,
    ApiMutations,
    OperationMutations,
    GrantMutations,
    ApiAccessMutations,
    NotificationMutations,
    ServiceAccountMutations,
    ClientMutations,
    AccessProfileMutations,
    CertificateMutations,
    ProductMutations,
    PlanMutations,
    AccessRequestMutations,
    WorkspaceConfigMutations,
    WebhookMutations,
    AlertMutations,
):
    """Every change; each takes one ``input`` and returns a payload with ``userErrors``."""


@strawberry.type(name="Query")
class RootQuery(Query, WorkspaceConfigQueries):
    """Every read: ``resolvers/query.py``'s, and the exported workspace configuration."""


class AccessPlaneSchema(strawberry.Schema):
    """Logs only the server's own errors: a caller's missing token or bad id is an answer,
    not an incident (and its message might echo what the caller sent)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry keeps the graphql-core schema it built in ``_schema``.
        check_scalar_arguments(self._schema)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        internal = [e for e in errors if _is_internal(e)]
        if internal:
            super().process_errors(internal, execution_context)


PARSE_CACHE_SIZE = VALIDATION_CACHE_SIZE = 1000
BAD_USER_INPUT = ErrorCode.BAD_USER_INPUT.value


def _is_internal(error: GraphQLError) -> bool:
    """Mask what is not the caller's to know: anything but domain errors, the GraphQL errors
    of parsing and validation (which have no original error) and variables that failed
    coercion."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, DomainError)
        and not _is_coercion_error(error)
    )


def _is_coercion_error(error: GraphQLError) -> bool:
    """A variable that failed coercion (a wrong type, an unparsable scalar): graphql-core
    reports it before execution (so without a path), wrapping the scalar's GraphQL error."""
    return error.path is None and isinstance(error.original_error, GraphQLError)


class CoercionErrorCodes(SchemaExtension):
    """Give variables that failed coercion the code of every other bad input."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            if _is_coercion_error(error):
                error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT}


class UserErrorInputPaths(SchemaExtension):
    """A query's bad input is a GraphQL error listing its userErrors: name their fields by
    input path, as mutation payloads do (services name them by domain path)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            if isinstance(error.original_error, InputError) and error.extensions:
                error.extensions = {
                    **error.extensions,
                    "userErrors": [
                        {**e, "field": input_path(e["field"])}
                        for e in error.extensions.get("userErrors", ())
                    ],
                }


def build_schema(
    settings: Settings,
    *,
    metrics: GraphQLMetrics | None = None,
    tracing: Tracing | None = None,
) -> strawberry.Schema:
    """The schema, with depth, alias and token limits, cached parsing and validation, and
    internal errors masked; with ``metrics`` or ``tracing``, operations are counted, timed
    and traced."""
    # Factories, so each request gets fresh extension instances; the parser and validation
    # caches are module-level LRUs in Strawberry, shared across requests all the same. The depth
    # and alias rules are built once here: the limiter extensions would build new rule classes
    # per request, and the validation cache, keyed by the rules, would then never hit.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, should_ignore=None),
        alias_rule(settings.max_aliases),
    ]
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(AddValidationRules, rules),
        partial(ParserCache, maxsize=PARSE_CACHE_SIZE),
        partial(ValidationCache, maxsize=VALIDATION_CACHE_SIZE),
        partial(MaskErrors, should_mask_error=_is_internal),
        CoercionErrorCodes,
        UserErrorInputPaths,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    if metrics is not None or tracing is not None:
        # Last: it leaves the operation first, seeing errors before MaskErrors hides them.
        extensions.append(partial(OperationObserver, metrics=metrics, tracing=tracing))
    return AccessPlaneSchema(
        query=RootQuery,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )
