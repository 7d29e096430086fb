"""Request bodies: what is not a GraphQL request is a 400 with a JSON body, and bodies over
ACCESSPLANE_MAX_BODY_BYTES are refused with 413 while they are read, with or without a
Content-Length, on /graphql and /v1/check alike."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from accessplane.app import create_app
from accessplane.settings import Settings

BAD_BODIES = [
    b'"just a string"',
    b"42",
    b"[]",
    b"null",
    b"\xff",
    b'{"query": "{ viewer { kind } }\xff"}',
    b'{"query": ',
]
BAD_BODY_IDS = ["string", "number", "list", "null", "xff", "xff-in-json", "truncated"]
LIMIT = 4096


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("body", BAD_BODIES, ids=BAD_BODY_IDS)
async def test_graphql_answers_a_body_that_is_not_a_request_with_400_json(
    http: httpx.AsyncClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["message"]
    assert _errors_logged(caplog) == []


@pytest.mark.parametrize("body", BAD_BODIES, ids=BAD_BODY_IDS)
async def test_check_answers_a_body_that_is_not_a_request_with_400_json(
    http: httpx.AsyncClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = await http.post("/v1/check", content=body)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "message": "The body must be a JSON object.",
    }
    assert _errors_logged(caplog) == []


@pytest.fixture
async def limited(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a small body limit and logo bound."""
    app = create_app(
        settings.model_copy(update={"max_body_bytes": LIMIT, "client_logo_max_bytes": 2 * LIMIT}),
        engine=engine,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Chunks:
    """A chunked body (no Content-Length) that counts what the server read of it."""

    size: int
    chunk: int = 1024
    sent: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for data in self._chunks():
            self.sent += len(data)
            yield data

    def _chunks(self) -> Iterator[bytes]:
        body = b'{"query": "' + b"x" * self.size + b'"}'
        for start in range(0, len(body), self.chunk):
            yield body[start : start + self.chunk]


def _graphql_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": f"The request body exceeds {limit} bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }


async def test_graphql_refuses_a_declared_length_over_the_limit(
    limited: httpx.AsyncClient,
) -> None:
    body = b'{"query": "' + b"x" * LIMIT + b'"}'

    response = await limited.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    _graphql_too_large(response, LIMIT)


async def test_graphql_stops_reading_a_chunked_body_at_the_limit(
    limited: httpx.AsyncClient,
) -> None:
    body = Chunks(size=100 * LIMIT)

    response = await limited.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    _graphql_too_large(response, LIMIT)
    assert "content-length" not in response.request.headers
    assert body.sent <= LIMIT + body.chunk  # the rest was never read


async def test_graphql_reads_a_body_within_the_limit(limited: httpx.AsyncClient) -> None:
    query = "{ __typename }" + " " * (LIMIT - 100)

    response = await limited.post("/graphql", json={"query": query})

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_the_default_limit_is_one_mebibyte(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        content=Chunks(size=10 * 1024 * 1024, chunk=64 * 1024),
        headers={"Content-Type": "application/json"},
    )

    _graphql_too_large(response, 1024 * 1024)


UPLOAD = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) { userErrors { field } } }"
)


async def _upload(client: httpx.AsyncClient, size: int) -> httpx.Response:
    return await client.post(
        "/graphql",
        data={
            "operations": '{"query": "' + UPLOAD.replace('"', '\\"') + '", "variables": '
            '{"input": {"workspaceId": "x", "name": "Acme", "logo": null}}}',
            "map": '{"0": ["variables.input.logo"]}',
        },
        files={"0": ("logo.png", b"\x89PNG" + b"\0" * size, "image/png")},
    )


async def test_a_multipart_upload_may_add_the_largest_logo_to_the_limit(
    limited: httpx.AsyncClient,
) -> None:
    within = await _upload(limited, LIMIT + LIMIT // 2)  # over max_body_bytes, within the sum
    over = await _upload(limited, 3 * LIMIT)

    assert within.status_code == 200  # answered by GraphQL (here: UNAUTHENTICATED)
    assert within.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    _graphql_too_large(over, 3 * LIMIT)


async def test_check_refuses_a_body_over_its_limit_with_or_without_length(
    limited: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    declared = await limited.post("/v1/check", content=b"x" * (LIMIT + 1))
    chunked_body = Chunks(size=100 * LIMIT)
    chunked = await limited.post("/v1/check", content=chunked_body)
    default = await http.post("/v1/check", content=Chunks(size=1024 * 1024, chunk=8192))

    for response, limit in ((declared, LIMIT), (chunked, LIMIT), (default, 64 * 1024)):
        assert response.status_code == 413
        assert response.json() == {
            "error": "payload_too_large",
            "message": f"The request body exceeds {limit} bytes.",
        }
    assert chunked_body.sent <= LIMIT + chunked_body.chunk


async def test_other_routes_answer_413_in_their_own_shape(limited: httpx.AsyncClient) -> None:
    response = await limited.post("/healthz", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "message": f"The request body exceeds {LIMIT} bytes.",
    }


async def test_graphql_refuses_variables_with_too_many_values_before_coercing_them(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # 250 000 empty strings fit in 1 MiB, yet coercing them would hold the event loop for
    # seconds before any resolver could refuse the list.
    query = (
        "mutation($input: CreateAccessProfileInput!) "
        "{ createAccessProfile(input: $input) { userErrors { code } } }"
    )
    variables = {"input": {"clientId": "x", "name": "n", "allowedIps": [""] * 250_000}}

    response = await http.post("/graphql", json={"query": query, "variables": variables})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {
        "message": "The variables hold more than 10000 values.",
        "extensions": {"code": "BAD_REQUEST"},
    }
    assert _errors_logged(caplog) == []


async def test_graphql_runs_variables_within_the_bound(http: httpx.AsyncClient) -> None:
    query = (
        "mutation($input: GrantApiAccessInput!) "
        "{ grantApiAccess(input: $input) { userErrors { code } } }"
    )
    variables = {"input": {"apiId": "abc", "memberIds": ["abc"] * 9_000}}

    response = await http.post("/graphql", json={"query": query, "variables": variables})

    # Past the HTTP layer: GraphQL itself answers (here: no credential).
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
