"""A real OpenID Provider (the npm package ``oidc-provider``) for tests, and a browser that
drives its login and consent pages over HTTP.

The provider runs ``tests/oidc/provider/provider.mjs`` with node on a free loopback port; its
test-only endpoints rotate the signing key and set an account's claims (email, name, groups).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc" / "provider"
APP_BASE_URL = "http://testserver"
API_AUDIENCE = "urn:accessplane:api"
OTHER_AUDIENCE = "urn:other:api"
CONSOLE_CLIENT = ("accessplane-console", "console-secret")
SPA_CLIENT = "accessplane-spa"
SPA_REDIRECT = "http://127.0.0.1/spa/callback"
PARTNER_CLIENT = ("partner-billing", "partner-secret")
UNLINKED_CLIENT = ("partner-unlinked", "unlinked-secret")


def provider_unavailable_reason() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the OIDC tests run the npm package oidc-provider)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "run `npm ci --prefix tests/oidc/provider` first (`make test` does)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ProviderProcess:
    """One oidc-provider process on 127.0.0.1."""

    log_path: Path
    port: int = field(default_factory=free_port)
    access_token_ttl: int = 300
    start_timeout: float = 30.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ProviderProcess:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "APP_BASE_URL": APP_BASE_URL,
            "ACCESS_TOKEN_TTL": str(self.access_token_ttl),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["node", str(PROVIDER_DIR / "provider.mjs")],
                cwd=PROVIDER_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        asyncio.run(self._wait_ready())
        return self

    async def _wait_ready(self) -> None:
        """Poll the discovery document until it answers (bounded)."""
        deadline = time.monotonic() + self.start_timeout
        url = self.issuer + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"oidc-provider exited; see {self.log_path}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"oidc-provider did not start in {self.start_timeout}s")
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    async def rotate_keys(self) -> str:
        """Put a new signing key first; returns its kid."""
        async with httpx.AsyncClient() as client:
            response = await client.post(self.issuer + "/__test__/rotate")
            response.raise_for_status()
            return str(response.json()["kid"])

    async def set_account(
        self,
        account: str,
        *,
        email: str,
        name: str = "",
        groups: list[str] | None = None,
        email_verified: bool = True,
    ) -> None:
        """The claims the provider will give ``account`` from now on."""
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.issuer}/__test__/accounts/{account}",
                json={
                    "email": email,
                    "name": name,
                    "groups": groups or [],
                    "email_verified": email_verified,
                },
            )
            response.raise_for_status()

    async def client_credentials(
        self, client: tuple[str, str], *, resource: str | None = None
    ) -> str:
        """A client-credentials access token (a JWT for ``resource``)."""
        data = {"grant_type": "client_credentials"}
        if resource:
            data["resource"] = resource
        async with httpx.AsyncClient() as http:
            response = await http.post(self.issuer + "/token", data=data, auth=client)
            response.raise_for_status()
            return str(response.json()["access_token"])

    async def user_access_token(self, account: str, *, resource: str | None = None) -> str:
        """An access token of ``account`` for the SPA client: authorization code + PKCE,
        through the provider's login and consent pages."""
        verifier = secrets.token_urlsafe(48)
        params = {
            "client_id": SPA_CLIENT,
            "response_type": "code",
            "redirect_uri": SPA_REDIRECT,
            "scope": "openid email profile groups api",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        if resource:
            params["resource"] = resource
        async with httpx.AsyncClient() as http:
            browser = Browser(http)
            redirect = await browser.authorize(
                f"{self.issuer}/auth?{urlencode(params)}", login=account, stop=SPA_REDIRECT
            )
            code = query(redirect)["code"]
            data = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": SPA_REDIRECT,
                "client_id": SPA_CLIENT,
                "code_verifier": verifier,
            }
            if resource:
                data["resource"] = resource
            response = await http.post(self.issuer + "/token", data=data)
            response.raise_for_status()
            return str(response.json()["access_token"])


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def jwt_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (to look at them in a test)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


_FORM_ACTION = re.compile(r'<form[^>]*\saction="([^"]+)"', re.I)
_PROMPT = re.compile(r'name="prompt" value="(\w+)"')
_XSRF = re.compile(r'name="xsrf" value="([^"]+)"')


@dataclass
class Browser:
    """Follows redirects and fills the provider's login and consent forms, keeping cookies
    (the provider's and the app's) as a browser would."""

    http: httpx.AsyncClient
    max_steps: int = 20

    async def authorize(self, url: str, *, login: str, stop: str) -> str:
        """Go through login and consent from ``url`` until a redirect to ``stop``, whose
        URL is returned (not followed)."""
        response = await self.http.get(url)
        for _ in range(self.max_steps):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(stop):
                    return target
                response = await self.http.get(target)
                continue
            body = response.text
            action, prompt = _FORM_ACTION.search(body), _PROMPT.search(body)
            if response.status_code != 200 or action is None or prompt is None:
                raise AssertionError(f"unexpected page {response.status_code}: {body[:500]}")
            data = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                data.update(login=login, password="any")
            response = await self.http.post(
                urljoin(str(response.url), html.unescape(action.group(1))), data=data
            )
        raise AssertionError("too many steps in the login")

    async def confirm_logout(self, response: httpx.Response, *, stop: str) -> str:
        """On the provider's end-session page, confirm; returns the redirect to ``stop``."""
        action = _FORM_ACTION.search(response.text)
        xsrf = _XSRF.search(response.text)
        assert action is not None, response.text[:500]
        assert xsrf is not None, response.text[:500]
        response = await self.http.post(
            urljoin(str(response.url), html.unescape(action.group(1))),
            data={"xsrf": xsrf.group(1), "logout": "yes"},
        )
        for _ in range(self.max_steps):
            assert response.is_redirect, response.text[:500]
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(stop):
                return target
            response = await self.http.get(target)
        raise AssertionError("too many steps in the logout")
