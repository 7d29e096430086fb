"""Console sessions opened with an API key (``POST /auth/key``), and what ends them: logout,
the key deleted, regenerated or expired, the session's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.auth.tokens import TokenKind, issue_token
from accessplane.models import ApiAccess, ConsoleSession
from accessplane.settings import Settings
from tests.conftest import SECRET, QueryCounter
from tests.support.graphql import GraphQLClient
from tests.support.scenario import Scenario, World

BASE_URL = "http://testserver"
COOKIE = "accessplane_session"
VIEWER = "query { viewer { kind name memberships { roleName workspace { name } } } }"
REGENERATE = """
mutation Regenerate($input: RegenerateApiAccessInput!) {
  regenerateApiAccess(input: $input) { token userErrors { code } }
}
"""
DELETE = """
mutation Delete($input: DeleteApiAccessesInput!) {
  deleteApiAccesses(input: $input) { deletedApiAccessIds userErrors { code } }
}
"""
KEY_IDS = "query($id: ID!) { workspace(id: $id) { apiAccesses { edges { node { id name } } } } }"


def client_for(app: Starlette, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    """A browser-like client: one cookie jar, reaching the app in process."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


async def sign_in(http: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    return await http.post("/auth/key", json={"key": key}, headers=headers)


async def post_graphql(
    http: httpx.AsyncClient, query: str, csrf: str | None, **variables: Any
) -> dict[str, Any]:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def refusal(body: dict[str, Any]) -> tuple[str | None, str | None]:
    assert body.get("data") is None, body
    extensions = body["errors"][0]["extensions"]
    return extensions.get("code"), extensions.get("reason")


async def session_rows(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(ConsoleSession))
    await session.commit()  # the next count sees later commits
    return int(count or 0)


async def key_id(graphql_client: GraphQLClient, world: World, name: str) -> str:
    data = (
        await graphql_client.as_principal(world.owner.principal).execute(KEY_IDS, id=world.id)
    ).ok()
    return next(
        edge["node"]["id"]
        for edge in data["workspace"]["apiAccesses"]["edges"]
        if edge["node"]["name"] == name
    )


async def test_an_api_key_opens_a_console_session_acting_as_the_key(
    browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace("Acme")
    key = await scenario.api_key(world, "Developer", name="console key")

    response = await sign_in(browser, key)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"authenticated", "csrfToken", "expiresAt"}
    assert body["authenticated"] is True
    assert len(body["csrfToken"]) >= 32
    now = datetime.now(UTC).timestamp()
    assert now + 8 * 3600 - 60 <= body["expiresAt"] <= now + 8 * 3600 + 60
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert response.headers["cache-control"] == "no-store"
    assert await session_rows(session) == 1

    described = (await browser.get("/auth/session")).json()
    assert described == {
        "authenticated": True,
        "method": "api_key",
        "expiresAt": body["expiresAt"],
        "csrfToken": body["csrfToken"],
        "apiAccess": {
            "id": described["apiAccess"]["id"],
            "name": "console key",
            "roleName": "Developer",
            "workspaceId": world.id,
        },
    }
    viewer = await post_graphql(browser, VIEWER, body["csrfToken"])
    assert viewer == {
        "data": {
            "viewer": {
                "kind": "API_ACCESS",
                "name": "console key",
                "memberships": [{"roleName": "Developer", "workspace": {"name": "Acme"}}],
            }
        }
    }


async def test_graphql_posts_with_the_cookie_need_the_csrf_token(
    browser: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    csrf = (await sign_in(browser, await scenario.api_key(world))).json()["csrfToken"]

    missing = await post_graphql(browser, VIEWER, None)
    wrong = await post_graphql(browser, VIEWER, "x" * 43)
    foreign = await browser.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )

    assert refusal(missing) == ("UNAUTHENTICATED", "csrf")
    assert refusal(wrong) == ("UNAUTHENTICATED", "csrf")
    assert refusal(foreign.json()) == ("UNAUTHENTICATED", "csrf")
    assert (await post_graphql(browser, VIEWER, csrf))["data"]["viewer"]["kind"] == "API_ACCESS"


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "apk_" + "A" * 36,  # the right length, a wrong checksum
        issue_token(TokenKind.API_ACCESS, SECRET.encode()).plaintext,  # well formed, unknown
        issue_token(TokenKind.ACCESS_PROFILE, SECRET.encode()).plaintext,  # an app's token
    ],
)
async def test_a_wrong_key_is_refused_and_opens_no_session(
    browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession, key: str
) -> None:
    await scenario.workspace()

    response = await sign_in(browser, key)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_key"
    assert response.json()["message"]
    assert COOKIE not in browser.cookies
    assert (await browser.get("/auth/session")).json() == {"authenticated": False}
    assert await session_rows(session) == 0


async def test_an_expired_key_is_refused(
    browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world, expires_at=datetime.now(UTC) - timedelta(minutes=1))

    response = await sign_in(browser, key)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_key", "message": "The API key has expired."}
    assert await session_rows(session) == 0


async def test_the_session_ends_when_its_key_expires(
    app: Starlette, browser: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    expires = datetime.now(UTC) + timedelta(hours=1)
    key = await scenario.api_key(world, expires_at=expires)

    body = (await sign_in(browser, key)).json()

    # The session ends with its key, before its own eight hours.
    assert body["expiresAt"] == int(expires.timestamp())
    credentials = app.state.credentials
    started = credentials.clock()
    credentials.clock = lambda: started + 3600 - 60
    assert (await post_graphql(browser, VIEWER, body["csrfToken"]))["data"]["viewer"]
    credentials.clock = lambda: started + 3600 + 60
    assert refusal(await post_graphql(browser, VIEWER, body["csrfToken"])) == (
        "UNAUTHENTICATED",
        "expired",
    )


@pytest.mark.parametrize("change", ["deleted", "regenerated"])
async def test_deleting_or_regenerating_the_key_ends_its_sessions_at_once(
    browser: httpx.AsyncClient,
    graphql: GraphQLClient,
    scenario: Scenario,
    session: AsyncSession,
    change: str,
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world, "Viewer", name="short-lived")
    csrf = (await sign_in(browser, key)).json()["csrfToken"]
    assert (await browser.get("/auth/session")).json()["authenticated"] is True
    target = await key_id(graphql, world, "short-lived")
    owner = graphql.as_principal(world.owner.principal)

    if change == "deleted":
        (await owner.execute(DELETE, input={"ids": [target]})).payload("deleteApiAccesses")
    else:
        # Even with a grace period for the old token on the API, its console sessions end.
        (
            await owner.execute(
                REGENERATE,
                input={
                    "id": target,
                    "expiresAt": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                    "gracePeriodSeconds": 3600,
                },
            )
        ).payload("regenerateApiAccess")

    assert refusal(await post_graphql(browser, VIEWER, csrf)) == ("UNAUTHENTICATED", "revoked")
    assert (await browser.get("/auth/session")).json() == {"authenticated": False}
    # The old token cannot open a new session either.
    assert (await sign_in(browser, key)).status_code == 401
    if change == "deleted":
        assert await session_rows(session) == 0


async def test_logout_revokes_the_session_so_a_copied_cookie_is_refused(
    app: Starlette, browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    csrf = (await sign_in(browser, await scenario.api_key(world))).json()["csrfToken"]
    copied = browser.cookies[COOKIE]

    response = await browser.post("/auth/logout", headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response.json() == {"authenticated": False, "logoutUrl": None}
    assert await session_rows(session) == 0
    stolen = {"Cookie": f"{COOKIE}={copied}"}
    async with client_for(app) as thief:
        described = await thief.get("/auth/session", headers=stolen)
        replayed = await thief.post(
            "/graphql", json={"query": VIEWER}, headers={**stolen, "X-CSRF-Token": csrf}
        )
    assert described.json() == {"authenticated": False}
    assert refusal(replayed.json()) == ("UNAUTHENTICATED", "revoked")


async def test_logout_by_get_still_redirects_home(
    browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await sign_in(browser, await scenario.api_key(world))

    response = await browser.get("/auth/logout")

    assert response.status_code == 303
    assert response.headers["location"] == f"{BASE_URL}/"
    assert await session_rows(session) == 0
    assert (await browser.get("/auth/session")).json() == {"authenticated": False}


async def test_a_new_sign_in_ends_the_browsers_previous_session(
    browser: httpx.AsyncClient, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    await sign_in(browser, await scenario.api_key(world, "Viewer"))
    await sign_in(browser, await scenario.api_key(world, "Developer", name="second"))

    assert await session_rows(session) == 1
    assert (await browser.get("/auth/session")).json()["apiAccess"]["name"] == "second"


async def test_all_sessions_of_a_key_end_together(
    app: Starlette, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world, name="shared")
    async with client_for(app) as first, client_for(app) as second:
        await sign_in(first, key)
        await sign_in(second, key)
        other = await scenario.api_key(world, name="other")
        async with client_for(app) as third:
            await sign_in(third, other)
            key_row = await session.scalar(select(ApiAccess).where(ApiAccess.name == "shared"))
            assert key_row is not None

            ended = await app.state.credentials.console_sessions.end_all(
                session, api_access_id=key_row.id
            )
            await session.commit()

            assert ended == 2
            assert (await first.get("/auth/session")).json() == {"authenticated": False}
            assert (await second.get("/auth/session")).json() == {"authenticated": False}
            assert (await third.get("/auth/session")).json()["authenticated"] is True


async def test_opening_a_session_prunes_expired_ones(
    app: Starlette, scenario: Scenario, session: AsyncSession, settings: Settings
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    credentials = app.state.credentials
    started = credentials.clock()
    async with client_for(app) as first, client_for(app) as second:
        await sign_in(first, key)
        await sign_in(second, key)
        assert await session_rows(session) == 2
        credentials.clock = lambda: started + settings.session_max_age + 1
        async with client_for(app) as later:
            assert (await sign_in(later, key)).status_code == 200

    assert await session_rows(session) == 1


async def test_sign_in_refuses_other_sites_and_other_bodies(
    browser: httpx.AsyncClient, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)

    foreign = await sign_in(browser, key, Origin="https://evil.example")
    form = await browser.post("/auth/key", data={"key": key})
    not_json = await browser.post(
        "/auth/key", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    no_key = await browser.post("/auth/key", json={"token": key})
    huge = await browser.post("/auth/key", json={"key": "apk_" + "A" * 10_000})
    same_site = await sign_in(browser, key, Origin=BASE_URL)

    assert (foreign.status_code, foreign.json()["error"]) == (403, "forbidden_origin")
    assert (form.status_code, form.json()["error"]) == (415, "unsupported_media_type")
    assert (not_json.status_code, not_json.json()["error"]) == (400, "invalid_request")
    assert (no_key.status_code, no_key.json()["error"]) == (400, "invalid_request")
    assert (huge.status_code, huge.json()["error"]) == (413, "body_too_large")
    assert same_site.status_code == 200


async def test_failed_sign_ins_are_rate_limited_per_client_address(
    engine: AsyncEngine, database_url: str, scenario: Scenario
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        secret_key=SECRET,
        key_sign_in_max_failures=3,
        key_sign_in_window_seconds=600,
    )
    app = create_app(settings, engine=engine)
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    wrong = issue_token(TokenKind.API_ACCESS, SECRET.encode()).plaintext

    async with client_for(app, "198.51.100.1") as guesser, client_for(app, "198.51.100.2") as other:
        answers = [(await sign_in(guesser, wrong)).status_code for _ in range(3)]
        limited = await sign_in(guesser, wrong)
        # Past the limit even the right key waits: guessing cannot go on.
        right_key = await sign_in(guesser, key)
        elsewhere = await sign_in(other, key)

    assert answers == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 600
    assert right_key.status_code == 429
    assert elsewhere.status_code == 200


async def test_only_cookie_requests_look_up_console_sessions(
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    scenario: Scenario,
    count_queries: QueryCounter,
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    csrf = (await sign_in(browser, key)).json()["csrfToken"]

    with count_queries:
        keyed = await http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {key}"}
        )
    bearer_statements = list(count_queries.statements)
    with count_queries:
        cookie = await post_graphql(browser, VIEWER, csrf)
    cookie_statements = list(count_queries.statements)

    assert keyed.json()["data"]["viewer"]["kind"] == "API_ACCESS"
    assert cookie["data"]["viewer"]["kind"] == "API_ACCESS"
    assert not [s for s in bearer_statements if "console_session" in s]
    # The session's one look-up (by primary key, joined with the key and its role) takes the
    # place of the bearer key's look-up: no more statements than with the key itself.
    assert len([s for s in cookie_statements if "console_session" in s]) == 1
    assert len(cookie_statements) == len(bearer_statements), cookie_statements
