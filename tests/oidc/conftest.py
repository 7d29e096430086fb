"""A real OpenID Provider for the OIDC tests, and AccessPlane configured to trust it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from accessplane.auth.jwt import IssuerKeys, JwtValidator
from accessplane.settings import OidcIssuer, Settings
from tests.conftest import SECRET, require_service
from tests.support.oidc import (
    API_AUDIENCE,
    APP_BASE_URL,
    CONSOLE_CLIENT,
    Browser,
    ProviderProcess,
    provider_unavailable_reason,
)


def start_provider(tmp_path_factory: pytest.TempPathFactory, name: str) -> ProviderProcess:
    reason = provider_unavailable_reason()
    require_service("oidc-provider", reason is None, reason or "")
    return ProviderProcess(log_path=tmp_path_factory.mktemp("oidc") / f"{name}.log").start()


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderProcess]:
    """The provider most tests share (its accounts are set per test with unique names)."""
    process = start_provider(tmp_path_factory, "provider")
    yield process
    process.stop()


@pytest.fixture
def own_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderProcess]:
    """A provider of the test's own, to rotate keys on or to stop."""
    process = start_provider(tmp_path_factory, "own-provider")
    yield process
    process.stop()


def issuer_config(provider: ProviderProcess, **changes: object) -> OidcIssuer:
    values: dict[str, object] = {
        "issuer": provider.issuer,
        "name": "test-idp",
        "client_id": CONSOLE_CLIENT[0],
        "client_secret": SecretStr(CONSOLE_CLIENT[1]),
        "audience": [API_AUDIENCE],
        "groups_claim": "groups",
        "scope": "openid email profile groups",
    }
    values.update(changes)
    return OidcIssuer.model_validate(values)


def oidc_settings(database_url: str, *issuers: OidcIssuer, **changes: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        environment="test",
        database_url=database_url,
        secret_key=SecretStr(SECRET),
        oidc_issuers=list(issuers),
        **changes,
    )


@pytest.fixture
def settings(database_url: str, provider: ProviderProcess) -> Settings:
    """Overrides the suite's settings: AccessPlane trusts the shared provider."""
    return oidc_settings(database_url, issuer_config(provider))


def browser_client(app: Starlette) -> httpx.AsyncClient:
    """An HTTP client reaching the app in process and the provider over loopback, with one
    cookie jar, following no redirect by itself."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    return httpx.AsyncClient(mounts={APP_BASE_URL: transport}, follow_redirects=False)


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[Browser]:
    async with browser_client(app) as http:
        yield Browser(http)


def jwt_validator(app: Starlette) -> JwtValidator:
    validator: JwtValidator = app.state.credentials.jwt
    return validator


def issuer_keys(app: Starlette, issuer: str) -> IssuerKeys:
    return jwt_validator(app).issuers[issuer]
