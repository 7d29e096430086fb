"""GraphQL clients for tests, one per kind of caller (cf. Saleor's ``staff_api_client``).

``as_key(token)`` goes over HTTP with ``Authorization: Bearer``, exactly as a partner would.
``as_principal(principal)`` executes the same schema with a member's principal in the context:
members authenticate by OIDC, which has its own HTTP tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.auth.principals import Principal
from accessplane.context import Context
from accessplane.db.session import request_sessions
from accessplane.schema.build import build_schema
from accessplane.settings import Settings


@dataclass
class Result:
    """A GraphQL response."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    def ok(self) -> dict[str, Any]:
        """The data, asserting there were no errors."""
        assert not self.errors, self.errors
        assert self.data is not None
        return self.data

    def payload(self, name: str) -> dict[str, Any]:
        """A mutation's payload, asserting it had no userErrors."""
        payload = self.ok()[name]
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload  # type: ignore[no-any-return]

    def user_errors(self, name: str) -> list[dict[str, Any]]:
        return self.ok()[name]["userErrors"]  # type: ignore[no-any-return]


@dataclass
class Caller:
    client: GraphQLClient
    principal: Principal | None = None
    token: str | None = None

    async def execute(self, query: str, **variables: Any) -> Result:
        if self.token is not None or self.principal is None:
            return await self.client.over_http(query, variables, self.token)
        return await self.client.in_process(query, variables, self.principal)


@dataclass
class GraphQLClient:
    app: Starlette
    engine: AsyncEngine
    settings: Settings
    http: httpx.AsyncClient

    def __post_init__(self) -> None:
        self.schema = build_schema(self.settings)

    def as_principal(self, principal: Principal) -> Caller:
        return Caller(self, principal=principal)

    def as_key(self, token: str) -> Caller:
        return Caller(self, token=token)

    def anonymous(self) -> Caller:
        return Caller(self)

    async def over_http(self, query: str, variables: dict[str, Any], token: str | None) -> Result:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Result(data=body.get("data"), errors=body.get("errors") or [])

    async def multipart(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        token: str,
    ) -> Result:
        """A GraphQL multipart request (the spec of jaydenseric/graphql-multipart-request-spec):
        ``files`` maps a variable path such as ``variables.input.logo`` to (name, bytes, type)."""
        paths = list(files)
        response = await self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": query, "variables": variables}),
                "map": json.dumps({str(i): [path] for i, path in enumerate(paths)}),
            },
            files={str(i): files[path] for i, path in enumerate(paths)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Result(data=body.get("data"), errors=body.get("errors") or [])

    async def in_process(
        self, query: str, variables: dict[str, Any], principal: Principal
    ) -> Result:
        async with request_sessions(self.engine)() as session:
            context = Context(session=session, settings=self.settings, viewer=principal)
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context
            )
        return Result(
            data=result.data,  # type: ignore[arg-type]
            errors=[e.formatted for e in result.errors or []],  # type: ignore[misc]
        )
