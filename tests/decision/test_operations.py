"""The operation matcher (``decision/operations.py``): which declared operation a normalised
request is, literals before parameters before wildcards, methods, and the grant check."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from starlette.applications import Starlette

from accessplane.db.changes import changed
from accessplane.decision.operations import (
    ANY_METHOD,
    Operation,
    OperationGrant,
    OperationTable,
    Target,
    normalise_target,
)
from accessplane.decision.policies import AppPolicy
from accessplane.decision.reasons import Reason
from accessplane.models import Api, ApiOperation, ApiProduct, ApiProductOperation
from accessplane.services import access_profiles, operations, products
from tests.conftest import QueryCounter
from tests.support.gateway import PEER, Gate, Shop
from tests.support.scenario import Scenario


def op(method: str, path: str, *scopes: str) -> Operation:
    return Operation(uuid.uuid4(), method, path, frozenset(scopes))


def matched(table: OperationTable, method: str, path: str) -> list[str]:
    """The templates (with methods) a request matches, most specific first."""
    target = normalise_target(method, path)
    assert target is not None, (method, path)
    return [f"{o.method} {o.path}" for o in table.match(target)]


INVOICES = OperationTable.compile(
    [
        op("GET", "/invoices"),
        op("POST", "/invoices"),
        op("GET", "/invoices/{id}"),
        op("GET", "/invoices/search"),
        op("GET", "/invoices/{id}/items"),
        op("DELETE", "/invoices/{id}"),
        op("GET", "/files/*"),
        op(ANY_METHOD, "/health"),
        op("GET", "/"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/invoices", ["GET /invoices"]),
        ("POST", "/invoices", ["POST /invoices"]),
        ("GET", "/invoices/42", ["GET /invoices/{id}"]),
        ("GET", "/invoices/42/items", ["GET /invoices/{id}/items"]),
        ("DELETE", "/invoices/42", ["DELETE /invoices/{id}"]),
        # A literal wins over a parameter.
        ("GET", "/invoices/search", ["GET /invoices/search"]),
        # But a literal only of another method leaves the parameter to match.
        ("DELETE", "/invoices/search", ["DELETE /invoices/{id}"]),
        ("GET", "/files/a", ["GET /files/*"]),
        ("GET", "/files/a/b/c", ["GET /files/*"]),
        ("PATCH", "/health", ["* /health"]),
        ("GET", "/health", ["* /health"]),
        ("GET", "/", ["GET /"]),
    ],
)
def test_requests_match_their_most_specific_operation(
    method: str, path: str, expected: list[str]
) -> None:
    assert matched(INVOICES, method, path) == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/invoices/42/items/7"),  # one segment too many for {id}/items
        ("GET", "/invoices/42/other"),
        ("GET", "/files"),  # /* needs at least one further segment
        ("PUT", "/invoices/42"),  # no PUT declared
        ("POST", "/invoices/42"),
        ("GET", "/unknown"),
        ("GET", "/health/deep"),
        ("HEAD", "/invoices"),  # HEAD is not GET: declare it (or "*") to allow it
    ],
)
def test_requests_no_operation_declares_match_nothing(method: str, path: str) -> None:
    assert matched(INVOICES, method, path) == []


def test_a_parameter_matches_exactly_one_non_empty_segment() -> None:
    table = OperationTable.compile([op("GET", "/invoices/{id}")])
    assert matched(table, "GET", "/invoices/42") == ["GET /invoices/{id}"]
    assert matched(table, "GET", "/invoices/42/items") == []
    # "/invoices/" is "/invoices" (one trailing slash is ignored), which declares nothing.
    assert matched(table, "GET", "/invoices/") == []
    assert matched(table, "GET", "/invoices") == []


def test_the_walk_backtracks_from_a_literal_that_leads_nowhere() -> None:
    table = OperationTable.compile(
        [op("GET", "/invoices/search"), op("GET", "/invoices/{id}/items")]
    )
    assert matched(table, "GET", "/invoices/search/items") == ["GET /invoices/{id}/items"]


def test_a_wildcard_is_the_last_resort_at_its_position() -> None:
    table = OperationTable.compile(
        [op("GET", "/files/*"), op("GET", "/files/{name}"), op("GET", "/files/readme")]
    )
    assert matched(table, "GET", "/files/readme") == ["GET /files/readme"]
    assert matched(table, "GET", "/files/a") == ["GET /files/{name}"]
    assert matched(table, "GET", "/files/a/b") == ["GET /files/*"]


def test_a_named_method_wins_over_any_method_at_the_same_template() -> None:
    table = OperationTable.compile([op(ANY_METHOD, "/reports"), op("GET", "/reports")])
    assert matched(table, "GET", "/reports") == ["GET /reports"]
    assert matched(table, "POST", "/reports") == ["* /reports"]


def test_templates_equally_specific_are_all_candidates() -> None:
    table = OperationTable.compile([op("GET", "/a/{x}"), op("GET", "/a/{y}")])
    assert sorted(matched(table, "GET", "/a/1")) == ["GET /a/{x}", "GET /a/{y}"]


def test_a_segment_differing_from_a_literal_only_in_case_is_refused() -> None:
    # Case-insensitive upstreams would route /users/ME to /users/me, case-sensitive ones to
    # /users/{id}: neither is assumed, the request matches nothing.
    table = OperationTable.compile([op("GET", "/users/me"), op("GET", "/users/{id}")])
    assert matched(table, "GET", "/users/me") == ["GET /users/me"]
    assert matched(table, "GET", "/users/ME") == []
    assert matched(table, "GET", "/users/42") == ["GET /users/{id}"]
    # Also when another branch would have matched it.
    table = OperationTable.compile([op("GET", "/users/me"), op("GET", "/{a}/{b}")])
    assert matched(table, "GET", "/users/Me") == []


def test_methods_are_case_insensitive_on_the_request() -> None:
    assert matched(INVOICES, "get", "/invoices") == ["GET /invoices"]
    assert matched(INVOICES, "Post", "/invoices") == ["POST /invoices"]


def test_template_literals_are_normalised_like_requests() -> None:
    table = OperationTable.compile([op("GET", "/caf%c3%a9/%7Euser"), op("GET", "/n%C3%BC")])
    assert matched(table, "GET", "/caf%C3%A9/~user") == ["GET /caf%c3%a9/%7Euser"]
    assert matched(table, "GET", "/nü") == ["GET /n%C3%BC"]


def test_templates_that_can_match_nothing_are_left_out() -> None:
    table = OperationTable.compile(
        [op("GET", "/a/../admin"), op("GET", "/a%2Fb"), op("GET", "relative")]
    )
    assert matched(table, "GET", "/admin") == []
    assert matched(table, "GET", "/a/b") == []


def test_tables_are_equal_by_their_operations() -> None:
    ops = [op("GET", "/a"), op("POST", "/b")]
    assert OperationTable.compile(ops) == OperationTable.compile(reversed(ops))
    assert hash(OperationTable.compile(ops)) == hash(OperationTable.compile(ops))
    assert OperationTable.compile(ops) != OperationTable.compile(ops[:1])


def test_two_hundred_operations_match_as_quickly_as_one_branch() -> None:
    # 200 resources with five operations each: matching follows one branch of the trie.
    ops = []
    for n in range(40):
        ops += [
            op("GET", f"/r{n}"),
            op("POST", f"/r{n}"),
            op("GET", f"/r{n}/{{id}}"),
            op("PUT", f"/r{n}/{{id}}"),
            op("GET", f"/r{n}/{{id}}/children/*"),
        ]
    table = OperationTable.compile(ops)
    assert matched(table, "GET", "/r39/7/children/a/b") == ["GET /r39/{id}/children/*"]
    assert matched(table, "PUT", "/r0/x") == ["PUT /r0/{id}"]


# The grant: allowed operations and scopes.

SEARCH = op("GET", "/invoices/search", "invoices:search")
READ = op("GET", "/invoices/{id}", "invoices:read")
WRITE = op("POST", "/invoices")
TABLE = OperationTable.compile([SEARCH, READ, WRITE])


def target(method: str, path: str) -> Target | None:
    return normalise_target(method, path)


def test_a_grant_of_the_whole_api_allows_every_declared_operation_only() -> None:
    grant = OperationGrant(TABLE, None)
    assert grant.check(target("GET", "/invoices/1"), None) is None
    assert grant.check(target("POST", "/invoices"), None) is None
    assert grant.check(target("DELETE", "/invoices/1"), None) is Reason.OPERATION_NOT_ALLOWED
    assert grant.check(target("GET", "/other"), None) is Reason.OPERATION_NOT_ALLOWED


def test_a_grant_of_some_operations_refuses_the_others() -> None:
    grant = OperationGrant(TABLE, frozenset({READ.id}))
    assert grant.check(target("GET", "/invoices/1"), None) is None
    assert grant.check(target("POST", "/invoices"), None) is Reason.OPERATION_NOT_ALLOWED
    # The literal is more specific: not allowed, and not answered by {id} instead.
    assert grant.check(target("GET", "/invoices/search"), None) is Reason.OPERATION_NOT_ALLOWED


def test_no_method_or_path_is_refused() -> None:
    grant = OperationGrant(TABLE, None)
    assert grant.check(None, None) is Reason.OPERATION_NOT_ALLOWED
    assert target("", "/invoices") is None
    assert target("GET", "") is None


def test_tokens_need_the_operation_s_scopes() -> None:
    grant = OperationGrant(TABLE, None)
    read = target("GET", "/invoices/1")
    assert grant.check(read, frozenset()) is Reason.INSUFFICIENT_SCOPE
    assert grant.check(read, frozenset({"invoices:search"})) is Reason.INSUFFICIENT_SCOPE
    assert grant.check(read, frozenset({"invoices:read", "other"})) is None
    assert grant.check(target("POST", "/invoices"), frozenset()) is None  # declares none
    # Not allowed stays not allowed, whatever the scopes.
    only_write = OperationGrant(TABLE, frozenset({WRITE.id}))
    assert only_write.check(read, frozenset({"invoices:read"})) is Reason.OPERATION_NOT_ALLOWED


# Through the decision endpoints: ``shop`` sells the API "orders" to the app "web".


async def declare(
    scenario: Scenario, api: Api, method: str, path: str, scopes: Sequence[str] = ()
) -> ApiOperation:
    """Declare an operation of ``api`` (committed, as the operations service would)."""
    operation = ApiOperation(
        workspace_id=api.workspace_id, api_id=api.id, method=method, path=path, scopes=list(scopes)
    )
    scenario.session.add(operation)
    await scenario.session.commit()
    return operation


async def choose(scenario: Scenario, product: ApiProduct, *operations: ApiOperation) -> None:
    """Let ``product`` grant these operations (only these, of their API)."""
    for operation in operations:
        scenario.session.add(
            ApiProductOperation(
                product_id=product.id,
                operation_id=operation.id,
                workspace_id=product.workspace_id,
            )
        )
    await scenario.session.commit()


async def ask(gate: Gate, token: str, method: str, path: str, api: str = "orders") -> str:
    """The reason both endpoints give for ``method path`` (they must agree)."""
    checked = await gate.check(token, api, method=method, path=path)
    answered = await gate.authorize(
        token, api, PEER, headers={"X-Original-Method": method, "X-Original-URI": path}
    )
    reason = answered.headers["x-accessplane-reason"]
    assert checked["reason"] == reason, (method, path, checked, answered.text)
    if reason in ("operation_not_allowed", "insufficient_scope"):
        assert answered.status_code == 403
        assert answered.json()["reason"] == reason
    return reason


async def orders_api(scenario: Scenario, shop: Shop) -> dict[str, ApiOperation]:
    """Declare a small API on ``orders``: list, create, read, search, items, files."""
    return {
        "list": await declare(scenario, shop.api, "GET", "/orders"),
        "create": await declare(scenario, shop.api, "POST", "/orders"),
        "read": await declare(scenario, shop.api, "GET", "/orders/{id}"),
        "search": await declare(scenario, shop.api, "GET", "/orders/search"),
        "items": await declare(scenario, shop.api, "GET", "/orders/{id}/items"),
        "files": await declare(scenario, shop.api, "GET", "/files/*"),
    }


async def test_an_api_without_operations_is_decided_as_a_whole(gate: Gate, shop: Shop) -> None:
    assert await ask(gate, shop.token, "DELETE", "/anything/at/all") == "ok"
    assert await ask(gate, shop.token, "GET", "/a/../b;x") == "ok"  # no operation to match


async def test_a_product_choosing_no_operations_grants_every_declared_one(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    await orders_api(scenario, shop)
    assert await ask(gate, shop.token, "GET", "/orders") == "ok"
    assert await ask(gate, shop.token, "POST", "/orders") == "ok"
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"
    assert await ask(gate, shop.token, "GET", "/orders/42/items") == "ok"
    assert await ask(gate, shop.token, "GET", "/files/a/b") == "ok"
    # Nothing declared matches: refused, though the app holds the whole API.
    assert await ask(gate, shop.token, "DELETE", "/orders/42") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/orders/42/items/1") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/files") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/admin") == "operation_not_allowed"


async def test_a_product_choosing_operations_grants_only_those(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    ops = await orders_api(scenario, shop)
    await choose(scenario, shop.product, ops["list"], ops["read"])
    assert await ask(gate, shop.token, "GET", "/orders") == "ok"
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"
    assert await ask(gate, shop.token, "POST", "/orders") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/orders/42/items") == "operation_not_allowed"
    # The declared literal is the operation, not {id}: and it was not chosen.
    assert await ask(gate, shop.token, "GET", "/orders/search") == "operation_not_allowed"
    # Other reasons keep their place: an API the app lacks is still api_not_granted.
    assert await gate.both(shop.token, api="billing") == "api_not_granted"


async def test_the_app_s_products_add_up(gate: Gate, shop: Shop, scenario: Scenario) -> None:
    ops = await orders_api(scenario, shop)
    await choose(scenario, shop.product, ops["list"])
    other = await scenario.product(shop.world, apis=[shop.api])
    await choose(scenario, other, ops["create"])
    await _give_products(scenario, shop, [shop.product.id, other.id])
    assert await ask(gate, shop.token, "GET", "/orders") == "ok"
    assert await ask(gate, shop.token, "POST", "/orders") == "ok"
    assert await ask(gate, shop.token, "GET", "/orders/42") == "operation_not_allowed"
    # A product holding the API without choosing operations grants all of them.
    whole = await scenario.product(shop.world, apis=[shop.api])
    await _give_products(scenario, shop, [shop.product.id, other.id, whole.id])
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"


async def _give_products(scenario: Scenario, shop: Shop, product_ids: list[uuid.UUID]) -> None:
    await access_profiles.update_access_profile(
        session=scenario.session,
        actor=shop.world.owner.principal,
        access_profile_id=shop.app.id,
        product_ids=product_ids,
    )


@pytest.mark.parametrize(
    ("method", "path", "reason"),
    [
        ("GET", "/orders/42?a=b", "ok"),
        ("GET", "/orders/42?next=/admin/../x", "ok"),
        ("get", "/orders/42", "ok"),
        ("GET", "/orders/42/", "ok"),
        ("GET", "/%6Frders/%34%32", "ok"),
        ("GET", "/orders/../admin", "operation_not_allowed"),
        ("GET", "/orders/42/..", "operation_not_allowed"),
        ("GET", "/orders/1%2F..%2Fadmin", "operation_not_allowed"),
        ("GET", "/orders/1%2f..%2fadmin", "operation_not_allowed"),
        ("GET", "/orders/%2e%2e/admin", "operation_not_allowed"),
        ("GET", "/orders/1%5C..%5Cadmin", "operation_not_allowed"),
        ("GET", "//orders", "operation_not_allowed"),
        ("GET", "/orders//42", "operation_not_allowed"),
        ("GET", "/orders/1;x", "operation_not_allowed"),
        ("GET", "/orders/1%00", "operation_not_allowed"),
        ("GET", "/orders/1%252F..%252Fadmin", "operation_not_allowed"),
        ("GET", "/ORDERS/42", "operation_not_allowed"),
        ("GET", "/orders/SEARCH", "operation_not_allowed"),
        ("GET", "orders/42", "operation_not_allowed"),
    ],
)
async def test_path_tricks_match_no_operation_they_would_not_match_literally(
    gate: Gate, shop: Shop, scenario: Scenario, method: str, path: str, reason: str
) -> None:
    ops = await orders_api(scenario, shop)
    await choose(scenario, shop.product, ops["read"], ops["list"])
    assert await ask(gate, shop.token, method, path) == reason


async def test_a_request_without_method_or_path_is_refused_when_operations_are_declared(
    http: httpx.AsyncClient, gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    body: dict[str, Any] = {"credential": shop.token, "api": "orders", "ip": PEER}
    assert (await http.post("/v1/check", json=body)).json()["reason"] == "ok"
    await declare(scenario, shop.api, "GET", "/orders/{id}")
    assert (await http.post("/v1/check", json=body)).json()["reason"] == "operation_not_allowed"
    no_method = body | {"path": "/orders/1"}
    assert (await http.post("/v1/check", json=no_method)).json()["reason"] == (
        "operation_not_allowed"
    )
    # Forward auth without X-Original-URI / X-Forwarded-Uri: no path to match.
    answered = await http.get(
        "/v1/authorize", params={"api": "orders"}, headers={"X-API-Key": shop.token}
    )
    assert answered.status_code == 403
    assert answered.headers["x-accessplane-reason"] == "operation_not_allowed"
    # X-Forwarded-Method / X-Forwarded-Uri (Traefik) work like nginx's X-Original-*.
    answered = await http.get(
        "/v1/authorize",
        params={"api": "orders"},
        headers={
            "X-API-Key": shop.token,
            "X-Forwarded-Method": "GET",
            "X-Forwarded-Uri": "/orders/7?x=1",
        },
    )
    assert answered.status_code == 200
    # Envoy's ext_authz: the original path after /v1/authorize, the original method (the API
    # in a header: a query after the appended path is the client's).
    envoy = {"X-API-Key": shop.token, "X-AccessPlane-Api": "orders"}
    answered = await http.get("/v1/authorize/orders/7", headers=envoy)
    assert answered.status_code == 200
    # ... as the client sent it: an encoded "/" is not a separator there either.
    await declare(scenario, shop.api, "GET", "/orders/{id}/items")
    for appended, status in (("/orders/7/items", 200), ("/orders/7%2Fitems", 403)):
        answered = await http.get(f"/v1/authorize{appended}", headers=envoy)
        assert answered.status_code == status, appended


async def test_changes_to_operations_apply_at_once(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"  # cached now
    read = await declare(scenario, shop.api, "GET", "/orders/{id}")
    listing = await declare(scenario, shop.api, "GET", "/orders")
    assert await ask(gate, shop.token, "DELETE", "/orders/42") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"
    await choose(scenario, shop.product, listing)
    assert await ask(gate, shop.token, "GET", "/orders/42") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/orders") == "ok"
    # The product's choice undone: the whole API again.
    await scenario.session.execute(
        delete(ApiProductOperation).where(
            ApiProductOperation.product_id == shop.product.id  # type: ignore[arg-type]
        )
    )
    await _commit_tagged(scenario, f"api_product:{shop.product.id}")
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"
    # An operation edited or deleted.
    read.path = "/orders/{id}/details"
    scenario.session.add(read)
    await scenario.session.commit()
    assert await ask(gate, shop.token, "GET", "/orders/42") == "operation_not_allowed"
    assert await ask(gate, shop.token, "GET", "/orders/42/details") == "ok"
    await scenario.session.delete(read)
    await scenario.session.delete(listing)
    await scenario.session.commit()
    assert await ask(gate, shop.token, "DELETE", "/orders/42") == "ok"  # none declared


async def _commit_tagged(scenario: Scenario, *tags: str) -> None:
    """Commit a bulk statement with the tags it changed, as services do."""
    changed(scenario.session, *tags)
    await scenario.session.commit()


async def test_operations_cost_one_statement_on_a_cold_lookup_and_none_warm(
    gate: Gate, shop: Shop, scenario: Scenario, count_queries: QueryCounter
) -> None:
    ops = await orders_api(scenario, shop)
    await choose(scenario, shop.product, ops["read"])
    with count_queries:
        assert await ask(gate, shop.token, "GET", "/orders/1") == "ok"
    # The app with its plan, its products' APIs, then their operations (and choices).
    assert count_queries.count == 3
    with count_queries:
        for n in range(5):
            assert await ask(gate, shop.token, "GET", f"/orders/{n}") == "ok"
        assert await ask(gate, shop.token, "POST", "/orders") == "operation_not_allowed"
    assert count_queries.count == 0


async def test_many_apps_share_one_compiled_table(
    gate: Gate, shop: Shop, scenario: Scenario, app: Starlette
) -> None:
    await orders_api(scenario, shop)
    second = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=shop.world.owner.principal,
        secret=scenario.secret,
        client_id=shop.client.id,
        name="mobile",
        auth_method=shop.app.auth_method,
        product_ids=[shop.product.id],
        plan_id=shop.plan.id,
    )
    assert second.token is not None
    assert await ask(gate, shop.token, "GET", "/orders/1") == "ok"
    assert await ask(gate, second.token, "GET", "/orders/1") == "ok"
    cache = app.state.decider.cache
    apps = [e.value for e in cache.entries.values() if isinstance(e.value, AppPolicy)]
    assert len(apps) == 2
    assert apps[0].operations["orders"].table is apps[1].operations["orders"].table


async def test_changes_through_the_services_apply_at_once(
    gate: Gate, shop: Shop, scenario: Scenario
) -> None:
    owner = shop.world.owner.principal
    session = scenario.session
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"  # cached now
    read = await operations.create_operation(
        session=session, actor=owner, api_id=shop.api.id, method="GET", path="/orders/{id}"
    )
    create = await operations.create_operation(
        session=session, actor=owner, api_id=shop.api.id, method="POST", path="/orders"
    )
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"
    assert await ask(gate, shop.token, "GET", "/orders") == "operation_not_allowed"
    await products.update_product(
        session=session, actor=owner, product_id=shop.product.id, operation_ids=[create.id]
    )
    assert await ask(gate, shop.token, "GET", "/orders/42") == "operation_not_allowed"
    assert await ask(gate, shop.token, "POST", "/orders") == "ok"
    await operations.update_operation(
        session=session,
        actor=owner,
        operation_id=create.id,
        edit=operations.OperationEdit(path="/orders/new"),
    )
    assert await ask(gate, shop.token, "POST", "/orders") == "operation_not_allowed"
    assert await ask(gate, shop.token, "POST", "/orders/new") == "ok"
    await products.update_product(
        session=session, actor=owner, product_id=shop.product.id, operation_ids=[]
    )
    assert await ask(gate, shop.token, "GET", "/orders/42") == "ok"  # the whole API again
    await operations.delete_operation(session=session, actor=owner, operation_id=read.id)
    assert await ask(gate, shop.token, "GET", "/orders/42") == "operation_not_allowed"
    await operations.delete_operation(session=session, actor=owner, operation_id=create.id)
    assert await ask(gate, shop.token, "DELETE", "/anything") == "ok"  # none declared
