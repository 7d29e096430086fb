"""Importing operations from OpenAPI documents: parsing and its bounds, validation with JSON
pointers, extraction (names, scopes, templates), the diff, dry runs, pruning and atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlmodel import col

from accessplane.errors import InputError, UserErrorCode
from accessplane.models import ApiOperation, AuditEvent, AuthMethod
from accessplane.services import openapi_import, operations, products
from accessplane.services.openapi_import import (
    MAX_DOCUMENT_BYTES,
    extract_operations,
    parse_document,
    validate_document,
)
from tests.support.scenario import Scenario

FIXTURES = Path(__file__).parent.parent / "fixtures" / "openapi"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def document(paths: dict, **extra) -> str:
    return json.dumps(
        {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}
    )


def ok(**operation) -> dict:
    return {"responses": {"200": {"description": "ok"}}, **operation}


def messages(error: InputError) -> list[str]:
    assert {e.field for e in error.errors} == {"document"}
    return [e.message for e in error.errors]


def read(text: str) -> list[tuple]:
    data = parse_document(text)
    validate_document(data)
    return [(o.method, o.path, o.name, o.scopes) for o in extract_operations(data)]


def test_an_openapi_3_0_yaml_document() -> None:
    assert read(fixture("invoices-3.0.yaml")) == [
        ("GET", "/invoices", "listInvoices", ["invoices:read"]),
        ("POST", "/invoices", "createInvoice", ["invoices:read", "invoices:write"]),
        ("GET", "/invoices/{invoiceId}", "getInvoice", ["invoices:read"]),
        # Alternatives (OAuth2 or an API key): no scope every admitted caller carries.
        ("DELETE", "/invoices/{invoiceId}", "voidInvoice", []),
        ("GET", "/health", "health", []),  # security: [] overrides the document's
    ]


def test_an_openapi_3_1_json_document_with_a_referenced_path_item() -> None:
    assert read(fixture("petstore-3.1.json")) == [
        ("GET", "/pets", "listPets", ["pets:read"]),
        ("POST", "/pets", "createPet", ["pets:write", "pets:read"]),
        ("GET", "/pets/{petId}", "showPetById", ["pets:read"]),
        ("PUT", "/pets/{petId}", "updatePet", ["pets:write"]),
    ]


def test_scopes_common_to_every_alternative_and_only_of_oauth_schemes() -> None:
    schemes = {
        "securitySchemes": {
            "o": {
                "type": "oauth2",
                "flows": {"implicit": {"authorizationUrl": "https://a/x", "scopes": {}}},
            },
            "key": {"type": "apiKey", "in": "header", "name": "K"},
        }
    }
    text = document(
        {
            "/a": {
                "get": ok(security=[{"o": ["read", "list"]}, {"o": ["read", "admin"]}]),
                "put": ok(security=[{"o": ["write"], "key": ["ignored"]}]),
            }
        },
        components=schemes,
    )
    assert read(text) == [("GET", "/a", "", ["read"]), ("PUT", "/a", "", ["write"])]


def test_a_broken_document_answers_each_problem_with_its_pointer() -> None:
    with pytest.raises(InputError) as refused:
        read(fixture("broken-3.0.yaml"))
    found = messages(refused.value)
    assert found[0].startswith("Invalid OpenAPI document at /paths/~1invoices/get/responses/200: ")
    assert "Path parameter 'id' for 'get' operation in '/invoices/{id}'" in found[1]


def test_a_missing_field_at_the_root_and_a_wrong_version() -> None:
    with pytest.raises(InputError) as refused:
        read(json.dumps({"openapi": "3.1.0", "paths": {}}))
    assert messages(refused.value) == [
        "Invalid OpenAPI document at the document's root: 'info' is a required property"
    ]
    with pytest.raises(InputError) as refused:
        read(json.dumps({"swagger": "2.0", "info": {"title": "T", "version": "1"}}))
    assert "Only OpenAPI 3.0 and 3.1" in messages(refused.value)[0]


@pytest.mark.parametrize("ref", ["http://127.0.0.1:9/spec.json", "file:///etc/passwd"])
def test_references_outside_the_document_are_never_fetched(ref: str) -> None:
    text = document({"/a": {"get": {"responses": {"200": {"$ref": ref}}}}})
    with pytest.raises(InputError) as refused:
        read(text)
    assert (
        "cannot be resolved (only references within the document are followed)"
        in (messages(refused.value)[0])
    )


def test_a_backtracking_pattern_of_the_document_runs_in_linear_time() -> None:
    """The document's own patterns check its examples and defaults: RE2 runs them, so the
    classic catastrophic pattern answers at once instead of backtracking for hours."""
    parameter = {
        "name": "q",
        "in": "query",
        "schema": {"type": "string", "pattern": "^(a+)+$", "default": "a" * 64 + "!"},
    }
    with pytest.raises(InputError) as refused:
        read(document({"/a": {"get": ok(parameters=[parameter])}}))
    assert "does not match" in messages(refused.value)[0]


def test_a_yaml_alias_bomb_is_refused_at_its_first_alias() -> None:
    with pytest.raises(InputError) as refused:
        parse_document(fixture("alias-bomb.yaml"))
    assert "YAML aliases (*name) are not accepted" in messages(refused.value)[0]
    assert "line 4" in messages(refused.value)[0]


def test_yaml_is_parsed_by_libyaml_and_custom_tags_are_refused() -> None:
    """The pure-Python parser took about 20 s of CPU for a 2 MiB document; libyaml's takes a
    fraction of it. Its loader stays the safe one: no Python objects."""
    assert openapi_import._YAML_LOADER is yaml.CSafeLoader
    with pytest.raises(InputError) as refused:
        parse_document("openapi: !!python/object/apply:os.system ['true']\n")
    assert "Neither valid JSON nor YAML" in messages(refused.value)[0]


def test_an_oversized_document_is_refused_before_parsing() -> None:
    text = " " * MAX_DOCUMENT_BYTES + "{}"
    with pytest.raises(InputError) as refused:
        parse_document(text)
    assert refused.value.errors[0].code == UserErrorCode.TOO_LONG
    assert messages(refused.value) == ["The document is over 2 MiB."]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 64 levels"),
        ("a:\n" + "".join(" " * (i + 1) + "- \n" for i in range(100)), "deeper than 64"),
        ("{not json", "Neither valid JSON nor YAML"),
        ("- a list", "must be a JSON or YAML object"),
        ("   ", "The document is empty."),
        ("? [a, b]\n: c\n", "Neither valid JSON nor YAML"),
    ],
)
def test_unreadable_documents(text: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_document(text)
    assert message in messages(refused.value)[0]


def test_paths_that_are_not_templates_are_refused_with_their_pointer() -> None:
    text = document(
        {
            "/report.{format}": {
                "parameters": [{"name": "format", "in": "path", "required": True, "schema": {}}],
                "get": ok(),
            },
            "/files/../etc": {"get": ok()},
        }
    )
    with pytest.raises(InputError) as refused:
        read(text)
    assert messages(refused.value) == [
        "Invalid OpenAPI document at /paths/~1report.{format}: the path segment "
        "'report.{format}' must be a literal or one whole {parameter} (a name of letters, "
        "digits, _ . -).",
        "Invalid OpenAPI document at /paths/~1files~1..~1etc: the path must not have . or .. "
        "segments.",
    ]


async def _import(session, world, api, text: str, **options):
    return await openapi_import.import_openapi(
        session=session, actor=world.owner.principal, api_id=api.id, document=text, **options
    )


async def _stored(session, api) -> list[tuple]:
    session.expunge_all()
    rows = (
        await session.scalars(
            select(ApiOperation)
            .where(col(ApiOperation.api_id) == api.id)
            .order_by(ApiOperation.path, ApiOperation.method)
        )
    ).all()
    return [(o.method, o.path, o.name, o.scopes) for o in rows]


async def test_import_diff_dry_run_and_prune(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    owner = world.owner.principal
    for method, path, name in (
        ("GET", "/invoices", "listInvoices"),  # unchanged
        ("POST", "/invoices", "oldName"),  # changed
        ("GET", "/legacy", "legacy"),  # absent from the document
    ):
        scopes = ["invoices:read"] if method == "GET" else []
        await operations.create_operation(
            session=session,
            actor=owner,
            api_id=api.id,
            method=method,
            path=path,
            name=name,
            scopes=scopes,
        )
    before = await _stored(session, api)
    text = fixture("invoices-3.0.yaml")

    dry = await _import(session, world, api, text, dry_run=True, prune=True)
    assert [(c.method, c.path) for c in dry.added] == [
        ("GET", "/invoices/{invoiceId}"),
        ("DELETE", "/invoices/{invoiceId}"),
        ("GET", "/health"),
    ]
    [changed] = dry.changed
    assert (changed.method, changed.name, changed.previous_name) == (
        "POST",
        "createInvoice",
        "oldName",
    )
    assert (changed.scopes, changed.previous_scopes) == (["invoices:read", "invoices:write"], [])
    assert [(c.method, c.path) for c in dry.removed] == [("GET", "/legacy")]
    assert (dry.unchanged_count, dry.dry_run, dry.pruned) == (1, True, False)
    assert await _stored(session, api) == before  # a dry run writes nothing

    kept = await _import(session, world, api, text)
    assert kept.pruned is False
    assert ("GET", "/legacy", "legacy", ["invoices:read"]) in await _stored(session, api)

    pruned = await _import(session, world, api, text, prune=True)
    assert (len(pruned.added), len(pruned.changed), pruned.unchanged_count) == (0, 0, 5)
    assert pruned.pruned is True
    assert [(m, p) for m, p, _, _ in await _stored(session, api)] == [
        ("GET", "/health"),
        ("GET", "/invoices"),
        ("POST", "/invoices"),
        ("DELETE", "/invoices/{invoiceId}"),
        ("GET", "/invoices/{invoiceId}"),
    ]
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(col(AuditEvent.action) == "importOpenApi")
            .order_by(AuditEvent.at)
        )
    ).all()
    assert [e.after for e in events] == [
        {"added": 3, "changed": 1, "removed": 0, "unchanged": 1},
        {"added": 0, "changed": 0, "removed": 1, "unchanged": 5},
    ]
    assert {e.target_id for e in events} == {api.id}


async def test_one_bad_operation_imports_nothing(session, scenario: Scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    schemes = {
        "securitySchemes": {
            "o": {
                "type": "oauth2",
                "flows": {"implicit": {"authorizationUrl": "https://a/x", "scopes": {}}},
            }
        }
    }
    text = document(
        {
            "/good": {"get": ok()},
            "/bad": {"get": ok(security=[{"o": ['say "hi"']}])},
        },
        components=schemes,
    )

    with pytest.raises(InputError) as refused:
        await _import(session, world, api, text)

    assert messages(refused.value) == [
        "Invalid OpenAPI document at /paths/~1bad/get/security: 'say \"hi\"' is not a valid scope."
    ]
    assert await _stored(session, api) == []


async def test_two_paths_converting_to_one_template_are_refused(session, scenario) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    with pytest.raises(InputError) as refused:
        await _import(session, world, api, document({"/a": {"get": ok()}, "/a/": {"get": ok()}}))
    assert messages(refused.value) == [
        "Invalid OpenAPI document at /paths/~1a: GET '/a' is declared twice."
    ]


def _shared_ref_ladder(depth: int, **top: object) -> str:
    """s0: allOf [s1, s1], s1: allOf [s2, s2], …: a few KB standing for 2**depth schemas."""
    schemas: dict[str, object] = {
        f"s{i}": {"allOf": [{"$ref": f"#/components/schemas/s{i + 1}"}] * 2} for i in range(depth)
    }
    schemas[f"s{depth}"] = {"type": "object", "properties": {"id": {"type": "integer"}}}
    body = {"allOf": [{"$ref": "#/components/schemas/s0"}], "required": ["id"], **top}
    content = {"application/json": {"schema": body}}
    return json.dumps(
        {
            "openapi": "3.0.3",
            "info": {"title": "T", "version": "1"},
            "paths": {
                "/a": {"get": {"responses": {"200": {"description": "ok", "content": content}}}}
            },
            "components": {"schemas": schemas},
        }
    )


def test_schemas_sharing_refs_many_levels_deep_are_walked_once_each() -> None:
    """The validator's own property collection walked a shared $ref once per way to it (2**40
    here); each schema is now walked once, and a required name found through allOf is
    still accepted."""
    assert read(_shared_ref_ladder(40)) == [("GET", "/a", "", [])]


def test_a_required_name_no_schema_defines_is_still_reported() -> None:
    text = _shared_ref_ladder(3).replace('"required": ["id"]', '"required": ["nope"]')
    with pytest.raises(InputError) as refused:
        read(text)
    assert "Required list has not defined properties: ['nope']" in messages(refused.value)[0]


def test_a_default_checked_through_shared_refs_is_refused_past_the_step_budget() -> None:
    """Checking a default against the ladder would take 2**40 steps: it stops at the budget
    with a userError instead of holding a thread for ever."""
    with pytest.raises(InputError) as refused:
        read(_shared_ref_ladder(40, default={"id": 1}))
    (message,) = messages(refused.value)
    assert f"takes over {openapi_import.MAX_VALIDATION_STEPS} steps" in message
    # A shallow ladder's default is checked as before.
    assert read(_shared_ref_ladder(3, default={"id": 1})) == [("GET", "/a", "", [])]


def test_more_operations_than_an_api_holds_are_refused_before_validation() -> None:
    count = operations.MAX_OPERATIONS_PER_API + 1
    paths = {f"/r{i}": {"get": {"bad": "not checked"}} for i in range(count)}
    with pytest.raises(InputError) as refused:
        read(document(paths))
    assert messages(refused.value) == [
        f"The document declares {count} operations; an API declares at most "
        f"{operations.MAX_OPERATIONS_PER_API}."
    ]


async def test_prune_never_takes_a_products_last_chosen_operation(session, scenario) -> None:
    """A product with no chosen operation of an API grants the whole API: pruning its last
    choice would widen it, so the import is refused (dry run too) and writes nothing."""
    world = await scenario.workspace()
    api = await scenario.api(world)
    owner = world.owner.principal
    legacy = await operations.create_operation(
        session=session, actor=owner, api_id=api.id, method="GET", path="/legacy"
    )
    await products.create_product(
        session=session,
        actor=owner,
        workspace_id=world.workspace.id,
        name="Legacy readers",
        auth_method=AuthMethod.AUTH_TOKEN,
        operation_ids=[legacy.id],
    )
    text = document({"/current": {"get": ok()}})

    for dry_run in (True, False):
        with pytest.raises(InputError) as refused:
            await _import(session, world, api, text, prune=True, dry_run=dry_run)
        (error,) = refused.value.errors
        assert (error.field, error.code) == ("prune", UserErrorCode.IN_USE)
        assert "The products 'Legacy readers' chose no other operation" in error.message
    assert await _stored(session, api) == [("GET", "/legacy", "", [])]

    # Without prune the document's operations are added and the product's choice stays.
    added = await _import(session, world, api, text)
    assert [(c.method, c.path) for c in added.added] == [("GET", "/current")]
