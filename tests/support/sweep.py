"""The sweep's building blocks: every operation of the served schema as a GraphQL document with
variables, Hypothesis strategies for those variables, and the rules an answer must keep.

The operations come from introspecting the schema the app serves, so a new query field,
``Workspace`` field or mutation is swept without anyone listing it. Argument values are drawn
from the argument types: global IDs of the right and wrong types, of another workspace and
malformed; empty, huge, unicode and control-character strings; extreme integers; odd
DateTimes; empty and long lists; nested inputs; nulls where allowed; and, now and then, a value
of the wrong JSON type. Some examples are plausible instead (IDs of the right type, realistic
strings, small numbers), so that the code behind input validation runs too.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Undefined
from hypothesis import strategies as st
from sqlalchemy import select, true

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Context
from accessplane.db.session import request_sessions
from accessplane.schema.build import build_schema
from accessplane.services import access_requests, roles
from accessplane.settings import Settings
from accessplane.signin.authenticate import principal_for_user
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Person, Scenario, World, gid

UNEXPECTED = "Unexpected error."

# How deep a result selection goes (a connection needs three levels to reach its nodes' fields)
# and how wide each level is: enough to run the resolvers of the result, not to fetch it all.
SELECTION_DEPTH = 3
SCALARS_PER_LEVEL = 8
OBJECTS_PER_LEVEL = 3

# Bounds of the "huge" and "long" values: far past every documented limit. A long list of huge
# strings can pass the request body limit too, which is answered clearly (413).
HUGE_STRING = 20_000
LONG_LIST = 150

# Malformed global IDs: not base64, base64 without a colon, an emoji, 1 KB of text, and
# well-formed ones naming no type or holding no UUID.
MALFORMED_IDS = [
    "abc",
    "",
    "YWJj",
    "🙂",
    "x" * 1024,
    "=",
    base64.b64encode(b"Api:not-a-uuid").decode(),
    base64.b64encode(b"NoSuchType:" + str(uuid.UUID(int=1)).encode()).decode(),
    base64.b64encode(b":").decode(),
    base64.b64encode("Api:🙂".encode()).decode(),
]


def served_schema() -> GraphQLSchema:
    """The schema the app serves, as a client sees it through introspection."""
    schema = build_schema(Settings(environment="test"))
    return build_client_schema(schema.introspect())  # type: ignore[arg-type]


# -- operations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    """One variable of an operation: its GraphQL name, type and a hint of what it holds."""

    name: str
    type: GraphQLInputType
    hint: str  # for an ID, the node type it should name; otherwise the argument's name


@dataclass(frozen=True)
class Operation:
    """One root query field, ``Workspace`` field or mutation, ready to send."""

    name: str  # "Query.node", "Workspace.apis", "Mutation.createApi"
    document: str
    arguments: tuple[Argument, ...]
    # Workspace fields run inside ``workspace(id: $sweepWorkspaceId)``: the populated one.
    in_workspace: bool = False

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Hypothesis prints a failing case's arguments with this."""
        printer.text(self.name)


WORKSPACE_VARIABLE = "sweepWorkspaceId"


def operations(schema: GraphQLSchema) -> list[Operation]:
    """Every root query field, every field of ``Workspace`` and every mutation."""
    node_types = _node_types(schema)
    found: list[Operation] = []
    query = schema.query_type
    assert query is not None
    for name, graphql_field in query.fields.items():
        arguments = _arguments(graphql_field, name, node_types)
        call = _call(schema, name, graphql_field, arguments)
        found.append(
            Operation(
                name=f"Query.{name}",
                document=_document("query", arguments, call),
                arguments=arguments,
            )
        )
    workspace = schema.get_type("Workspace")
    assert isinstance(workspace, GraphQLObjectType)
    for name, graphql_field in workspace.fields.items():
        arguments = _arguments(graphql_field, name, node_types)
        call = _call(schema, name, graphql_field, arguments)
        outer = Argument(WORKSPACE_VARIABLE, GraphQLNonNull(_id_type(schema)), "Workspace")
        found.append(
            Operation(
                name=f"Workspace.{name}",
                document=_document(
                    "query",
                    (outer, *arguments),
                    f"workspace(id: ${WORKSPACE_VARIABLE}) {{ id {call} }}",
                ),
                arguments=arguments,
                in_workspace=True,
            )
        )
    mutation = schema.mutation_type
    assert mutation is not None
    for name, graphql_field in mutation.fields.items():
        arguments = _arguments(graphql_field, name, node_types)
        call = _call(schema, name, graphql_field, arguments)
        found.append(
            Operation(
                name=f"Mutation.{name}",
                document=_document("mutation", arguments, call),
                arguments=arguments,
            )
        )
    return found


def _id_type(schema: GraphQLSchema) -> GraphQLScalarType:
    id_type = schema.get_type("ID")
    assert isinstance(id_type, GraphQLScalarType)
    return id_type


def _node_types(schema: GraphQLSchema) -> list[str]:
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return [t.name for t in schema.get_implementations(node).objects]


def _arguments(
    graphql_field: GraphQLField, field_name: str, node_types: list[str]
) -> tuple[Argument, ...]:
    return tuple(
        Argument(name, argument.type, id_hint(name, field_name, node_types))
        for name, argument in graphql_field.args.items()
    )


def _document(kind: str, arguments: Sequence[Argument], body: str) -> str:
    declared = ", ".join(f"${a.name}: {a.type}" for a in arguments)
    return f"{kind} Sweep{f'({declared})' if declared else ''} {{ {body} }}"


def _call(
    schema: GraphQLSchema,
    name: str,
    graphql_field: GraphQLField,
    arguments: Sequence[Argument],
) -> str:
    passed = ", ".join(f"{a.name}: ${a.name}" for a in arguments)
    result = selection(graphql_field.type, schema=schema)
    return f"{name}{f'({passed})' if passed else ''} {result}".strip()


def selection(
    graphql_type: Any,
    depth: int = SELECTION_DEPTH,
    schema: GraphQLSchema | None = None,
    alias: str = "",
    conflicting: frozenset[str] = frozenset(),
) -> str:
    """A few fields of a result: scalars first (``userErrors`` of payloads always), then a few
    nested objects while ``depth`` lasts; fields that require arguments are left out. An
    interface gets the scalars of each of its types (``schema`` tells which they are); a field
    name two of them give different types (``status``, ``kind``) is aliased by its type, as
    GraphQL requires."""
    named = get_named_type(graphql_type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):
        return "{ __typename }"
    if isinstance(named, GraphQLInterfaceType):
        implementations = schema.get_implementations(named).objects if schema else []
        types: dict[str, set[str]] = {}
        for t in implementations:
            for field_name, field in t.fields.items():
                types.setdefault(field_name, set()).add(str(field.type))
        conflicting = frozenset(n for n, seen in types.items() if len(seen) > 1)
        fragments = [
            f"... on {t.name} {selection(t, 1, alias=t.name, conflicting=conflicting)}"
            for t in implementations
        ]
        return f"{{ __typename {' '.join(fragments)} }}"
    assert isinstance(named, GraphQLObjectType)
    scalars: list[str] = []
    objects: list[str] = []
    for name, graphql_field in named.fields.items():
        if any(
            is_non_null_type(a.type) and a.default_value is Undefined
            for a in graphql_field.args.values()
        ):
            continue
        inner = get_named_type(graphql_field.type)
        if is_leaf_type(inner):
            scalars.append(f"{alias}_{name}: {name}" if name in conflicting else name)
        elif name == "userErrors":
            objects.insert(0, f"{name} {selection(graphql_field.type, 1)}")
        elif depth > 1:
            nested = selection(graphql_field.type, depth - 1, schema)
            if nested:
                objects.append(f"{name} {nested}")
    chosen = scalars[:SCALARS_PER_LEVEL] + objects[:OBJECTS_PER_LEVEL]
    return f"{{ {' '.join(chosen)} }}" if chosen else ""


# Argument names whose node type is not their capitalised stem.
_ID_STEMS = {"people": "Member", "actor": "Member", "product": "ApiProduct", "target": ""}


def id_hint(name: str, owner: str, node_types: list[str]) -> str:
    """What an argument holds: for ``xId``/``xIds`` the node type ``X``; for a bare ``id`` the
    node type its input or field is about (the longest type name inside ``owner``); otherwise
    the argument's own name, which picks realistic strings."""
    stem = re.sub(r"Ids?$", "", name)
    if name in ("id", "ids"):
        candidates = [t for t in node_types if t.lower() in owner.lower()]
        return max(candidates, key=len) if candidates else ""
    if stem != name and stem:
        if stem in _ID_STEMS:
            return _ID_STEMS[stem]
        matches = [t for t in node_types if t.lower() == stem.lower()]
        return matches[0] if matches else ""
    return name


# -- the populated world ----------------------------------------------------------------------


@dataclass
class IdPool:
    """Global IDs of a populated workspace by node type, and of another workspace."""

    ours: dict[str, list[str]] = field(default_factory=dict)
    theirs: list[str] = field(default_factory=list)
    permission_names: list[str] = field(default_factory=list)

    def add(self, type_name: str, pk: uuid.UUID, *, other: bool = False) -> None:
        if other:
            self.theirs.append(gid(type_name, pk))
        else:
            self.ours.setdefault(type_name, []).append(gid(type_name, pk))

    def right_ids(self, hint: str) -> st.SearchStrategy[str]:
        """IDs of the hinted type (any of ours without a hint)."""
        if self.ours.get(hint):
            return st.sampled_from(self.ours[hint])
        return st.sampled_from([i for values in self.ours.values() for i in values])

    def ids(self, hint: str) -> st.SearchStrategy[str]:
        """Right type first (what shrinking tends to), then any type of ours, another
        workspace's, unknown UUIDs and malformed text."""
        everything = [i for values in self.ours.values() for i in values]
        choices: list[st.SearchStrategy[str]] = []
        if self.ours.get(hint):
            choices.append(st.sampled_from(self.ours[hint]))
        choices.append(st.sampled_from(everything))
        if self.theirs:
            choices.append(st.sampled_from(self.theirs))
        choices.append(st.uuids().map(lambda u: gid(hint or "Api", u)))
        choices.append(st.sampled_from(MALFORMED_IDS))
        return st.one_of(choices)


# The models behind the node types whose IDs the sweep draws (Workspace apart).
NODE_MODELS: list[Any] = [
    models.Member,
    models.Role,
    models.Group,
    models.Api,
    models.ApiAccess,
    models.Client,
    models.ApiProduct,
    models.Plan,
    models.AccessProfile,
    models.AccessRequest,
    models.AuditEvent,
]
# The Owner's key acts for the sweep: it stays out of the pool, so deleteApiAccesses cannot
# lock the sweep out.
OWNER_KEY = "sweep-owner"


@dataclass(repr=False)
class Populated:
    """A workspace with one or more of everything, the callers of the sweep and the IDs to
    draw from."""

    world: World
    owner_token: str
    nobody: Person
    pool: IdPool

    def __repr__(self) -> str:
        return f"Populated({self.world.workspace.name})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


async def populate(scenario: Scenario) -> Populated:
    """Build the world the sweep runs in, through the real services."""
    world = await scenario.workspace()
    owner_token = await scenario.api_key(world, "Owner", name=OWNER_KEY)
    await scenario.custom_role(world, "Nothing", [])
    await scenario.custom_role(
        world,
        "Key maker",
        [
            roles.PermissionSpec(Permission.CREATE_API_ACCESS, name_pattern="^sweep-.*$"),
            roles.PermissionSpec(Permission.GET_ROLE),
        ],
    )
    nobody = await scenario.member(world, "Nothing")
    developer = await scenario.member(world, "Developer")
    await scenario.member(world, "Viewer")
    team = await scenario.group(world, people=[developer])
    await scenario.group(world)
    billing, _, _ = [await scenario.api(world) for _ in range(3)]
    await scenario.grant(world, billing, people=[developer], groups=[team])
    for tags in (["team:a"], ["team:b", "prod"]):
        await scenario.api_access(world, tags=tags)
    client = await scenario.client(world)
    await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    catalogue = await scenario.product(world, apis=[billing])
    await scenario.product(world, published=False)
    plan = await scenario.plan(world)
    await scenario.plan(world, auto_approve=True)
    app = await scenario.app(world, client, products=[catalogue])
    await scenario.app(world, client)
    await access_requests.submit_access_request(
        session=scenario.session,
        actor=consumer.principal,
        secret=scenario.secret,
        product_ids=[catalogue.id],
        plan_id=plan.id,
        access_profile_id=app.access_profile.id,
    )

    other = await scenario.workspace()
    other_client = await scenario.client(other)
    other_api = await scenario.api(other)
    await scenario.member(other)
    await scenario.group(other)
    await scenario.api_access(other)
    await scenario.product(other, apis=[other_api])
    await scenario.plan(other)
    await scenario.app(other, other_client)

    pool = IdPool(permission_names=[p.value for p in Permission])
    workspaces = {world.workspace.id: False, other.workspace.id: True}
    for workspace_id, theirs in workspaces.items():
        pool.add("Workspace", workspace_id, other=theirs)
    for model in NODE_MODELS:
        rows = await scenario.session.execute(
            select(model.id, model.workspace_id).where(
                model.workspace_id.in_(list(workspaces)),
                model.name != OWNER_KEY if model is models.ApiAccess else true(),
            )
        )
        for row_id, workspace_id in rows.all():
            pool.add(model.__name__, row_id, other=workspaces[workspace_id])
    await scenario.session.commit()  # holds no snapshot or lock while the sweep runs
    return Populated(world, owner_token, nobody, pool)


# -- values -----------------------------------------------------------------------------------

_NOW = datetime.now(UTC)
DATETIMES = [
    (_NOW + timedelta(days=30)).isoformat(),
    (_NOW + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    (_NOW - timedelta(days=1)).isoformat(),
    "2000-01-01T00:00:00Z",
    "yesterday",
    "0000-01-01T00:00:00Z",
    "99999-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2030-01-01",
    "2030-01-01T00:00:00",
    "",
]

# The identity provider the sweep's settings trust.
SWEEP_ISSUER = "https://idp.example.com"

# Realistic strings by argument name, so that some inputs pass validation and reach the deeper
# code; each list mixes good and bad values. The values that only cost time (catastrophic
# patterns, huge template arithmetic) are the liveness tests' business, not the sweep's.
_REALISTIC: dict[str, list[str]] = {
    "email": ["sweep@example.com", "Sweep@Example.COM", "not-an-email", "a@b", "@"],
    "name": ["Sweep", "Équipe", "sweep-key", "  padded  "],
    "identifier": ["sweep-api", "Bad Identifier!", "UPPER"],
    "slug": ["sweep-space", "BAD SLUG", "-"],
    "baseUrl": ["https://api.example.com", "ftp://example.com", "not a url"],
    "logoUrl": ["https://example.com/logo.png", "javascript:alert(1)", "http://127.0.0.1:1/x"],
    "trustedIssuer": [SWEEP_ISSUER, "not a url"],
    "issuer": [SWEEP_ISSUER, "https://other.example.com", "not a url"],
    "namePattern": ["^sweep-.*$", "[", "(?P<x>", "a{2,1}", ""],
    "allowedIps": ["10.0.0.0/8", "::1", "203.0.113.7", "300.1.1.1", "10.0.0.0/33", "a,b"],
    "subject": ["{{ workspace }}", "Access {{ status }}", "{{", "{% if %}", "{{ 9 ** 9 }}"],
    "confirmation": ["REVOKE", "revoke", "REVOKE "],
    "start": ["09:00", "25:00", "9", "23:59:60"],
    "end": ["17:00", "00:00", "24:00", "noon"],
    "timeZone": ["UTC", "Europe/Paris", "Mars/Olympus", "../../etc/passwd"],
    "tags": ["team:a", "Team:A", "a,b"],
    "requiredScopes": ["read", "read write", ""],
    "audience": ["https://api.example.com", "aud"],
    "tokenClientId": ["client-1", "client 1"],
    "clientId": ["client-1", ""],
    "claimValues": ["admins", "Admins"],
    "action": ["createApi", "deleteApiAccesses", "nope"],
    "targetType": ["Api", "ApiAccess", "nope"],
    "search": ["sweep", "%", "_", "\\"],
    "reason": ["Because.", ""],
}

_ODD_STRINGS = ["\ud800", "a\x00b", "\x00", "Ω≈ç√", "👩‍💻", "ǅ", "ß", "İ", "\u202e", " "]


def cursors() -> st.SearchStrategy[str]:
    """Pagination cursors: garbage, and well-formed ones holding values of any JSON type."""
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
        lambda children: st.lists(children, max_size=3),
        max_leaves=4,
    )
    well_formed = st.lists(json_values, max_size=3).map(
        lambda values: base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    )
    return st.one_of(well_formed, st.sampled_from(["", "abc", "=", "🙂", "W10", "bnVsbA"]))


def strings(hint: str) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = []
    if hint == "after":
        choices.append(cursors())
    if hint in _REALISTIC:
        choices.append(st.sampled_from(_REALISTIC[hint]))
    choices += [
        st.just(""),
        st.text(max_size=40),
        st.text(st.characters(categories=["Cc"]), min_size=1, max_size=8),
        st.sampled_from(_ODD_STRINGS),
        st.integers(1_000, HUGE_STRING).map(lambda n: "x" * n),
    ]
    return st.one_of(choices)


def plausible_strings(hint: str) -> st.SearchStrategy[str]:
    """A realistic value for the argument, or short plain text for an argument without any."""
    if hint in _REALISTIC:
        return st.sampled_from(_REALISTIC[hint])
    return st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=16)


def ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([1, 0, -1, 2, 100, 2**31 - 1, -(2**31)]),
        st.integers(-(10**6), 10**6),
        st.sampled_from([2**31, -(2**31) - 1, 2**53, 10**20]),
    )


# A value of the wrong JSON type for each kind of input: GraphQL must refuse it clearly.
MISTYPED: list[Any] = ["1", 1, 1.5, True, [], {}, {"a": 1}, ["a"]]


@dataclass
class Values:
    """Strategies for the variables of operations, over one world's IDs."""

    pool: IdPool
    schema: GraphQLSchema
    # Plausible values (IDs of the right type, realistic strings, small numbers) reach the
    # code behind validation; wild ones test validation itself.
    wild: bool = True

    def variables(self, operation: Operation) -> st.SearchStrategy[dict[str, Any]]:
        """The variables of one call: three in eight times plausible, four in eight wild, one
        in eight with a value of the wrong JSON type at the top."""
        arguments = operation.arguments
        if not arguments:
            return st.just({})
        fields = {a.name: (a.type, a.hint) for a in arguments}
        plausible = replace(self, wild=False)._object(fields)
        wild = self._object(fields)
        mistyped = st.tuples(wild, st.sampled_from(arguments), st.sampled_from(MISTYPED)).map(
            lambda t: {**t[0], t[1].name: t[2]}
        )
        return st.integers(0, 7).flatmap(
            lambda i: plausible if i < 3 else mistyped if i == 7 else wild
        )

    def _object(
        self, fields: dict[str, tuple[GraphQLInputType, str]]
    ) -> st.SearchStrategy[dict[str, Any]]:
        required: dict[str, st.SearchStrategy[Any]] = {}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        for name, (graphql_type, hint) in fields.items():
            strategy = self.value(graphql_type, hint)
            if is_non_null_type(graphql_type):
                required[name] = strategy
            else:
                optional[name] = strategy
        return st.fixed_dictionaries(required, optional=optional)

    def value(self, graphql_type: GraphQLInputType, hint: str) -> st.SearchStrategy[Any]:
        if isinstance(graphql_type, GraphQLNonNull):
            return self._non_null(graphql_type.of_type, hint)
        return st.one_of(self._non_null(graphql_type, hint), st.none())

    def _non_null(self, graphql_type: GraphQLInputType, hint: str) -> st.SearchStrategy[Any]:
        if isinstance(graphql_type, GraphQLList):
            item = self.value(graphql_type.of_type, hint)
            if not self.wild:
                return st.lists(item, max_size=3)
            return st.one_of(
                st.lists(item, max_size=3),
                st.just([]),
                st.tuples(item, st.integers(LONG_LIST // 2, LONG_LIST)).map(
                    lambda t: [t[0]] * t[1]
                ),
            )
        if isinstance(graphql_type, GraphQLInputObjectType):
            node_types = _node_types(self.schema)
            return self._object(
                {
                    name: (f.type, id_hint(name, graphql_type.name, node_types))
                    for name, f in graphql_type.fields.items()
                }
            )
        if isinstance(graphql_type, GraphQLEnumType):
            return st.sampled_from(list(graphql_type.values))
        assert isinstance(graphql_type, GraphQLScalarType), graphql_type
        return self._scalar(graphql_type.name, hint)

    def _scalar(self, name: str, hint: str) -> st.SearchStrategy[Any]:
        if name == "ID":
            return self.pool.ids(hint) if self.wild else self.pool.right_ids(hint)
        if name == "String":
            if hint == "name" and self.pool.permission_names:
                names = st.sampled_from(self.pool.permission_names)
                return st.one_of(names, strings(hint) if self.wild else plausible_strings(hint))
            return strings(hint) if self.wild else plausible_strings(hint)
        if name == "Int":
            return ints() if self.wild else st.integers(1, 1000)
        if name == "Float":
            return st.floats(allow_nan=False, allow_infinity=False)
        if name == "Boolean":
            return st.booleans()
        if name == "DateTime":
            return st.sampled_from(DATETIMES if self.wild else DATETIMES[:2])
        if name == "Upload":
            # A JSON request cannot carry a file: whatever stands in for one must be refused.
            return st.sampled_from(["not a file", "", "x" * 1024])
        if name == "JSON":
            return st.one_of(st.none(), st.integers(), st.text(max_size=8))
        raise AssertionError(f"no strategy for the scalar {name}")


# -- answers ----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What one caller got: the HTTP status (None in process) and the body."""

    caller: str
    status: int | None
    body: Any

    def problems(self) -> list[str]:
        """What breaks the rules: a 5xx, a body that is not a JSON object, "Unexpected
        error.", an error without ``extensions.code``."""
        found: list[str] = []
        if self.status is not None and self.status >= 500:
            found.append(f"HTTP {self.status}")
        if not isinstance(self.body, dict):
            if self.status is None or self.status < 400:
                found.append(f"the body is not a JSON object: {_short(self.body)}")
            return found
        for error in self.body.get("errors") or []:
            message = error.get("message") if isinstance(error, dict) else error
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if message == UNEXPECTED:
                found.append(f"{UNEXPECTED!r} at {error.get('path')}")
            elif code is None:
                found.append(f"no extensions.code: {_short(message)}")
        return found


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


@dataclass(repr=False)
class Callers:
    """The sweep's three callers against the app: the Owner (an API key, over HTTP), the
    member without permissions (in process, as a console session acts) and no credential
    (over HTTP)."""

    populated: Populated
    graphql: GraphQLClient
    http: httpx.AsyncClient

    def __repr__(self) -> str:
        return repr(self.populated)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    async def answers(self, document: str, variables: dict[str, Any]) -> list[Answer]:
        return [
            await self.over_http("Owner", document, variables, self.populated.owner_token),
            await self.as_member(document, variables),
            await self.over_http("no credential", document, variables, None),
        ]

    async def over_http(
        self, caller: str, document: str, variables: dict[str, Any], token: str | None
    ) -> Answer:
        """POST the operation as a client would; the body is encoded here (ASCII JSON) so
        that lone surrogates travel as escapes, as any JSON encoder may send them."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql",
            content=json.dumps({"query": document, "variables": variables}),
            headers=headers,
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Answer(caller, response.status_code, body)

    async def as_member(self, document: str, variables: dict[str, Any]) -> Answer:
        """The member without permissions; the principal is read afresh for each request, as
        for a console session (the Owner may have changed the member's role meanwhile)."""
        async with request_sessions(self.graphql.engine)() as session:
            principal = await principal_for_user(session, self.populated.nobody.user)
            context = Context(session=session, settings=self.graphql.settings, viewer=principal)
            result = await self.graphql.schema.execute(
                document, variable_values=variables, context_value=context
            )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        return Answer("member without permissions", None, body)


class ErrorRecords(logging.Handler):
    """Collects the ERROR records that carry a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            self.records.append(record)

    def problems(self) -> list[str]:
        return [
            f"logged with a traceback by {r.name}: {_short(r.getMessage())} "
            f"({r.exc_info[0].__name__ if r.exc_info and r.exc_info[0] else 'exception'})"
            for r in self.records
        ]


@contextmanager
def error_records() -> Iterator[ErrorRecords]:
    """ERROR records with a traceback, from every logger, while the block runs."""
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
