"""The HTTP surface: health, GraphiQL, hardening limits and error masking."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from accessplane.app import create_app
from accessplane.db import create_engine
from accessplane.schema.build import PARSE_CACHE_SIZE, VALIDATION_CACHE_SIZE
from accessplane.services import workspaces
from accessplane.settings import DEVELOPMENT_SECRET, Settings


async def test_health_and_readiness(http) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/readyz")).json() == {"status": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path) -> None:
    settings = Settings(
        environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db"
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503


async def test_graphiql_is_served_to_browsers(http) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_over_get_are_refused(http) -> None:
    response = await http.get("/graphql", params={"query": "{ permissionCatalog { name } }"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "not allowed" in error["message"]


async def test_graphiql_can_be_turned_off(engine, settings) -> None:
    app = create_app(settings.model_copy(update={"graphiql": False}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in response.text.lower()
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_query_depth_is_limited(graphql, scenario) -> None:
    world = await scenario.workspace()
    deep = "query($id: ID!) { workspace(id: $id) { apis { edges { node { people { edges { node { apis { edges { node { people { edges { node { apis { edges { node { name } } } } } } } } } } } } } } } } }"  # noqa: E501

    result = await graphql.as_principal(world.owner.principal).execute(deep, id=world.id)

    assert result.data is None
    assert "exceeds maximum operation depth" in result.errors[0]["message"]


async def test_aliases_are_limited(graphql, scenario) -> None:
    world = await scenario.workspace()
    many = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(40)) + " }"

    result = await graphql.as_principal(world.owner.principal).execute(many)

    assert result.data is None
    assert "aliases" in result.errors[0]["message"].lower()


async def test_internal_errors_are_masked(graphql, scenario, monkeypatch) -> None:
    world = await scenario.workspace()

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(workspaces, "list_workspaces", broken)

    result = await graphql.as_principal(world.owner.principal).execute("{ workspaces { id } }")

    assert result.errors[0]["message"] == "Unexpected error."
    assert "secret internals" not in str(result.errors)


async def test_introspection_can_be_turned_off(engine, settings) -> None:
    app = create_app(settings.model_copy(update={"introspection": False}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    assert response.json()["data"] is None


def test_production_refuses_the_default_or_a_short_secret() -> None:
    with pytest.raises(ValueError, match="ACCESSPLANE_SECRET_KEY"):
        Settings(environment="production", secret_key=DEVELOPMENT_SECRET)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ACCESSPLANE_SECRET_KEY"):
        Settings(environment="production", secret_key="short")  # type: ignore[arg-type]
    assert Settings(environment="production", secret_key="x" * 32).environment == "production"  # type: ignore[arg-type]


async def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    async with engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
    await engine.dispose()
    assert (mode, foreign_keys) == ("wal", 1)


async def test_a_repeated_query_is_parsed_and_validated_once(graphql, scenario) -> None:
    """The parser and validation caches hit (the depth and alias rules are built once)."""
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    query = "{ viewer { kind name } } # cache probe"
    validations = _get_validate_cache(VALIDATION_CACHE_SIZE)
    parses = _get_parse_cache(PARSE_CACHE_SIZE)

    await caller.execute(query)
    validated, parsed = validations.cache_info(), parses.cache_info()
    await caller.execute(query)
    await caller.execute(query)

    assert validations.cache_info().misses == validated.misses
    assert validations.cache_info().hits == validated.hits + 2
    assert parses.cache_info().misses == parsed.misses
