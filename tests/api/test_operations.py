"""createApiOperation, updateApiOperation, deleteApiOperation, importOpenApi (pasted and
uploaded), Api.operations and products choosing operations, over GraphQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlmodel import col

from accessplane.app import create_app
from accessplane.models import ApiOperation, ApiProductOperation, AuditEvent, AuthMethod
from accessplane.services import operations, products
from accessplane.services.openapi_import import MAX_DOCUMENT_BYTES
from tests.support.scenario import Scenario, gid
from tests.support.statements import statements_per_page

FIXTURES = Path(__file__).parent.parent / "fixtures" / "openapi"
ERRORS = "userErrors { field message code }"
CREATE = f"""
mutation Create($input: CreateApiOperationInput!) {{
  createApiOperation(input: $input) {{
    apiOperation {{ id method path name scopes apiId }}
    {ERRORS}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateApiOperationInput!) {{
  updateApiOperation(input: $input) {{ apiOperation {{ method path name scopes }} {ERRORS} }}
}}
"""
DELETE = f"""
mutation Delete($input: DeleteApiOperationInput!) {{
  deleteApiOperation(input: $input) {{ deletedApiOperationId {ERRORS} }}
}}
"""
CHANGE = "method path name scopes previousName previousScopes"
IMPORT = f"""
mutation Import($input: ImportOpenApiInput!) {{
  importOpenApi(input: $input) {{
    added {{ {CHANGE} }} changed {{ {CHANGE} }} removed {{ {CHANGE} }}
    unchangedCount dryRun pruned
    {ERRORS}
  }}
}}
"""
API_OPERATIONS = """
query Operations($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Api {
      operations(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { method path } }
      }
    }
  }
}
"""
PRODUCT = f"""
mutation Product($input: CreateApiProductInput!) {{
  createApiProduct(input: $input) {{
    apiProduct {{
      apis {{ identifier }}
      operations {{ totalCount edges {{ node {{ method path apiId }} }} }}
    }}
    {ERRORS}
  }}
}}
"""


async def _world_and_api(scenario: Scenario):
    world = await scenario.workspace()
    return world, await scenario.api(world, "Billing")


async def test_create_update_delete(graphql, scenario: Scenario, session) -> None:
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)

    created = (
        await owner.execute(
            CREATE,
            input={
                "apiId": gid("Api", api.id),
                "method": "post",
                "path": "/invoices/{id}/send",
                "name": "sendInvoice",
                "scopes": ["invoices:write"],
            },
        )
    ).payload("createApiOperation")
    assert created["userErrors"] == []
    operation = created["apiOperation"]
    assert (operation["method"], operation["path"], operation["apiId"]) == (
        "POST",
        "/invoices/{id}/send",
        gid("Api", api.id),
    )

    updated = (
        await owner.execute(UPDATE, input={"id": operation["id"], "method": "*", "scopes": []})
    ).payload("updateApiOperation")
    assert updated["apiOperation"] == {
        "method": "*",
        "path": "/invoices/{id}/send",
        "name": "sendInvoice",
        "scopes": [],
    }

    deleted = (await owner.execute(DELETE, input={"id": operation["id"]})).payload(
        "deleteApiOperation"
    )
    assert deleted == {"deletedApiOperationId": operation["id"], "userErrors": []}
    assert (await session.scalars(select(ApiOperation))).all() == []
    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"createApiOperation", "updateApiOperation", "deleteApiOperation"} <= set(actions)


async def test_bad_input_answers_user_errors_on_the_fields(graphql, scenario, session) -> None:
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)
    valid = {"apiId": gid("Api", api.id), "method": "GET", "path": "/invoices"}
    assert (await owner.execute(CREATE, input=valid)).payload("createApiOperation")[
        "userErrors"
    ] == []

    duplicate = (await owner.execute(CREATE, input=valid)).ok()["createApiOperation"]
    bad = (
        await owner.execute(
            CREATE,
            input={**valid, "method": "BREW", "path": "/invoices/*/x?y=1", "scopes": ["a b"]},
        )
    ).ok()["createApiOperation"]

    assert duplicate["userErrors"] == [
        {
            "field": "path",
            "message": "The API declares GET '/invoices' already.",
            "code": "DUPLICATE",
        }
    ]
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [
        ("method", "INVALID"),
        ("path", "INVALID"),
        ("scopes", "INVALID"),
    ]
    assert bad["userErrors"][1]["message"] == (
        "The path must not hold a query string or a fragment."
    )
    assert len((await session.scalars(select(ApiOperation))).all()) == 1


async def test_api_operations_are_ordered_by_path_then_method_and_paged(
    graphql, scenario, session
) -> None:
    world, api = await _world_and_api(scenario)
    for method, path in (("POST", "/b"), ("GET", "/b"), ("*", "/a/*"), ("DELETE", "/a")):
        await operations.create_operation(
            session=session, actor=world.owner.principal, api_id=api.id, method=method, path=path
        )
    owner = graphql.as_principal(world.owner.principal)

    first = (await owner.execute(API_OPERATIONS, id=gid("Api", api.id), first=3)).ok()
    connection = first["node"]["operations"]
    assert connection["totalCount"] == 4
    assert [(e["node"]["method"], e["node"]["path"]) for e in connection["edges"]] == [
        ("DELETE", "/a"),
        ("*", "/a/*"),
        ("GET", "/b"),
    ]
    rest = (
        await owner.execute(
            API_OPERATIONS,
            id=gid("Api", api.id),
            first=3,
            after=connection["pageInfo"]["endCursor"],
        )
    ).ok()
    assert [e["node"]["method"] for e in rest["node"]["operations"]["edges"]] == ["POST"]


async def test_import_a_pasted_document_dry_run_then_for_real(graphql, scenario, session) -> None:
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)
    document = (FIXTURES / "invoices-3.0.yaml").read_text()
    source = {"apiId": gid("Api", api.id), "document": document}

    dry = (await owner.execute(IMPORT, input={**source, "dryRun": True})).payload("importOpenApi")
    assert (dry["dryRun"], dry["pruned"], dry["unchangedCount"]) == (True, False, 0)
    assert [(a["method"], a["path"], a["scopes"]) for a in dry["added"]][:2] == [
        ("GET", "/invoices", ["invoices:read"]),
        ("POST", "/invoices", ["invoices:read", "invoices:write"]),
    ]
    assert (await session.scalars(select(ApiOperation))).all() == []

    real = (await owner.execute(IMPORT, input=source)).payload("importOpenApi")
    assert len(real["added"]) == 5
    assert real["userErrors"] == []
    stored = (await session.scalars(select(ApiOperation.name))).all()
    assert sorted(stored) == sorted(a["name"] for a in real["added"])

    again = (await owner.execute(IMPORT, input=source)).payload("importOpenApi")
    assert (again["added"], again["changed"], again["removed"], again["unchangedCount"]) == (
        [],
        [],
        [],
        5,
    )


async def test_import_an_uploaded_file_and_prune(graphql, scenario, session) -> None:
    world, api = await _world_and_api(scenario)
    await operations.create_operation(
        session=session,
        actor=world.owner.principal,
        api_id=api.id,
        method="GET",
        path="/legacy",
        name="legacy",
    )
    key = await scenario.api_key(world)
    document = (FIXTURES / "petstore-3.1.json").read_bytes()

    result = await graphql.multipart(
        IMPORT,
        {"input": {"apiId": gid("Api", api.id), "file": None, "prune": True}},
        {"variables.input.file": ("petstore.json", document, "application/json")},
        key,
    )

    payload = result.payload("importOpenApi")
    assert payload["userErrors"] == []
    assert payload["pruned"] is True
    assert [(r["method"], r["path"], r["name"]) for r in payload["removed"]] == [
        ("GET", "/legacy", "legacy")
    ]
    session.expunge_all()
    paths = (await session.scalars(select(ApiOperation.path).distinct())).all()
    assert sorted(paths) == ["/pets", "/pets/{petId}"]


async def test_a_broken_document_answers_pointers_and_writes_nothing(graphql, scenario, session):
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)

    broken = (
        await owner.execute(
            IMPORT,
            input={
                "apiId": gid("Api", api.id),
                "document": (FIXTURES / "broken-3.0.yaml").read_text(),
            },
        )
    ).ok()["importOpenApi"]

    assert {e["field"] for e in broken["userErrors"]} == {"document"}
    assert broken["userErrors"][0]["message"].startswith(
        "Invalid OpenAPI document at /paths/~1invoices/get/responses/200: "
    )
    assert broken["added"] == []
    assert (await session.scalars(select(ApiOperation))).all() == []


async def test_an_alias_bomb_and_missing_or_double_sources_are_refused(graphql, scenario):
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)
    api_id = gid("Api", api.id)

    bomb = (
        await owner.execute(
            IMPORT,
            input={"apiId": api_id, "document": (FIXTURES / "alias-bomb.yaml").read_text()},
        )
    ).ok()["importOpenApi"]
    neither = (await owner.execute(IMPORT, input={"apiId": api_id})).ok()["importOpenApi"]
    not_a_file = (await owner.execute(IMPORT, input={"apiId": api_id, "file": "x"})).ok()[
        "importOpenApi"
    ]

    assert "YAML aliases (*name) are not accepted" in bomb["userErrors"][0]["message"]
    assert neither["userErrors"] == [
        {
            "field": "document",
            "message": "Paste the document or upload it as file: exactly one of the two.",
            "code": "REQUIRED",
        }
    ]
    assert not_a_file["userErrors"][0]["field"] == "file"


async def test_an_oversized_pasted_document_is_refused_before_graphql(http, scenario) -> None:
    world, api = await _world_and_api(scenario)
    key = await scenario.api_key(world)
    big = json.dumps({"openapi": "3.1.0", "x": "a" * (3 * 1024 * 1024)})

    response = await http.post(
        "/graphql",
        json={
            "query": IMPORT,
            "variables": {"input": {"apiId": gid("Api", api.id), "document": big}},
        },
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 413


async def test_products_choose_operations(graphql, scenario: Scenario, session) -> None:
    world, api = await _world_and_api(scenario)
    other = await scenario.workspace()
    made = await operations.create_operation(
        session=session, actor=world.owner.principal, api_id=api.id, method="GET", path="/a"
    )
    foreign = await operations.create_operation(
        session=session,
        actor=other.owner.principal,
        api_id=(await scenario.api(other)).id,
        method="GET",
        path="/a",
    )
    owner = graphql.as_principal(world.owner.principal)
    base = {"workspaceId": world.id, "authMethod": "AUTH_TOKEN"}

    created = (
        await owner.execute(
            PRODUCT, input={**base, "name": "Reads", "operationIds": [gid("ApiOperation", made.id)]}
        )
    ).payload("createApiProduct")
    refused = (
        await owner.execute(
            PRODUCT,
            input={**base, "name": "Other", "operationIds": [gid("ApiOperation", foreign.id)]},
        )
    ).ok()["createApiProduct"]
    malformed = (
        await owner.execute(
            PRODUCT, input={**base, "name": "Bad", "operationIds": [gid("Api", api.id)]}
        )
    ).ok()["createApiProduct"]

    assert created["apiProduct"]["apis"] == [{"identifier": "billing"}]
    assert created["apiProduct"]["operations"] == {
        "totalCount": 1,
        "edges": [{"node": {"method": "GET", "path": "/a", "apiId": gid("Api", api.id)}}],
    }
    assert refused["userErrors"] == [
        {
            "field": "operationIds",
            "message": "1 operation(s) not found in this workspace.",
            "code": "NOT_FOUND",
        }
    ]
    assert malformed["userErrors"][0]["code"] == "INVALID_ID"
    chosen = (
        await session.scalars(
            select(ApiProductOperation.operation_id).where(
                col(ApiProductOperation.workspace_id) == world.workspace.id
            )
        )
    ).all()
    assert chosen == [made.id]


API_TABLE = """
query Table($id: ID!, $first: Int!) {
  workspace(id: $id) {
    apis(first: $first) {
      edges { node { name operations(first: 5) { totalCount edges { node { method path } } } } }
    }
    products(first: $first) {
      edges { node { name operations(first: 5) { totalCount edges { node { path } } } } }
    }
  }
}
"""


async def test_operation_lists_cost_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, session, count_queries
) -> None:
    world = await scenario.workspace()
    for i in range(100):
        api = await scenario.api(world, f"Api {i:03}")
        chosen = [
            await operations.create_operation(
                session=session,
                actor=world.owner.principal,
                api_id=api.id,
                method="GET",
                path=f"/r{j}",
            )
            for j in range(6)
        ]
        await scenario.product(world, f"Product {i:03}", apis=[api])
        product = await scenario.product(world, f"Ops {i:03}")
        await _choose(session, world, product.id, [op.id for op in chosen])
    owner = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await owner.execute(API_TABLE, id=world.id, first=first)).ok()["workspace"]
        assert len(data["apis"]["edges"]) == first
        assert all(e["node"]["operations"]["totalCount"] == 6 for e in data["apis"]["edges"])
        assert {len(e["node"]["operations"]["edges"]) for e in data["apis"]["edges"]} == {5}

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # the workspace; API page and count; operations page and count of the APIs; products
    # page and count; operations page and count of the products
    assert statements[100] <= 9, count_queries.statements


async def _choose(session, world, product_id, operation_ids) -> None:
    await products.update_product(
        session=session,
        actor=world.owner.principal,
        product_id=product_id,
        operation_ids=operation_ids,
    )


async def test_a_console_session_uploads_with_its_csrf_token_only(app, scenario, session) -> None:
    """The console uploads documents with its session cookie: multipart requests need the
    X-CSRF-Token header like every other POST."""
    world, api = await _world_and_api(scenario)
    key = await scenario.api_key(world)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as browser:
        csrf = (await browser.post("/auth/key", json={"key": key})).json()["csrfToken"]

        async def upload(headers: dict[str, str]) -> dict:
            variables = {"input": {"apiId": gid("Api", api.id), "file": None, "dryRun": True}}
            response = await browser.post(
                "/graphql",
                data={
                    "operations": json.dumps({"query": IMPORT, "variables": variables}),
                    "map": json.dumps({"0": ["variables.input.file"]}),
                },
                files={"0": ("a.json", (FIXTURES / "petstore-3.1.json").read_bytes())},
                headers=headers,
            )
            return response.json()

        refused = await upload({})
        allowed = await upload({"X-CSRF-Token": csrf})

    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(allowed["data"]["importOpenApi"]["added"]) == 4


async def test_problems_of_an_uploaded_document_are_on_the_file(graphql, scenario) -> None:
    world, api = await _world_and_api(scenario)
    key = await scenario.api_key(world)

    result = await graphql.multipart(
        IMPORT,
        {"input": {"apiId": gid("Api", api.id), "file": None}},
        {"variables.input.file": ("broken.yaml", (FIXTURES / "broken-3.0.yaml").read_bytes(), "")},
        key,
    )

    errors = result.user_errors("importOpenApi")
    assert {e["field"] for e in errors} == {"file"}
    assert errors[0]["message"].startswith("Invalid OpenAPI document at /paths/~1invoices/")


OPERATION_NODE = """
query N($id: ID!) { node(id: $id) { ... on ApiOperation { method path scopes apiId } } }
"""


async def test_an_operation_is_a_node_to_whoever_may_read_its_api(graphql, scenario) -> None:
    world, api = await _world_and_api(scenario)
    operation = await operations.create_operation(
        session=scenario.session,
        actor=world.owner.principal,
        api_id=api.id,
        method="GET",
        path="/invoices/{id}",
        scopes=["invoices:read"],
    )
    operation_id = gid("ApiOperation", operation.id)
    viewer = await scenario.member(world, "Viewer")
    consumer = await scenario.member(world, "Consumer")
    stranger = (await scenario.workspace()).owner

    owner_sees = await graphql.as_principal(world.owner.principal).execute(
        OPERATION_NODE, id=operation_id
    )
    ungranted = await graphql.as_principal(viewer.principal).execute(
        OPERATION_NODE, id=operation_id
    )
    await scenario.grant(world, api, people=[viewer])
    viewer = await scenario.refresh(viewer)
    granted = await graphql.as_principal(viewer.principal).execute(OPERATION_NODE, id=operation_id)
    without_get_api = await graphql.as_principal(consumer.principal).execute(
        OPERATION_NODE, id=operation_id
    )
    other_workspace = await graphql.as_principal(stranger.principal).execute(
        OPERATION_NODE, id=operation_id
    )

    expected = {
        "method": "GET",
        "path": "/invoices/{id}",
        "scopes": ["invoices:read"],
        "apiId": gid("Api", api.id),
    }
    assert owner_sees.ok()["node"] == expected
    assert granted.ok()["node"] == expected
    # Without access to the API the operation is as invisible as the API itself.
    assert ungranted.error_codes == ["NOT_FOUND"]
    assert without_get_api.error_codes == ["FORBIDDEN"]
    assert other_workspace.error_codes == ["NOT_FOUND"]


async def test_update_and_delete_bad_input_are_user_errors_and_change_nothing(
    graphql, scenario, session
) -> None:
    world, api = await _world_and_api(scenario)
    owner = graphql.as_principal(world.owner.principal)
    made = [
        await operations.create_operation(
            session=session, actor=world.owner.principal, api_id=api.id, method="GET", path=p
        )
        for p in ("/a", "/b")
    ]
    first, second = (gid("ApiOperation", op.id) for op in made)
    await products.create_product(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        name="Only b",
        auth_method=AuthMethod.AUTH_TOKEN,
        operation_ids=[made[1].id],
    )

    taken = (await owner.execute(UPDATE, input={"id": first, "path": "/b"})).ok()[
        "updateApiOperation"
    ]
    bad = (
        await owner.execute(UPDATE, input={"id": first, "method": "BREW", "scopes": ['"']})
    ).ok()["updateApiOperation"]
    last_choice = (await owner.execute(DELETE, input={"id": second})).ok()["deleteApiOperation"]
    wrong_type = (await owner.execute(DELETE, input={"id": gid("Api", api.id)})).ok()[
        "deleteApiOperation"
    ]

    assert taken["apiOperation"] is None
    assert [(e["field"], e["code"]) for e in taken["userErrors"]] == [("path", "DUPLICATE")]
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [
        ("method", "INVALID"),
        ("scopes", "INVALID"),
    ]
    assert last_choice["deletedApiOperationId"] is None
    assert [(e["field"], e["code"]) for e in last_choice["userErrors"]] == [("id", "IN_USE")]
    assert [(e["field"], e["code"]) for e in wrong_type["userErrors"]] == [("id", "INVALID_ID")]
    session.expunge_all()
    stored = (await session.scalars(select(ApiOperation).order_by(ApiOperation.path))).all()
    assert [(o.method, o.path, o.scopes) for o in stored] == [("GET", "/a", []), ("GET", "/b", [])]


async def test_an_upload_over_the_limit_is_too_long_even_when_cut_inside_a_character(
    settings, engine, scenario
) -> None:
    """The file is read one byte past the limit; where that cut splits a character the
    answer is still the size, not "not UTF-8"."""
    world, api = await _world_and_api(scenario)
    key = await scenario.api_key(world)
    # Room in the request body for a file over the document limit.
    app = create_app(
        settings.model_copy(update={"client_logo_max_bytes": 3 * MAX_DOCUMENT_BYTES}),
        engine=engine,
    )
    # "#" then two-byte characters: the byte after the limit is the first half of one.
    content = b"#" + "é".encode() * (MAX_DOCUMENT_BYTES // 2 + 1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            data={
                "operations": json.dumps(
                    {
                        "query": IMPORT,
                        "variables": {"input": {"apiId": gid("Api", api.id), "file": None}},
                    }
                ),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("big.yaml", content, "application/yaml")},
            headers={"Authorization": f"Bearer {key}"},
        )
    errors = response.json()["data"]["importOpenApi"]["userErrors"]
    assert errors == [
        {"field": "file", "message": "The document is over 2 MiB.", "code": "TOO_LONG"}
    ]
