"""The permission and tenancy matrix's building blocks: the operations found by walking the
executable schema (every mutation, every field that declares a permission), a GraphQL document
for each, the callers that must be refused, and a snapshot of the whole database to show that a
refusal wrote nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from accessplane.auth.permissions import Permission
from accessplane.schema.build import build_schema
from accessplane.schema.permissions import Requires, declared_checks
from accessplane.services.roles import PermissionSpec
from accessplane.settings import Settings
from tests.support.scenario import Person, Scenario, World

SCHEMA: GraphQLSchema = build_schema(Settings(environment="test"))._schema  # what clients see

# Makes what an operation needs in ``world`` (through the real services) and returns its
# variables; for a field of a node type, ``id`` is the node the field is read on.
Factory = Callable[[Scenario, World], Awaitable[dict[str, Any]]]

# Types that are no Node, read where they are listed on the workspace ``$id`` (its first row),
# with the path to the row in the answer.
NESTED: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "Call": ("calls(first: 1) {{ edges {{ node {{ {call} }} }} }}", ("calls", "edges", 0, "node")),
}


@dataclass(frozen=True)
class Entry:
    """How to call one operation with valid variables. Every operation on an object answers
    NOT_FOUND (an error, no data) for another workspace's; ``foreign`` is False for those that
    act on none."""

    factory: Factory
    foreign: bool = True
    # The refused member must first belong to the client ``id`` to see it at all.
    joins_client: bool = False


class Case(StrEnum):
    ALLOWED = "allowed"  # the workspace's owner: shows the variables are valid
    ANONYMOUS = "anonymous"  # no credential: UNAUTHENTICATED
    FORBIDDEN = "forbidden"  # a member whose role holds everything but the permission
    FOREIGN = "another-workspace"  # the owner of another workspace: NOT_FOUND


@dataclass(frozen=True)
class Operation:
    """A mutation or a protected field, named ``Type.field``."""

    type_name: str
    field_name: str
    field: GraphQLField

    @property
    def name(self) -> str:
        return f"{self.type_name}.{self.field_name}"

    @property
    def permissions(self) -> set[Permission]:
        """Every permission that satisfies the declaration (empty: any authenticated caller)."""
        checks = [c for c in declared_checks(self.field) if isinstance(c, Requires)]
        return {p for check in checks for p in check.permissions}

    def document(self) -> str:
        """A request for the operation alone; ``$id`` is the workspace or the node it is read
        on, every argument of the field is a variable of the same name."""
        arguments = dict(self.field.args)
        call = _call(self.field_name, self.field, arguments)
        declared = [f"${n}: {a.type}" for n, a in arguments.items()]
        if self.type_name == "Mutation":
            return f"mutation Matrix({', '.join(declared)}) {{ {call} }}"
        if self.type_name == "Query":
            head = f"({', '.join(declared)})" if declared else ""
            return f"query Matrix{head} {{ {call} }}"
        outer = "$id: ID!"
        if self.type_name == "Workspace":
            body = f"workspace(id: $id) {{ {call} }}"
        elif self.type_name in NESTED:
            body = f"workspace(id: $id) {{ {NESTED[self.type_name][0].format(call=call)} }}"
        else:
            body = f"node(id: $id) {{ ... on {self.type_name} {{ {call} }} }}"
        return f"query Matrix({', '.join([outer, *declared])}) {{ {body} }}"

    def value(self, data: dict[str, Any] | None) -> Any:
        """The operation's value in a request's data: the root field's, or the field's on the
        workspace or node (None when that is null itself)."""
        if self.type_name in ("Mutation", "Query"):
            return (data or {}).get(self.field_name)
        nested = self.type_name in NESTED
        parent = (data or {}).get(
            "workspace" if self.type_name == "Workspace" or nested else "node"
        )
        for step in NESTED[self.type_name][1] if nested else ():
            if not parent:
                return None
            parent = parent[step]
        return parent.get(self.field_name) if parent else None


def _call(name: str, field: GraphQLField, arguments: dict[str, Any]) -> str:
    passed = ", ".join(f"{n}: ${n}" for n in arguments)
    named = get_named_type(field.type)
    if is_leaf_type(named):
        selection = ""
    elif isinstance(named, GraphQLObjectType) and "userErrors" in named.fields:
        selection = "{ userErrors { field code } }"
    else:
        selection = "{ __typename }"
    return f"{name}{f'({passed})' if passed else ''} {selection}".strip()


def operations() -> list[Operation]:
    """Every mutation, and every field of any object type that declares a permission."""
    found: list[Operation] = []
    for type_name, graphql_type in sorted(SCHEMA.type_map.items()):
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for name, field in graphql_type.fields.items():
            if type_name == "Mutation" or declared_checks(field):
                found.append(Operation(type_name, name, field))
    return found


async def lacking(scenario: Scenario, world: World, permissions: set[Permission]) -> Person:
    """A member of ``world`` whose role holds every permission but ``permissions``, and every
    API, so nothing but the missing permission stands in the way."""
    held = [PermissionSpec(p.value) for p in Permission if p not in permissions]
    name = "Lacks " + ", ".join(sorted(p.value for p in permissions))
    await scenario.custom_role(world, name, held, all_apis=True)
    return await scenario.member(world, name)


async def snapshot(session: AsyncSession) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as sorted text: equal snapshots mean nothing was written."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        rows = (await session.execute(select(table))).all()
        tables[table.name] = sorted(tuple(map(str, row)) for row in rows)
    await session.commit()  # the next snapshot sees what requests committed meanwhile
    return tables
