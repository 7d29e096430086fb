"""Malformed IDs, unparsable date-times and ill-typed variables are answered clearly: a userError
on the input field in a mutation, BAD_USER_INPUT in a query, UNAUTHENTICATED first without a
credential, and nothing logged as an error.

The fields under test are found by walking the schema, so a new field that takes an ID or a
DateTime is covered without touching this file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)

from accessplane.models.base import utcnow
from accessplane.schema.build import build_schema
from accessplane.settings import Settings
from tests.support.graphql import Result
from tests.support.scenario import Scenario, World

SCHEMA: GraphQLSchema = build_schema(Settings(environment="test"))._schema

BAD_IDS = [
    "abc",
    "",
    "YWJj",  # base64 of "abc": no type name
    "😀",
    "x" * 1024,
    "V29ya3NwYWNlOm5vdC1hLXV1aWQ=",  # "Workspace:not-a-uuid"
]
BAD_DATETIMES = [
    "yesterday",
    "",
    "0000-01-01T00:00:00Z",
    "99999-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",  # past the end of the calendar in UTC
]
VALID_DATETIME = "2030-01-31T00:00:00Z"
PLUS_TWO = timezone(timedelta(hours=2))


def _holds(type_: GraphQLInputType, scalar: str, seen: frozenset[str] = frozenset()) -> bool:
    named = get_named_type(type_)
    if is_input_object_type(named):
        if named.name in seen:
            return False
        return any(_holds(f.type, scalar, seen | {named.name}) for f in named.fields.values())
    return named.name == scalar


@dataclass(frozen=True)
class Target:
    """A field with arguments holding ``scalar``, reached from the root (through
    ``workspace(id: $workspace)`` for the fields of Workspace)."""

    parent: str  # Query, Mutation or Workspace
    name: str
    field: GraphQLField

    def __str__(self) -> str:
        return f"{self.parent}.{self.name}"

    def names(self, scalar: str) -> set[str]:
        """The argument and input field names that hold ``scalar``."""
        found: set[str] = set()

        def walk(name: str, type_: GraphQLInputType) -> None:
            named = get_named_type(type_)
            if is_input_object_type(named):
                for field_name, field in named.fields.items():
                    walk(field_name, field.type)
            elif named.name == scalar:
                found.add(name)

        for name, argument in self.field.args.items():
            walk(name, argument.type)
        return found

    def operation(self) -> str:
        arguments = ", ".join(f"{n}: ${n}" for n in self.field.args)
        declared = ", ".join(f"${n}: {a.type}" for n, a in self.field.args.items())
        call = f"{self.name}({arguments})" if arguments else self.name
        selection = _selection(self.field)
        if self.parent == "Mutation":
            return f"mutation({declared}) {{ {call} {selection} }}"
        if self.parent == "Query":
            return f"query({declared}) {{ {call} {selection} }}"
        declared = ", ".join(filter(None, ["$workspace: ID!", declared]))
        return f"query({declared}) {{ workspace(id: $workspace) {{ {call} {selection} }} }}"

    def variables(
        self,
        *,
        id_value: Any,
        datetime_value: str,
        workspace: str,
        text_value: str | None = None,
    ) -> dict[str, Any]:
        """Required arguments, and every argument holding an ID or a DateTime (and a String
        when ``text_value`` is given) filled in."""
        sample = Sample(id_value, datetime_value, text_value)
        values = {
            name: sample.value(argument.type)
            for name, argument in self.field.args.items()
            if is_non_null_type(argument.type) or sample.fills(argument.type)
        }
        if self.parent == "Workspace":
            values["workspace"] = workspace
        return values


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLObjectType) and "userErrors" in named.fields:
        return "{ userErrors { field message code } }"
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    return "{ __typename }"


@dataclass(frozen=True)
class Sample:
    """Values for arguments: ``id_value`` in every ID, ``datetime_value`` in every DateTime,
    ``text_value`` (or "x") in every String."""

    id_value: Any
    datetime_value: str
    text_value: str | None

    def fills(self, type_: GraphQLInputType) -> bool:
        """Whether an optional argument or input field of ``type_`` is filled in."""
        return (
            _holds(type_, "ID")
            or _holds(type_, "DateTime")
            or (self.text_value is not None and _holds(type_, "String"))
        )

    def value(self, type_: GraphQLInputType) -> Any:
        if is_non_null_type(type_):
            type_ = type_.of_type
        if is_list_type(type_):
            return [self.value(type_.of_type)]
        named: GraphQLNamedType = type_  # type: ignore[assignment]
        if is_input_object_type(named):
            return {
                name: self.value(field.type)
                for name, field in named.fields.items()
                if (is_non_null_type(field.type) and field.default_value is Undefined)
                or self.fills(field.type)
            }
        if isinstance(named, GraphQLEnumType):
            return next(iter(named.values))
        return {
            "ID": self.id_value,
            "DateTime": self.datetime_value,
            "String": "x" if self.text_value is None else self.text_value,
            "Int": 1,
            "Float": 1.0,
            "Boolean": False,
        }.get(named.name)


def _targets(scalar: str) -> list[Target]:
    targets = []
    for parent in ("Query", "Mutation", "Workspace"):
        type_ = SCHEMA.get_type(parent)
        assert isinstance(type_, GraphQLObjectType)
        for name, field in type_.fields.items():
            if any(_holds(a.type, scalar) for a in field.args.values()):
                targets.append(Target(parent, name, field))
    return targets


# Fields on a node type, reached through an object the walk does not make, whose malformed
# DateTimes are tested with the field's own behaviour (the same BAD_DATETIMES and more).
COVERED_ELSEWHERE = {
    "AccessProfile.usageSeries": "test_usage.py::test_a_range_out_of_bounds_is_bad_user_input",
}

ID_TARGETS = _targets("ID")
DATETIME_TARGETS = _targets("DateTime")


def test_every_field_taking_an_id_is_reachable_by_these_tests() -> None:
    """Fields with ID arguments elsewhere than on Query, Mutation and Workspace would escape the
    walk above: teach ``Target.operation`` to reach them."""
    elsewhere = [
        f"{type_name}.{name}"
        for type_name, type_ in SCHEMA.type_map.items()
        if isinstance(type_, GraphQLObjectType)
        and not type_name.startswith("__")
        and type_name not in ("Query", "Mutation", "Workspace")
        for name, field in type_.fields.items()
        if any(_holds(a.type, "ID") or _holds(a.type, "DateTime") for a in field.args.values())
    ]
    assert elsewhere == list(COVERED_ELSEWHERE)
    assert len(ID_TARGETS) > 40
    assert {"Query.node", "Query.workspace", "Workspace.explainAccess"} <= {
        str(t) for t in ID_TARGETS
    }


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
async def world(scenario: Scenario) -> World:
    return await scenario.workspace()


@pytest.fixture
async def owner_key(scenario: Scenario, world: World) -> str:
    return await scenario.api_key(world, role="Owner")


def _assert_refused(target: Target, result: Result, scalar: str, code: str) -> None:
    """A userError on one of the fields holding ``scalar`` in a mutation; elsewhere the
    operation's error is BAD_USER_INPUT with the same userError in its extensions."""
    fields = target.names(scalar)
    if target.parent == "Mutation":
        user_errors = result.ok()[target.name]["userErrors"]
    else:
        assert result.error_codes == ["BAD_USER_INPUT"], result.errors
        user_errors = result.errors[0]["extensions"]["userErrors"]
    assert user_errors, result
    assert all(e["code"] == code and e["field"] in fields for e in user_errors), user_errors
    assert "Unexpected error." not in str(result.errors)


@pytest.mark.parametrize("target", ID_TARGETS, ids=str)
async def test_a_malformed_id_is_invalid_id_on_its_field(
    graphql, world: World, owner_key: str, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    for bad in BAD_IDS:
        variables = target.variables(
            id_value=bad, datetime_value=VALID_DATETIME, workspace=world.id
        )

        result = await graphql.as_key(owner_key).execute(target.operation(), **variables)

        _assert_refused(target, result, "ID", "INVALID_ID")
    assert _errors_logged(caplog) == []


# Workspace's fields are reached through workspace(id), which answers UNAUTHENTICATED itself.
@pytest.mark.parametrize("target", [t for t in ID_TARGETS if t.parent != "Workspace"], ids=str)
async def test_without_a_credential_a_malformed_id_is_unauthenticated_first(
    graphql, world: World, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    for bad in BAD_IDS:
        variables = target.variables(
            id_value=bad, datetime_value=VALID_DATETIME, workspace=world.id
        )

        result = await graphql.anonymous().execute(target.operation(), **variables)

        assert result.error_codes == ["UNAUTHENTICATED"], (bad, result.errors)
    assert _errors_logged(caplog) == []


@pytest.mark.parametrize("target", DATETIME_TARGETS, ids=str)
async def test_an_unparsable_datetime_is_refused_on_its_field(
    graphql, world: World, owner_key: str, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    for bad in BAD_DATETIMES:
        variables = target.variables(id_value=world.id, datetime_value=bad, workspace=world.id)

        result = await graphql.as_key(owner_key).execute(target.operation(), **variables)

        _assert_refused(target, result, "DateTime", "INVALID")
    assert _errors_logged(caplog) == []


@pytest.mark.parametrize(
    "target", [t for t in DATETIME_TARGETS if t.parent != "Workspace"], ids=str
)
async def test_without_a_credential_an_unparsable_datetime_is_unauthenticated_first(
    graphql, world: World, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    for bad in BAD_DATETIMES:
        variables = target.variables(id_value=world.id, datetime_value=bad, workspace=world.id)

        result = await graphql.anonymous().execute(target.operation(), **variables)

        assert result.error_codes == ["UNAUTHENTICATED"], (bad, result.errors)
    assert _errors_logged(caplog) == []


TEXT_TARGETS = _targets("String")
UNSTORABLE_TEXTS = ["a\x00b", "\ud800", "x\udfffy"]  # NUL; unpaired surrogates


async def _post_ascii(
    http: httpx.AsyncClient, token: str | None, query: str, variables: dict[str, Any]
) -> Result:
    """Over HTTP with the JSON escaped to ASCII: an unpaired surrogate cannot be UTF-8."""
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    return Result(data=answer.get("data"), errors=answer.get("errors") or [])


@pytest.mark.parametrize("target", TEXT_TARGETS, ids=str)
async def test_text_no_database_can_store_is_refused_on_its_field(
    http: httpx.AsyncClient,
    world: World,
    owner_key: str,
    target: Target,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for bad in UNSTORABLE_TEXTS:
        variables = target.variables(
            id_value=world.id,
            datetime_value=VALID_DATETIME,
            workspace=world.id,
            text_value=bad,
        )

        result = await _post_ascii(http, owner_key, target.operation(), variables)

        _assert_refused(target, result, "String", "INVALID")
    assert _errors_logged(caplog) == []


def test_the_datetime_inputs_are_found() -> None:
    assert {str(t) for t in DATETIME_TARGETS} >= {
        "Mutation.createApiAccess",
        "Mutation.regenerateApiAccess",
        "Workspace.auditEvents",
    }


CREATE_API_ACCESS = """
mutation($input: CreateApiAccessInput!) {
  createApiAccess(input: $input) { token userErrors { field message code } }
}"""


async def test_create_api_access_with_expires_at_yesterday(
    graphql, world: World, owner_key: str
) -> None:
    result = await graphql.as_key(owner_key).execute(
        CREATE_API_ACCESS,
        input={
            "workspaceId": world.id,
            "name": "ci",
            "roleId": world.role_id("Viewer"),
            "expiresAt": "yesterday",
        },
    )

    assert result.user_errors("createApiAccess") == [
        {
            "field": "expiresAt",
            "message": "Not a valid date and time: use an ISO 8601 date and time such as "
            "2030-01-31T00:00:00Z.",
            "code": "INVALID",
        }
    ]
    assert result.ok()["createApiAccess"]["token"] is None


async def test_a_valid_expiry_still_creates_the_key(graphql, world: World, owner_key: str) -> None:
    result = await graphql.as_key(owner_key).execute(
        CREATE_API_ACCESS,
        input={
            "workspaceId": world.id,
            "name": "ci",
            "roleId": world.role_id("Viewer"),
            "expiresAt": (utcnow() + timedelta(days=30)).astimezone(PLUS_TWO).isoformat(),
        },
    )

    assert result.payload("createApiAccess")["token"].startswith("apk_")


async def test_an_unparsable_datetime_literal_is_a_clear_error(
    graphql, world: World, owner_key: str
) -> None:
    result = await graphql.as_key(owner_key).execute(
        'query($id: ID!) { workspace(id: $id) { auditEvents(filter: {since: "yesterday"}) '
        "{ totalCount } } }",
        id=world.id,
    )

    assert result.data is None
    assert "Not a valid date and time" in result.errors[0]["message"]


@pytest.mark.parametrize(
    "input_",
    [
        {"workspaceId": "W", "name": 5, "identifier": "orders"},  # a number for a String
        {"workspaceId": "W", "name": "Orders", "identifier": ["orders"]},  # a list
        {"workspaceId": "W", "name": None, "identifier": "orders"},  # null for String!
        {"workspaceId": "W", "name": "Orders", "identifier": "orders", "nope": 1},
        {"workspaceId": 1.5, "name": "Orders", "identifier": "orders"},  # a float for an ID
    ],
    ids=["number", "list", "null", "unknown-field", "float-id"],
)
async def test_a_variable_that_fails_coercion_is_bad_user_input(
    graphql, world: World, owner_key: str, input_: dict[str, Any], caplog
) -> None:
    input_ = {k: world.id if v == "W" else v for k, v in input_.items()}

    result = await graphql.as_key(owner_key).execute(
        "mutation($input: CreateApiInput!) { createApi(input: $input) { api { id } } }",
        input=input_,
    )

    assert result.data is None
    assert set(result.error_codes) == {"BAD_USER_INPUT"}
    assert all("$input" in e["message"] for e in result.errors)
    assert _errors_logged(caplog) == []


async def test_a_malformed_id_in_a_list_filter_names_the_filter_field(
    graphql, world: World, owner_key: str
) -> None:
    result = await graphql.as_key(owner_key).execute(
        "query($id: ID!, $roles: [ID!]) { workspace(id: $id) "
        "{ apiAccesses(filter: {roleIds: $roles}) { totalCount } } }",
        id=world.id,
        roles=[world.role_id("Viewer"), "abc"],
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    [user_error] = result.errors[0]["extensions"]["userErrors"]
    assert user_error == {
        "field": "roleIds",
        "message": "The ID is malformed.",
        "code": "INVALID_ID",
    }
