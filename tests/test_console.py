"""The console's pages: the history fallback, cache headers, the CSP, GraphiQL from the build,
and the page that says how to build the console when it is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from accessplane import console
from accessplane.app import create_app
from accessplane.settings import OidcIssuer, Settings

HTML = {"Accept": "text/html,application/xhtml+xml"}
INDEX = '<html><head><!-- accessplane-config --></head><body id="console"></body></html>'


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    built = tmp_path / "console_dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text(INDEX)
    (built / "graphiql.html").write_text("<html><body id=graphiql></body></html>")
    (built / "assets" / "index-Ab12.js").write_text("console.log(1)")
    (built / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    monkeypatch.setattr(console, "DIST", built)
    return built


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/console.db",
        oidc_issuers=[
            OidcIssuer(issuer="https://idp.example", name="acme", client_id="console"),
            OidcIssuer(issuer="https://bearer-only.example"),
        ],
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.usefixtures("dist")
async def test_browser_paths_get_the_app_uncached_with_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    for path in ["/", "/workspaces/abc/apis", "/sign-in?next=/x"]:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert 'id="console"' in response.text
        assert response.headers["cache-control"] == "no-cache"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
    # The login providers, for the sign-in page (console logins only, not bearer-only issuers).
    assert '<meta name="accessplane-config" content="{&quot;providers&quot;:' in response.text
    assert "acme" in response.text
    assert "bearer-only" not in response.text


@pytest.mark.usefixtures("dist")
async def test_api_paths_and_non_html_requests_are_not_the_app(client: httpx.AsyncClient) -> None:
    assert (await client.get("/auth/unknown", headers=HTML)).status_code == 404
    assert (await client.get("/graphql/x", headers=HTML)).status_code == 404
    assert (
        await client.get("/workspaces/abc", headers={"Accept": "application/json"})
    ).status_code == 404
    assert (await client.get("/healthz")).json() == {"status": "ok"}


@pytest.mark.usefixtures("dist")
async def test_hashed_assets_are_cached_for_a_year_and_stay_inside_the_build(
    client: httpx.AsyncClient,
) -> None:
    asset = await client.get("/assets/index-Ab12.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/assets/missing.js")).status_code == 404
    assert (await client.get("/assets/%2e%2e/%2e%2e/secret.txt")).status_code == 404
    assert (await client.get("/favicon.svg")).text == "<svg/>"


@pytest.mark.usefixtures("dist")
async def test_graphiql_comes_from_the_build(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert "id=graphiql" in response.text
    assert "cdn" not in response.text.lower()


@pytest.fixture
def no_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "DIST", tmp_path / "no-build")


async def test_without_a_build_the_root_says_how_to_build_it(
    no_build: None, client: httpx.AsyncClient
) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    assert "make serve" in response.text
    assert "Node.js" in response.text
    # GraphiQL still answers (Strawberry's own page) so the API stays explorable.
    assert (await client.get("/graphql", headers=HTML)).status_code == 200
