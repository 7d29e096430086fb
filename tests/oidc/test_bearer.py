"""Bearer JWTs from a real OpenID Provider: user tokens, client credentials mapped to service
members, groups, key rotation, expiry, audience, issuer, signature, and the provider down."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.models import User
from accessplane.services import grants, group_sync, service_accounts
from accessplane.settings import Settings
from tests.oidc.conftest import issuer_config, issuer_keys, jwt_validator, oidc_settings
from tests.support.oidc import (
    API_AUDIENCE,
    OTHER_AUDIENCE,
    PARTNER_CLIENT,
    SPA_CLIENT,
    UNLINKED_CLIENT,
    ProviderProcess,
    jwt_claims,
)
from tests.support.scenario import Scenario

VIEWER = "query { viewer { kind name memberships { roleName workspace { name } } } }"
APIS = "query($id: ID!) { workspace(id: $id) { apis { edges { node { name } } } } }"


async def call(
    app_or_http: Starlette | httpx.AsyncClient, token: str, query: str, **variables: Any
) -> dict[str, Any]:
    if isinstance(app_or_http, httpx.AsyncClient):
        http = app_or_http
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    else:
        transport = httpx.ASGITransport(app=app_or_http)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def refusal(body: dict[str, Any]) -> tuple[str | None, str | None]:
    assert body["data"] is None, body
    extensions = body["errors"][0]["extensions"]
    return extensions.get("code"), extensions.get("reason")


def account_name() -> str:
    return f"user-{secrets.token_hex(4)}"


async def test_a_user_token_acts_as_the_person(
    http: httpx.AsyncClient, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace("Acme")
    account = account_name()
    await scenario.member(world, "Developer", email=f"{account}@example.com")
    await provider.set_account(account, email=f"{account}@example.com", name="Lin")
    token = await provider.user_access_token(account)
    assert jwt_claims(token)["aud"] == API_AUDIENCE

    body = await call(http, token, VIEWER)

    assert body == {
        "data": {
            "viewer": {
                "kind": "MEMBER",
                "name": f"{account}@example.com",
                "memberships": [{"roleName": "Developer", "workspace": {"name": "Acme"}}],
            }
        }
    }
    user = await session.scalar(select(User).where(User.subject == account))
    assert user is not None
    assert user.issuer == provider.issuer


async def test_idp_groups_in_a_token_drive_api_grants(
    http: httpx.AsyncClient, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace()
    account = account_name()
    await scenario.member(world, "Developer", email=f"{account}@example.com")
    billing_api = await scenario.api(world, "Billing")
    team = await scenario.group(world, "Billing team")
    await scenario.grant(world, billing_api, groups=[team])
    await group_sync.set_group_claim_mapping(
        session=session,
        actor=world.owner.principal,
        group_id=team.id,
        issuer=provider.issuer,
        claim_values=["billing"],
        known_issuers=[provider.issuer],
    )

    await provider.set_account(account, email=f"{account}@example.com", groups=["billing"])
    in_group = await provider.user_access_token(account)
    await provider.set_account(account, email=f"{account}@example.com", groups=[])
    out_of_group = await provider.user_access_token(account)

    seen = await call(http, in_group, APIS, id=world.id)
    assert seen["data"]["workspace"]["apis"]["edges"] == [{"node": {"name": "Billing"}}]
    gone = await call(http, out_of_group, APIS, id=world.id)
    assert gone["data"]["workspace"]["apis"]["edges"] == []


async def test_a_user_token_of_an_unknown_person_without_email_is_refused(
    http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    account = account_name()
    await provider.set_account(account, email="")
    token = await provider.user_access_token(account)

    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "unknown_user")


async def test_a_partner_client_credentials_token_acts_as_its_service_member(
    http: httpx.AsyncClient, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace("Partners")
    member = await service_accounts.link_service_account(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        issuer=provider.issuer,
        client_id=PARTNER_CLIENT[0],
        role_id=world.roles["Viewer"].id,
        name="Billing partner",
        known_issuers=[provider.issuer],
    )
    granted, _hidden = await scenario.api(world, "Invoices"), await scenario.api(world, "HR")
    await grants.grant_access(
        session=session,
        actor=world.owner.principal,
        api_id=granted.id,
        member_ids=[member.id],
        group_ids=[],
    )
    token = await provider.client_credentials(PARTNER_CLIENT)
    claims = jwt_claims(token)
    assert claims["sub"] == claims["client_id"] == PARTNER_CLIENT[0]

    viewer = await call(http, token, VIEWER)
    apis = await call(http, token, APIS, id=world.id)

    assert viewer == {
        "data": {
            "viewer": {
                "kind": "SERVICE",
                "name": "Billing partner",
                "memberships": [{"roleName": "Viewer", "workspace": {"name": "Partners"}}],
            }
        }
    }
    assert apis["data"]["workspace"]["apis"]["edges"] == [{"node": {"name": "Invoices"}}]


async def test_an_unlinked_client_gets_no_access(
    http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    token = await provider.client_credentials(UNLINKED_CLIENT)

    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "unmapped_client")


async def test_a_token_for_another_audience_is_refused(
    http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    token = await provider.client_credentials(PARTNER_CLIENT, resource=OTHER_AUDIENCE)
    assert jwt_claims(token)["aud"] == OTHER_AUDIENCE

    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "wrong_audience")


async def test_an_expired_token_is_refused_after_the_leeway(
    app: Starlette,
    http: httpx.AsyncClient,
    provider: ProviderProcess,
    scenario: Scenario,
    session: AsyncSession,
    settings: Settings,
) -> None:
    world = await scenario.workspace()
    await service_accounts.link_service_account(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        issuer=provider.issuer,
        client_id=PARTNER_CLIENT[0],
        role_id=world.roles["Viewer"].id,
        name="Partner",
        known_issuers=[provider.issuer],
    )
    token = await provider.client_credentials(PARTNER_CLIENT)
    expires = int(jwt_claims(token)["exp"])
    validator = jwt_validator(app)

    # The provider's real token, judged at moments around its expiry (no waiting).
    validator.clock = lambda: expires + settings.jwt_leeway - 1
    assert (await call(http, token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"
    validator.clock = lambda: expires + settings.jwt_leeway + 1
    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "expired")


async def test_a_token_not_valid_yet_is_refused(
    app: Starlette, http: httpx.AsyncClient, provider: ProviderProcess, settings: Settings
) -> None:
    token = await provider.client_credentials(PARTNER_CLIENT)
    issued = int(jwt_claims(token)["iat"])
    jwt_validator(app).clock = lambda: issued - settings.jwt_leeway - 5

    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "not_yet_valid")


def _tamper(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_bad_signatures_and_malformed_tokens_are_refused(
    http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    token = await provider.client_credentials(PARTNER_CLIENT)
    header, payload, signature = token.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")

    cases = {
        f"{header}.{payload}.{flipped}": "bad_signature",
        _tamper(token, sub="someone-else"): "bad_signature",
        "not.a.jwt": "malformed",
        f"{header}.{payload}": "malformed",  # two parts: not a JWT, nor an API key
    }
    for value, expected in cases.items():
        assert refusal(await call(http, value, VIEWER)) == ("UNAUTHENTICATED", expected), value


async def test_symmetric_and_unsigned_tokens_are_refused_whatever_the_key(
    http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    claims = {
        "iss": provider.issuer,
        "aud": API_AUDIENCE,
        "sub": PARTNER_CLIENT[0],
        "client_id": PARTNER_CLIENT[0],
        "exp": int(time.time()) + 300,
    }
    hs256 = jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    for token in (hs256, f"{header}.{payload}."):
        assert refusal(await call(http, token, VIEWER)) == (
            "UNAUTHENTICATED",
            "unsupported_algorithm",
        )


async def test_a_token_of_an_untrusted_issuer_is_refused(
    http: httpx.AsyncClient, own_provider: ProviderProcess
) -> None:
    token = await own_provider.client_credentials(PARTNER_CLIENT)

    assert refusal(await call(http, token, VIEWER)) == ("UNAUTHENTICATED", "wrong_issuer")


async def _linked_partner(
    session: AsyncSession, scenario: Scenario, provider: ProviderProcess
) -> None:
    world = await scenario.workspace()
    await service_accounts.link_service_account(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        issuer=provider.issuer,
        client_id=PARTNER_CLIENT[0],
        role_id=world.roles["Viewer"].id,
        name="Partner",
        known_issuers=[provider.issuer],
    )


async def test_a_rotated_signing_key_is_picked_up_without_restart(
    own_provider: ProviderProcess,
    engine: AsyncEngine,
    database_url: str,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    await _linked_partner(session, scenario, own_provider)
    app = create_app(oidc_settings(database_url, issuer_config(own_provider)), engine=engine)
    keys = issuer_keys(app, own_provider.issuer)
    now = [1000.0]
    keys.clock = lambda: now[0]
    old_token = await own_provider.client_credentials(PARTNER_CLIENT)
    assert (await call(app, old_token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"
    assert keys.fetches == 1

    new_kid = await own_provider.rotate_keys()
    new_token = await own_provider.client_credentials(PARTNER_CLIENT)
    header = json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "=="))
    assert header["kid"] == new_kid

    # Past the refetch interval, the unknown kid triggers one JWKS refetch.
    now[0] += keys.settings.jwks_min_refetch_interval
    assert (await call(app, new_token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"
    assert (await call(app, old_token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"
    assert keys.fetches == 2


async def test_a_flood_of_unknown_kids_cannot_hammer_the_provider(
    app: Starlette, http: httpx.AsyncClient, provider: ProviderProcess
) -> None:
    keys = issuer_keys(app, provider.issuer)
    now = [5000.0]
    keys.clock = lambda: now[0]
    signer = RSAKey.generate_key(2048)
    claims = {
        "iss": provider.issuer,
        "aud": API_AUDIENCE,
        "sub": PARTNER_CLIENT[0],
        "exp": int(time.time()) + 300,
    }

    for _ in range(25):
        forged = jwt.encode(
            {"alg": "RS256", "kid": secrets.token_hex(8)}, claims, signer, algorithms=["RS256"]
        )
        assert refusal(await call(http, forged, VIEWER)) == ("UNAUTHENTICATED", "bad_signature")
    # The first token fetched the keys; the other 24 unknown kids fetched nothing.
    assert keys.fetches == 1

    now[0] += keys.settings.jwks_min_refetch_interval
    forged = jwt.encode({"alg": "RS256", "kid": "later"}, claims, signer, algorithms=["RS256"])
    assert refusal(await call(http, forged, VIEWER)) == ("UNAUTHENTICATED", "bad_signature")
    assert keys.fetches == 2  # one refetch per interval at most


async def test_cached_keys_keep_working_while_the_provider_is_down(
    own_provider: ProviderProcess,
    engine: AsyncEngine,
    database_url: str,
    scenario: Scenario,
    session: AsyncSession,
) -> None:
    await _linked_partner(session, scenario, own_provider)
    settings = oidc_settings(database_url, issuer_config(own_provider))
    app = create_app(settings, engine=engine)
    keys = issuer_keys(app, own_provider.issuer)
    now = [1000.0]
    keys.clock = lambda: now[0]
    token = await own_provider.client_credentials(PARTNER_CLIENT)
    assert (await call(app, token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"

    own_provider.stop()
    now[0] += settings.jwks_cache_ttl + 1  # the cache is stale: a refetch is tried and fails

    assert (await call(app, token, VIEWER))["data"]["viewer"]["kind"] == "SERVICE"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        login = await browser.get("/auth/login")
    assert login.status_code == 503
    assert login.json() == {
        "error": "provider_unavailable",
        "message": "The identity provider cannot be reached; try later.",
    }


async def test_a_provider_down_from_the_start_is_asked_once_per_interval(
    own_provider: ProviderProcess, engine: AsyncEngine, database_url: str
) -> None:
    token = await own_provider.client_credentials(PARTNER_CLIENT)
    own_provider.stop()
    app = create_app(oidc_settings(database_url, issuer_config(own_provider)), engine=engine)
    keys = issuer_keys(app, own_provider.issuer)
    now = [1000.0]
    keys.clock = lambda: now[0]

    first = await call(app, token, VIEWER)
    now[0] += 1
    second = await call(app, token, VIEWER)

    assert refusal(first) == ("UNAUTHENTICATED", "provider_unavailable")
    assert refusal(second) == ("UNAUTHENTICATED", "provider_unavailable")
    assert keys.last_fetch == 1000.0  # the second request did not try again


async def test_an_unknown_subject_without_email_of_a_linked_client_is_the_service(
    http: httpx.AsyncClient, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    """Keycloak's client-credentials tokens carry the subject of a service-account user (no
    email); a person with an email using the same client stays a person."""
    world = await scenario.workspace("Acme")
    await service_accounts.link_service_account(
        session=session,
        actor=world.owner.principal,
        workspace_id=world.workspace.id,
        issuer=provider.issuer,
        client_id=SPA_CLIENT,
        role_id=world.roles["Viewer"].id,
        name="Robot",
        known_issuers=[provider.issuer],
    )
    robot, person = account_name(), account_name()
    await provider.set_account(robot, email="")
    await provider.set_account(person, email=f"{person}@example.com")

    as_robot = await call(http, await provider.user_access_token(robot), VIEWER)
    as_person = await call(http, await provider.user_access_token(person), VIEWER)

    assert as_robot["data"]["viewer"]["kind"] == "SERVICE"
    assert as_robot["data"]["viewer"]["name"] == "Robot"
    assert as_person["data"]["viewer"] == {
        "kind": "MEMBER",
        "name": f"{person}@example.com",
        "memberships": [],
    }
