"""Console login against a real OpenID Provider: authorization code + PKCE, state, nonce,
just-in-time users, the session cookie, CSRF, logout, bootstrap and group sync."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.applications import Starlette

from accessplane.app import create_app
from accessplane.models import AuditEvent, GroupMember, Member, Role, User, Workspace
from accessplane.services import group_sync
from accessplane.settings import Settings
from tests.oidc.conftest import browser_client, issuer_config, oidc_settings
from tests.support.oidc import APP_BASE_URL, Browser, ProviderProcess, query, s256
from tests.support.scenario import Scenario

CALLBACK = f"{APP_BASE_URL}/auth/callback"
VIEWER = "query { viewer { kind name memberships { roleName workspace { name } } } }"


def account_name() -> str:
    return f"user-{secrets.token_hex(4)}"


async def start_login(browser: Browser, **params: str) -> str:
    """``/auth/login``; returns the provider's authorization URL it redirects to."""
    response = await browser.http.get(f"{APP_BASE_URL}/auth/login", params=params)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def login(browser: Browser, account: str, **params: str) -> httpx.Response:
    """The whole browser login; returns the callback's response."""
    authorize_url = await start_login(browser, **params)
    callback = await browser.authorize(authorize_url, login=account, stop=CALLBACK)
    return await browser.http.get(callback)


def with_params(url: str, **changes: str | None) -> str:
    """``url`` with query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    params: dict[str, str] = query(url)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


async def csrf_token(browser: Browser) -> str:
    body = (await browser.http.get(f"{APP_BASE_URL}/auth/session")).json()
    assert body["authenticated"] is True, body
    return str(body["csrfToken"])


async def graphql(
    browser: Browser, query_text: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await browser.http.post(
        f"{APP_BASE_URL}/graphql",
        json={"query": query_text, "variables": variables},
        headers=headers or {},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def reason(body: dict[str, Any]) -> tuple[str | None, str | None]:
    extensions = body["errors"][0]["extensions"]
    return extensions.get("code"), extensions.get("reason")


async def user_by_subject(session: AsyncSession, issuer: str, subject: str) -> User | None:
    session.expire_all()
    return await session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))


async def test_browser_login_provisions_the_user_and_starts_a_session(
    browser: Browser, provider: ProviderProcess, session: AsyncSession, settings: Settings
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@Example.com", name="Ada Lovelace")

    authorize_url = await start_login(browser)
    params = query(authorize_url)
    assert authorize_url.startswith(provider.issuer + "/auth?")
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"]
    assert params["state"]
    assert params["nonce"]
    assert params["scope"] == "openid email profile groups"
    callback = await browser.authorize(authorize_url, login=account, stop=CALLBACK)
    response = await browser.http.get(callback)

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("accessplane_session=")
    )
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "max-age", "path"} <= attributes
    assert "secure" not in attributes  # plain HTTP in tests; production sets Secure
    assert f"max-age={settings.session_max_age}" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    user = await user_by_subject(session, provider.issuer, account)
    assert user is not None
    assert (user.email, user.name) == (f"{account}@example.com", "Ada Lovelace")

    body = await graphql(browser, VIEWER, {"X-CSRF-Token": await csrf_token(browser)})
    # A new user in no workspace: an empty list, not an error.
    assert body == {"data": {"viewer": {"kind": "MEMBER", "name": user.email, "memberships": []}}}


async def test_a_second_login_updates_email_and_name(
    browser: Browser, provider: ProviderProcess, session: AsyncSession
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com", name="Old Name")
    assert (await login(browser, account)).status_code == 303
    first = await user_by_subject(session, provider.issuer, account)
    await provider.set_account(account, email=f"{account}@new.example", name="New Name")

    assert (await login(browser, account)).status_code == 303

    second = await user_by_subject(session, provider.issuer, account)
    assert first is not None
    assert second is not None
    assert second.id == first.id
    assert (second.email, second.name) == (f"{account}@new.example", "New Name")


async def test_an_invited_person_claims_their_membership_at_first_login(
    browser: Browser, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace("Acme")
    account = account_name()
    invited = await scenario.member(world, "Viewer", email=f"{account}@example.com")
    await provider.set_account(account, email=f"{account}@example.com", name="Grace")

    assert (await login(browser, account)).status_code == 303

    body = await graphql(browser, VIEWER, {"X-CSRF-Token": await csrf_token(browser)})
    assert body["data"]["viewer"]["memberships"] == [
        {"roleName": "Viewer", "workspace": {"name": "Acme"}}
    ]
    user = await user_by_subject(session, provider.issuer, account)
    assert user is not None
    assert user.id == invited.user.id


async def test_an_invitation_cannot_be_claimed_with_an_unverified_email(
    browser: Browser, provider: ProviderProcess, scenario: Scenario, session: AsyncSession
) -> None:
    world = await scenario.workspace("Acme")
    account = account_name()
    email = f"{account}@example.com"
    invited = await scenario.member(world, "Viewer", email=email)
    await provider.set_account(account, email=email, name="Grace", email_verified=False)
    told = (
        f"Your identity provider has not verified {email}. Verify the address with your "
        "provider (or ask your administrator), then sign in again."
    )

    refused = await login(browser, account)
    assert refused.status_code == 401
    assert refused.json() == {"error": "email_unverified", "message": told}
    # A browser is shown the same words on the sign-in error page.
    callback = await browser.authorize(await start_login(browser), login=account, stop=CALLBACK)
    page = await browser.http.get(callback, headers={"Accept": "text/html"})
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert told in page.text
    assert "<code>email_unverified</code>" in page.text
    assert await user_by_subject(session, provider.issuer, account) is None  # not claimed

    await provider.set_account(account, email=email, name="Grace")  # verified now
    assert (await login(browser, account)).status_code == 303
    user = await user_by_subject(session, provider.issuer, account)
    assert user is not None
    assert user.id == invited.user.id


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "unverified"])
async def test_an_address_another_identity_holds_is_an_email_conflict(
    browser: Browser,
    provider: ProviderProcess,
    session: AsyncSession,
    app: Starlette,
    verified: bool,
) -> None:
    holder, other = account_name(), account_name()
    email = f"{holder}@example.com"
    await provider.set_account(holder, email=email)
    async with browser_client(app) as http:  # the holder's own browser
        assert (await login(Browser(http), holder)).status_code == 303
    await provider.set_account(other, email=email, email_verified=verified)

    refused = await login(browser, other)

    assert refused.status_code == 401
    assert refused.json() == {
        "error": "email_conflict",
        "message": "This email address belongs to another account.",
    }
    assert await user_by_subject(session, provider.issuer, other) is None


async def test_return_to_accepts_only_paths_of_this_site(
    browser: Browser, provider: ProviderProcess
) -> None:
    for foreign in (
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ):
        response = await browser.http.get(
            f"{APP_BASE_URL}/auth/login", params={"return_to": foreign}
        )
        assert response.status_code == 400, foreign
        assert response.json()["error"] == "invalid_return_to"

    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    response = await login(browser, account, return_to="/graphql?tab=apis")
    assert response.status_code == 303
    assert response.headers["location"] == "/graphql?tab=apis"


async def test_the_callback_lands_in_the_console_at_the_root_by_default(
    browser: Browser, provider: ProviderProcess
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")

    # The console's sign-in links carry no return_to, or an empty one.
    without = await login(browser, account)
    empty = await login(browser, account, return_to="")

    assert (without.status_code, without.headers["location"]) == (303, "/")
    assert (empty.status_code, empty.headers["location"]) == (303, "/")


async def test_an_unknown_issuer_is_refused(browser: Browser) -> None:
    response = await browser.http.get(f"{APP_BASE_URL}/auth/login", params={"issuer": "nope"})
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_issuer"


async def test_cookie_graphql_posts_need_the_csrf_token_and_an_allowed_origin(
    browser: Browser, provider: ProviderProcess, scenario: Scenario
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    assert (await login(browser, account)).status_code == 303
    token = await csrf_token(browser)

    missing = await graphql(browser, VIEWER)
    wrong = await graphql(browser, VIEWER, {"X-CSRF-Token": "x" * 43})
    foreign = await graphql(
        browser, VIEWER, {"X-CSRF-Token": token, "Origin": "https://evil.example"}
    )
    same_site = await graphql(browser, VIEWER, {"X-CSRF-Token": token, "Origin": APP_BASE_URL})

    for refused in (missing, wrong, foreign):
        assert refused["data"] is None
        assert reason(refused) == ("UNAUTHENTICATED", "csrf")
    assert same_site["data"]["viewer"]["kind"] == "MEMBER"

    # A bearer credential is not ambient: no CSRF token needed, and the cookie is ignored.
    world = await scenario.workspace()
    key = await scenario.api_key(world, "Viewer")
    keyed = await graphql(browser, "query { viewer { kind } }", {"Authorization": f"Bearer {key}"})
    assert keyed == {"data": {"viewer": {"kind": "API_ACCESS"}}}


async def test_state_mismatch_is_refused(browser: Browser, provider: ProviderProcess) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    authorize_url = await start_login(browser)
    callback = await browser.authorize(authorize_url, login=account, stop=CALLBACK)

    forged = await browser.http.get(with_params(callback, state="forged-state"))

    assert forged.status_code == 400
    assert forged.json()["error"] == "invalid_state"
    assert (await browser.http.get(f"{APP_BASE_URL}/auth/session")).json() == {
        "authenticated": False
    }


async def test_a_callback_from_another_browser_is_refused(
    app: Starlette, browser: Browser, provider: ProviderProcess
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    authorize_url = await start_login(browser)
    callback = await browser.authorize(authorize_url, login=account, stop=CALLBACK)

    # Login CSRF: the victim's browser has no login in progress with this state.
    async with browser_client(app) as victim:
        response = await victim.get(callback)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_state"


async def test_an_id_token_with_another_nonce_is_refused(
    browser: Browser, provider: ProviderProcess, session: AsyncSession
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    authorize_url = await start_login(browser)
    # The code comes from an authorization request with another nonce (an injected code).
    tampered = with_params(authorize_url, nonce="attacker-nonce")
    callback = await browser.authorize(tampered, login=account, stop=CALLBACK)

    response = await browser.http.get(callback)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_id_token"
    assert await user_by_subject(session, provider.issuer, account) is None


async def test_the_provider_requires_pkce(browser: Browser, provider: ProviderProcess) -> None:
    account = account_name()
    authorize_url = await start_login(browser)
    without_pkce = with_params(authorize_url, code_challenge=None, code_challenge_method=None)

    callback = await browser.authorize(without_pkce, login=account, stop=CALLBACK)
    response = await browser.http.get(callback)

    assert query(callback)["error"] == "invalid_request"
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_a_code_bound_to_another_pkce_challenge_is_refused(
    browser: Browser, provider: ProviderProcess, session: AsyncSession
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    authorize_url = await start_login(browser)
    # An attacker's challenge: AccessPlane's verifier (in the session) does not match it.
    hijacked = with_params(authorize_url, code_challenge=s256(secrets.token_urlsafe(48)))
    callback = await browser.authorize(hijacked, login=account, stop=CALLBACK)

    response = await browser.http.get(callback)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"
    assert await user_by_subject(session, provider.issuer, account) is None


async def test_logout_ends_the_session_and_continues_at_the_provider(
    browser: Browser, provider: ProviderProcess
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    assert (await login(browser, account)).status_code == 303
    token = await csrf_token(browser)

    response = await browser.http.post(f"{APP_BASE_URL}/auth/logout")

    assert response.status_code == 303
    end_session = response.headers["location"]
    assert end_session.startswith(provider.issuer + "/session/end?")
    params = query(end_session)
    assert params["client_id"] == "accessplane-console"
    assert params["post_logout_redirect_uri"] == f"{APP_BASE_URL}/"
    assert (await browser.http.get(f"{APP_BASE_URL}/auth/session")).json() == {
        "authenticated": False
    }
    body = await graphql(browser, VIEWER, {"X-CSRF-Token": token})
    assert reason(body) == ("UNAUTHENTICATED", "missing")

    # The provider asks to confirm, ends its own session and comes back to AccessPlane.
    page = await browser.http.get(end_session)
    back = await browser.confirm_logout(page, stop=APP_BASE_URL)
    assert back.startswith(f"{APP_BASE_URL}/")
    # Logged out at the provider too: the next login asks for credentials again.
    again = await browser.http.get(await start_login(browser))
    assert again.is_redirect
    interaction = await browser.http.get(httpx.URL(str(again.url)).join(again.headers["location"]))
    assert 'name="prompt" value="login"' in interaction.text


async def test_the_first_user_of_a_bootstrap_issuer_becomes_owner_of_the_default_workspace(
    provider: ProviderProcess, engine: AsyncEngine, database_url: str, session: AsyncSession
) -> None:
    settings = oidc_settings(
        database_url,
        issuer_config(provider, bootstrap_owner=True),
        bootstrap_workspace_name="Acme Default",
    )
    app = create_app(settings, engine=engine)
    first, second = account_name(), account_name()
    for account in (first, second):
        await provider.set_account(account, email=f"{account}@example.com")

    async with browser_client(app) as http:
        assert (await login(Browser(http), first)).status_code == 303
    async with browser_client(app) as http:
        assert (await login(Browser(http), second)).status_code == 303

    session.expire_all()
    workspace = await session.scalar(select(Workspace).where(Workspace.name == "Acme Default"))
    assert workspace is not None
    rows = (
        await session.execute(
            select(User.subject, Role.name)
            .join(Member, Member.user_id == User.id)
            .join(Role, Role.id == Member.role_id)
            .where(Member.workspace_id == workspace.id)
        )
    ).all()
    assert rows == [(first, "Owner")]
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.workspace_id == workspace.id))
    ).all()
    assert [(e.action, e.actor_type) for e in events] == [("bootstrapOwner", "SYSTEM")]


async def test_login_synchronises_mapped_groups(
    browser: Browser,
    provider: ProviderProcess,
    scenario: Scenario,
    session: AsyncSession,
    settings: Settings,
) -> None:
    world = await scenario.workspace()
    account = account_name()
    person = await scenario.member(world, "Developer", email=f"{account}@example.com")
    billing = await scenario.group(world, "Billing")
    manual = await scenario.group(world, "Hand-made", [person])
    await group_sync.set_group_claim_mapping(
        session=session,
        actor=world.owner.principal,
        group_id=billing.id,
        issuer=provider.issuer,
        claim_values=["billing-team"],
        known_issuers=[provider.issuer],
    )

    member_id, billing_id, manual_id = person.member.id, billing.id, manual.id

    async def groups_of_person() -> set[str]:
        session.expire_all()
        rows = await session.scalars(
            select(GroupMember.group_id).where(GroupMember.member_id == member_id)
        )
        return {str(g) for g in rows}

    await provider.set_account(account, email=f"{account}@example.com", groups=["billing-team"])
    assert (await login(browser, account)).status_code == 303
    assert await groups_of_person() == {str(billing_id), str(manual_id)}

    await provider.set_account(account, email=f"{account}@example.com", groups=["other"])
    assert (await login(browser, account)).status_code == 303
    # Out of the mapped group; the hand-made membership stays.
    assert await groups_of_person() == {str(manual_id)}

    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "syncGroupMembers", AuditEvent.target_id == billing_id)
            .order_by(AuditEvent.at)
        )
    ).all()
    member_ids = {"memberIds": [str(member_id)], "issuer": provider.issuer}
    assert [(e.before, e.after, e.actor_type, e.ip) for e in events] == [
        (None, member_ids, "SYSTEM", "203.0.113.9"),
        (member_ids, None, "SYSTEM", "203.0.113.9"),
    ]


async def test_login_fails_clearly_when_the_provider_is_down(
    own_provider: ProviderProcess, engine: AsyncEngine, database_url: str
) -> None:
    app = create_app(oidc_settings(database_url, issuer_config(own_provider)), engine=engine)
    own_provider.stop()

    async with browser_client(app) as http:
        response = await http.get(f"{APP_BASE_URL}/auth/login")

    assert response.status_code == 503
    assert response.json()["error"] == "provider_unavailable"


async def test_login_answers_503_when_the_provider_went_down_after_a_first_login(
    own_provider: ProviderProcess, engine: AsyncEngine, database_url: str
) -> None:
    app = create_app(oidc_settings(database_url, issuer_config(own_provider)), engine=engine)
    account = account_name()
    await own_provider.set_account(account, email=f"{account}@example.com")
    async with browser_client(app) as http:
        # The first login loads (and caches) the provider's metadata.
        assert (await login(Browser(http), account)).status_code == 303
    own_provider.stop()

    async with browser_client(app) as http:
        response = await http.get(f"{APP_BASE_URL}/auth/login")
        page = await http.get(
            f"{APP_BASE_URL}/auth/login",
            headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        )

    assert response.status_code == 503
    assert response.json() == {
        "error": "provider_unavailable",
        "message": "The identity provider cannot be reached; try later.",
    }
    assert response.headers["retry-after"] == "30"
    # A browser gets a page saying so, not a redirect to the dead provider.
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "The identity provider cannot be reached" in page.text
    assert "provider_unavailable" in page.text


async def test_logout_while_the_provider_is_down_goes_home_and_still_ends_the_session(
    own_provider: ProviderProcess, engine: AsyncEngine, database_url: str
) -> None:
    app = create_app(oidc_settings(database_url, issuer_config(own_provider)), engine=engine)
    account = account_name()
    await own_provider.set_account(account, email=f"{account}@example.com")
    async with browser_client(app) as http:
        browser = Browser(http)
        assert (await login(browser, account)).status_code == 303
        copied = http.cookies["accessplane_session"]
        own_provider.stop()

        response = await http.post(f"{APP_BASE_URL}/auth/logout")

        # Not to the dead provider's end-session endpoint (known from the login's metadata).
        assert response.status_code == 303
        assert response.headers["location"] == f"{APP_BASE_URL}/"
        replayed = await http.get(
            f"{APP_BASE_URL}/auth/session", headers={"Cookie": f"accessplane_session={copied}"}
        )
        assert replayed.json() == {"authenticated": False}


async def test_a_cookie_copied_before_logout_is_refused_after_it(
    app: Starlette, browser: Browser, provider: ProviderProcess, session: AsyncSession
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com", name="Mallory's victim")
    assert (await login(browser, account)).status_code == 303
    described = (await browser.http.get(f"{APP_BASE_URL}/auth/session")).json()
    assert described["method"] == "oidc"
    assert described["user"]["email"] == f"{account}@example.com"
    token = described["csrfToken"]
    copied = browser.http.cookies["accessplane_session"]

    response = await browser.http.post(
        f"{APP_BASE_URL}/auth/logout", headers={"Accept": "application/json"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["authenticated"] is False
    assert body["logoutUrl"].startswith(provider.issuer + "/session/end?")
    stolen = {"Cookie": f"accessplane_session={copied}"}
    async with browser_client(app) as thief:
        described = await thief.get(f"{APP_BASE_URL}/auth/session", headers=stolen)
        replayed = await thief.post(
            f"{APP_BASE_URL}/graphql",
            json={"query": VIEWER},
            headers={**stolen, "X-CSRF-Token": token},
        )
    assert described.json() == {"authenticated": False}
    assert reason(replayed.json()) == ("UNAUTHENTICATED", "revoked")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_logout_without_a_session_goes_home(browser: Browser, method: str) -> None:
    response = await browser.http.request(method, f"{APP_BASE_URL}/auth/logout")
    assert response.status_code == 303
    assert response.headers["location"] == f"{APP_BASE_URL}/"


async def test_a_session_ends_after_its_lifetime(
    app: Starlette, browser: Browser, provider: ProviderProcess, settings: Settings
) -> None:
    account = account_name()
    await provider.set_account(account, email=f"{account}@example.com")
    assert (await login(browser, account)).status_code == 303
    token = await csrf_token(browser)
    credentials = app.state.credentials
    started = credentials.clock()

    credentials.clock = lambda: started + settings.session_max_age - 60
    alive = await graphql(browser, VIEWER, {"X-CSRF-Token": token})
    credentials.clock = lambda: started + settings.session_max_age + 1
    expired = await graphql(browser, VIEWER, {"X-CSRF-Token": token})

    assert alive["data"]["viewer"]["kind"] == "MEMBER"
    assert reason(expired) == ("UNAUTHENTICATED", "expired")
    # The expired login was dropped from the cookie: the session is gone for good.
    credentials.clock = lambda: started
    assert reason(await graphql(browser, VIEWER, {"X-CSRF-Token": token})) == (
        "UNAUTHENTICATED",
        "missing",
    )


async def test_several_issuers_each_log_in_and_issue_bearer_tokens(
    provider: ProviderProcess,
    own_provider: ProviderProcess,
    engine: AsyncEngine,
    database_url: str,
    session: AsyncSession,
) -> None:
    settings = oidc_settings(
        database_url,
        issuer_config(provider, name="corp"),
        issuer_config(own_provider, name="partners"),
    )
    app = create_app(settings, engine=engine)
    account = account_name()
    for idp in (provider, own_provider):
        await idp.set_account(account, email=f"{account}@{idp.port}.example")

    async with browser_client(app) as http:
        unnamed = await http.get(f"{APP_BASE_URL}/auth/login")
        assert unnamed.status_code == 400
        assert unnamed.json() == {
            "error": "unknown_issuer",
            "message": "Choose an issuer with ?issuer=: corp, partners",
        }
        assert (await login(Browser(http), account, issuer="partners")).status_code == 303
    async with browser_client(app) as http:
        # The issuer URL names it as well as its short name.
        assert (await login(Browser(http), account, issuer=provider.issuer)).status_code == 303

    session.expire_all()
    users = (
        await session.execute(select(User.issuer, User.email).where(User.subject == account))
    ).all()
    assert sorted(users) == sorted(
        (idp.issuer, f"{account}@{idp.port}.example") for idp in (provider, own_provider)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_BASE_URL) as api:
        for idp in (provider, own_provider):
            token = await idp.user_access_token(account)
            response = await api.post(
                "/graphql",
                json={"query": "query { viewer { name } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.json() == {
                "data": {"viewer": {"name": f"{account}@{idp.port}.example"}}
            }
