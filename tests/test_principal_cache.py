"""GraphQL principals are cached (signin/principal_cache.py): a warm request runs no SQL to know
its caller, and every change to what a principal was built from applies on the very next
request (on this instance), or once its NOTIFY arrives (on another one)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.auth.principals import Membership, Principal, PrincipalKind
from accessplane.decision.cache import DecisionCache
from accessplane.services import api_access, members, roles
from accessplane.settings import OidcIssuer, Settings
from accessplane.signin import principal_cache
from tests.conftest import SECRET, QueryCounter
from tests.support.issuer import LocalIssuer, local_issuer
from tests.support.scenario import Scenario

AUDIENCE = "urn:accessplane:test"
VIEWER = "{ viewer { kind name memberships { roleName permissions } } }"
WHO = "{ viewer { kind name } }"
# How long another instance may take to apply a change it hears of by NOTIFY (milliseconds
# on loopback; the bound only keeps a broken listener from hanging the test).
NOTIFY_BOUND = 5.0


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    async with local_issuer() as running:
        yield running


@pytest.fixture
def settings(database_url: str, issuer: LocalIssuer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        secret_key=SecretStr(SECRET),
        oidc_issuers=[OidcIssuer(issuer=issuer.url, audience=[AUDIENCE])],
    )


async def ask(http: httpx.AsyncClient, token: str, query: str = VIEWER) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


async def viewer(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await ask(http, token)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]["viewer"]  # type: ignore[no-any-return]


async def refused(http: httpx.AsyncClient, token: str) -> str:
    """The reason a request with ``token`` is UNAUTHENTICATED."""
    body = (await ask(http, token)).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", body
    return str(error["extensions"]["reason"])


async def warm(http: httpx.AsyncClient, token: str, count_queries: QueryCounter) -> None:
    """Ask twice; the second request must find its principal without SQL."""
    await viewer(http, token)
    with count_queries:
        assert (await ask(http, token, WHO)).json()["data"]["viewer"]["kind"]
    assert count_queries.count == 0, count_queries.statements


def key_owner(world: Any) -> Principal:
    return world.owner.principal  # type: ignore[no-any-return]


async def test_a_warm_api_key_request_runs_no_sql(
    http: httpx.AsyncClient, scenario: Scenario, count_queries: QueryCounter
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, role="Viewer", name="reader")
    with count_queries:
        assert (await viewer(http, token))["name"] == "reader"
    assert any("api_access" in s for s in count_queries.statements)  # looked up once
    for _ in range(3):
        await warm(http, token, count_queries)


async def test_a_deleted_key_is_refused_on_the_next_request(
    http: httpx.AsyncClient, scenario: Scenario, count_queries: QueryCounter
) -> None:
    world = await scenario.workspace()
    made = await scenario.api_access(world, role="Viewer")
    await warm(http, made.token, count_queries)

    await api_access.delete_api_accesses(
        session=scenario.session, actor=key_owner(world), api_access_ids=[made.api_access.id]
    )

    assert await refused(http, made.token) == "revoked"


async def test_a_regenerated_key_refuses_its_old_token_on_the_next_request(
    http: httpx.AsyncClient, scenario: Scenario, count_queries: QueryCounter
) -> None:
    world = await scenario.workspace()
    made = await scenario.api_access(world, role="Viewer")
    await warm(http, made.token, count_queries)

    renewed = await api_access.regenerate_api_access(
        session=scenario.session,
        actor=key_owner(world),
        policy=api_access.ApiAccessPolicy(secret=scenario.secret),
        api_access_id=made.api_access.id,
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )

    assert await refused(http, made.token) == "revoked"
    assert (await viewer(http, renewed.token))["kind"] == "API_ACCESS"


async def test_a_keys_new_role_applies_on_the_next_request(
    http: httpx.AsyncClient, scenario: Scenario, count_queries: QueryCounter
) -> None:
    world = await scenario.workspace()
    made = await scenario.api_access(world, role="Viewer")
    await warm(http, made.token, count_queries)

    await api_access.update_api_access(
        session=scenario.session,
        actor=key_owner(world),
        api_access_id=made.api_access.id,
        role_id=world.roles["Developer"].id,
    )

    [membership] = (await viewer(http, made.token))["memberships"]
    assert membership["roleName"] == "Developer"


async def test_a_roles_new_permissions_apply_on_the_next_request(
    http: httpx.AsyncClient, scenario: Scenario, count_queries: QueryCounter
) -> None:
    world = await scenario.workspace()
    role = await scenario.custom_role(world, "Reader", [roles.PermissionSpec("getApi")])
    made = await scenario.api_access(world, role="Reader")
    [before] = (await viewer(http, made.token))["memberships"]
    assert "getGroup" not in before["permissions"]
    await warm(http, made.token, count_queries)

    await roles.update_role(
        session=scenario.session,
        actor=key_owner(world),
        role_id=role.id,
        permissions=[roles.PermissionSpec("getApi"), roles.PermissionSpec("getGroup")],
    )

    [after] = (await viewer(http, made.token))["memberships"]
    assert "getGroup" in after["permissions"]


async def test_a_removed_or_changed_member_applies_on_the_next_bearer_request(
    http: httpx.AsyncClient,
    scenario: Scenario,
    issuer: LocalIssuer,
    count_queries: QueryCounter,
) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world, role="Viewer")
    token = issuer.token(sub=f"sub-{uuid.uuid4().hex}", email=person.user.email, aud=AUDIENCE)
    [membership] = (await viewer(http, token))["memberships"]  # links the user to the subject
    assert membership["roleName"] == "Viewer"
    await warm(http, token, count_queries)

    await members.update_member_role(
        session=scenario.session,
        actor=key_owner(world),
        member_id=person.member.id,
        role_id=world.roles["Developer"].id,
    )
    [membership] = (await viewer(http, token))["memberships"]
    assert membership["roleName"] == "Developer"
    await warm(http, token, count_queries)

    await members.remove_member(
        session=scenario.session, actor=key_owner(world), member_id=person.member.id
    )
    assert (await viewer(http, token))["memberships"] == []


def _principal() -> Principal:
    workspace_id = uuid.uuid4()
    membership = Membership(
        workspace_id=workspace_id,
        role_id=uuid.uuid4(),
        role_name="Viewer",
        grants={},
        all_apis=False,
    )
    key_id = uuid.uuid4()
    return Principal(
        kind=PrincipalKind.API_ACCESS,
        id=key_id,
        name="key",
        memberships={workspace_id: membership},
        credential_id=key_id,
    )


def test_an_entry_is_not_used_past_its_keys_expiry() -> None:
    cache = principal_cache.PrincipalCache(DecisionCache(size=100, unknown_size=100, ttl=300))
    principal = _principal()
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    key = principal_cache.api_key("digest")
    cache.put(key, principal, cache.generation, valid_until=expiry)

    assert cache.get(key, expiry - timedelta(seconds=1)) is principal
    assert cache.get(key, expiry) is None


def test_a_look_up_that_straddles_a_change_is_not_stored() -> None:
    store = DecisionCache(size=100, unknown_size=100, ttl=300)
    cache = principal_cache.PrincipalCache(store)
    principal = _principal()
    generation = cache.generation
    store.invalidate([f"api_access:{principal.credential_id}"])  # committed meanwhile
    cache.put(principal_cache.api_key("digest"), principal, generation)

    assert cache.get(principal_cache.api_key("digest"), datetime.now(UTC)) is None


def test_the_cache_is_bounded_and_dropped_by_its_tags() -> None:
    store = DecisionCache(size=100, unknown_size=100, ttl=300)
    cache = principal_cache.PrincipalCache(store)
    principals = [_principal() for _ in range(150)]
    for number, principal in enumerate(principals):
        cache.put(principal_cache.api_key(str(number)), principal, cache.generation)
    assert store.sizes()["credentials"] == 100
    now = datetime.now(UTC)
    assert cache.get(principal_cache.api_key("149"), now) is principals[149]

    [workspace_id] = principals[149].memberships
    store.invalidate([f"workspace_access:{workspace_id}"])
    assert cache.get(principal_cache.api_key("149"), now) is None
    assert cache.get(principal_cache.api_key("148"), now) is principals[148]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_another_instance_applies_a_deletion_once_notified(
    app: Starlette, settings: Settings, engine: AsyncEngine, scenario: Scenario
) -> None:
    other = create_app(settings)  # its own engine and cache, as another process would have
    world = await scenario.workspace()
    made = await scenario.api_access(world, role="Viewer")
    transport = httpx.ASGITransport(app=other)
    async with (
        app.router.lifespan_context(app),
        other.router.lifespan_context(other),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        await viewer(http, made.token)
        await viewer(http, made.token)  # cached on the other instance

        await api_access.delete_api_accesses(
            session=scenario.session, actor=key_owner(world), api_access_ids=[made.api_access.id]
        )

        started = time.monotonic()
        while "errors" not in (await ask(http, made.token)).json():
            assert time.monotonic() - started < NOTIFY_BOUND, "the other instance still allows"
            await asyncio.sleep(0.01)
        assert await refused(http, made.token) == "revoked"
