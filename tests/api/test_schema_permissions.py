"""Every mutation and every Workspace field declares the permission it needs."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.permission import PermissionExtension

from accessplane.schema.build import build_schema
from accessplane.schema.permissions import Authenticated, Requires
from accessplane.settings import Settings

# Plain attributes of the workspace itself, readable by every member of it.
WORKSPACE_ATTRIBUTES = {"id", "name", "slug", "createdAt"}
# Open to any authenticated caller; the service limits it to the caller's own.
OPEN_MUTATIONS = {"createWorkspace"}


def declared_permissions(type_name: str) -> dict[str, list[Any]]:
    """GraphQL field name -> the permission checks declared on it."""
    schema = build_schema(Settings(environment="test"))
    graphql_type = schema._schema.get_type(type_name)  # the executable schema clients see
    assert graphql_type is not None
    result: dict[str, list[Any]] = {}
    for name, field in graphql_type.fields.items():  # type: ignore[attr-defined]
        definition = field.extensions["strawberry-definition"]
        result[name] = [
            permission
            for extension in definition.extensions
            if isinstance(extension, PermissionExtension)
            for permission in extension.permissions
            if isinstance(permission, Requires | Authenticated)
        ]
    return result


@pytest.mark.parametrize("type_name", ["Mutation", "Query"])
def test_every_root_field_declares_a_permission(type_name: str) -> None:
    undeclared = [name for name, checks in declared_permissions(type_name).items() if not checks]
    assert undeclared == []


def test_every_mutation_names_a_specific_permission() -> None:
    vague = [
        name
        for name, checks in declared_permissions("Mutation").items()
        if name not in OPEN_MUTATIONS and not any(isinstance(c, Requires) for c in checks)
    ]
    assert vague == []


def test_every_workspace_field_names_a_specific_permission() -> None:
    undeclared = [
        name
        for name, checks in declared_permissions("Workspace").items()
        if name not in WORKSPACE_ATTRIBUTES and not any(isinstance(c, Requires) for c in checks)
    ]
    assert undeclared == []
