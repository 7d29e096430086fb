"""The yardsticks the GraphQL API is compared with, served like the app itself.

``/bare`` answers ``{"ok": true}``: the floor of Starlette under these uvicorn settings.
``/baseline/apis`` answers exactly what the API table query answers (same JSON), computed with
one hand-written SQL statement that also checks the API key: what the query could cost if
written by hand for this one screen. ``/baseline/graphql`` is a minimal Strawberry schema
answering ``{ viewer { kind name } }`` with constants, through Strawberry's own ASGI view
with its parser and validation caches: no authentication, context, database or middleware,
so AccessPlane's ``{ viewer }`` over it is what AccessPlane itself adds to Strawberry on the
same server stack.

    uvicorn bench.baseline:create_app --factory   (settings from ACCESSPLANE_* like the app)
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.relay import GlobalID

from accessplane.auth.tokens import token_digest
from accessplane.db import create_engine
from accessplane.models.base import UTCDateTime, utcnow
from accessplane.settings import Settings

# Portable SQL (SQLite and PostgreSQL): the caller's key, the page of APIs, and the first five
# people and groups of each with their counts, as one flat result of four kinds of rows:
# 0 = total count (absent if the key is refused), 1 = an API of the page, 2 = a person,
# 3 = a group; Python nests them. CROSS JOIN makes SQLite start from the page and look grants
# up by index (otherwise it scans all grants); PostgreSQL plans it as any inner join.
API_TABLE_SQL = text(
    """
WITH viewer AS (
    SELECT k.workspace_id
    FROM api_access AS k JOIN role AS r ON r.id = k.role_id
    WHERE k.token_digest = :digest AND k.workspace_id = :workspace_id AND r.all_apis
      AND (k.expires_at IS NULL OR k.expires_at > :now)
),
page AS (
    SELECT a.id, a.name, a.identifier, row_number() OVER (ORDER BY a.name, a.id) AS rank
    FROM api AS a
    WHERE a.workspace_id = :workspace_id AND EXISTS (SELECT 1 FROM viewer)
    ORDER BY a.name, a.id
    LIMIT :first
),
people AS (
    SELECT g.api_id, m.id AS member_id, u.email,
           row_number() OVER (PARTITION BY g.api_id ORDER BY u.email, m.id) AS rank,
           count(*) OVER (PARTITION BY g.api_id) AS total
    FROM page AS p
    CROSS JOIN api_grant AS g
    CROSS JOIN member AS m
    CROSS JOIN user_account AS u
    WHERE g.api_id = p.id AND m.id = g.member_id AND u.id = m.user_id
),
groups AS (
    SELECT g.api_id, mg.name,
           row_number() OVER (PARTITION BY g.api_id ORDER BY mg.name, mg.id) AS rank,
           count(*) OVER (PARTITION BY g.api_id) AS total
    FROM page AS p
    CROSS JOIN api_grant AS g
    CROSS JOIN member_group AS mg
    WHERE g.api_id = p.id AND mg.id = g.group_id
)
SELECT 0 AS kind, NULL AS api_id, NULL AS label, NULL AS detail,
       (SELECT count(*) FROM api AS a WHERE a.workspace_id = v.workspace_id) AS n, 0 AS rank
FROM viewer AS v
UNION ALL
SELECT 1, id, name, identifier, NULL, rank FROM page
UNION ALL
SELECT 2, api_id, email, CAST(member_id AS VARCHAR(36)), total, rank FROM people WHERE rank <= 5
UNION ALL
SELECT 3, api_id, name, NULL, total, rank FROM groups WHERE rank <= 5
ORDER BY 1, 6
"""
).bindparams(
    bindparam("workspace_id", type_=Uuid()),
    bindparam("now", type_=UTCDateTime()),
)


def _uuid(value: Any) -> uuid.UUID:
    # PostgreSQL returns UUIDs, SQLite the 32 hex digits SQLAlchemy stores.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _global_id(type_name: str, pk: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def nest(rows: list[Any]) -> dict[str, Any] | None:
    """The GraphQL-shaped answer from the flat rows, or None if the key was refused."""
    total: int | None = None
    apis: dict[uuid.UUID, dict[str, Any]] = {}
    people: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    groups: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    people_count: dict[uuid.UUID, int] = {}
    groups_count: dict[uuid.UUID, int] = {}
    for kind, api_id, label, detail, n, _rank in rows:
        if kind == 0:
            total = int(n)
            continue
        api = _uuid(api_id)
        if kind == 1:
            apis[api] = {"name": label, "identifier": detail}
        elif kind == 2:
            node = {"id": _global_id("Member", _uuid(detail)), "user": {"email": label}}
            people[api].append({"node": node})
            people_count[api] = int(n)
        else:
            groups[api].append({"node": {"name": label}})
            groups_count[api] = int(n)
    if total is None:
        return None
    edges = [
        {
            "node": {
                **fields,
                "peopleCount": people_count.get(api, 0),
                "groupsCount": groups_count.get(api, 0),
                "people": {"edges": people[api]},
                "groups": {"edges": groups[api]},
            }
        }
        for api, fields in apis.items()
    ]
    return {"data": {"workspace": {"apis": {"totalCount": total, "edges": edges}}}}


@strawberry.type
class MinimalViewer:
    kind: str
    name: str


@strawberry.type
class MinimalQuery:
    @strawberry.field
    def viewer(self) -> MinimalViewer:
        return MinimalViewer(kind="API_ACCESS", name="bench")


def minimal_graphql() -> GraphQL[None, None]:
    """The smallest Strawberry server of ``{ viewer { kind name } }``: the yardstick of (d).
    It caches parsing and validation as any production schema does (AccessPlane's too), so
    the difference is what AccessPlane adds, not a parse per request."""
    schema = strawberry.Schema(
        query=MinimalQuery, extensions=[ParserCache(maxsize=100), ValidationCache(maxsize=100)]
    )
    return GraphQL(schema, graphql_ide=None)


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The baseline app, on the same settings and engine configuration as AccessPlane's."""
    settings = settings or Settings()
    engine = engine or create_engine(settings.database_url)
    secret = settings.secret_key.get_secret_value().encode()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def bare(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def api_table(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            workspace_id = uuid.UUID(GlobalID.from_id(request.query_params["workspace"]).node_id)
            first = int(request.query_params.get("first", "100"))
        except (KeyError, ValueError):
            return JSONResponse({"error": "bad request"}, status_code=400)
        params = {
            "digest": token_digest(token.strip(), secret),
            "workspace_id": workspace_id,
            "now": utcnow(),
            "first": min(max(first, 1), settings.max_page_size),
        }
        async with engine.connect() as connection:
            rows = (await connection.execute(API_TABLE_SQL, params)).all()
        answer = nest(list(rows)) if scheme.lower() == "bearer" else None
        if answer is None:
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        return JSONResponse(answer)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/bare", bare),
            Route("/baseline/apis", api_table),
            Route("/baseline/graphql", minimal_graphql(), methods=["POST"]),
        ]
    )
