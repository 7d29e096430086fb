"""Console login with OpenID Connect: Authlib's Starlette client does the protocol.

``/auth/login`` starts the authorization code flow with PKCE (S256), state and nonce (Authlib
keeps them in the signed session cookie); ``/auth/callback`` completes it: Authlib checks the
state, exchanges the code with the PKCE verifier and validates the ID token (signature, issuer,
audience, lifetime, nonce). The user is provisioned by (issuer, subject), their groups claim is
synchronised, and a console session is opened (signin/console_sessions.py): its random id and
CSRF token go in the cookie, its row on the server. ``/auth/logout`` ends the session on the
server too and sends the browser to the provider's end-session endpoint when it has one.
``/auth/session`` tells an SPA who is signed in (a person, or an API key: signin/key_sign_in.py)
and its CSRF token. Each login and logout fetches the provider's discovery document afresh
with a short timeout, so a provider that is down is answered at once, never redirected to.

Errors are an HTML page for a browser and JSON otherwise: 400 for a bad request (unknown
issuer, foreign ``return_to``, state mismatch, an error the provider reported), 401 when the
provider's answer does not hold (code refused, ID token invalid), 503 when the provider cannot
be reached. Tokens and secrets are not logged.
"""

from __future__ import annotations

import html
import importlib
import logging
import secrets
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from joserfc.errors import JoseError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.relay import GlobalID

from accessplane.errors import Unauthenticated
from accessplane.models import ConsoleSessionMethod, User
from accessplane.services.users import Identity, provision_user
from accessplane.settings import OidcIssuer, Settings
from accessplane.signin.console_sessions import ConsoleSessions
from accessplane.signin.credentials import SESSION_KEY, Credentials, session_data

with warnings.catch_warnings():
    # Authlib warns when it falls back to httpx because httpx2 is not installed; both work.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth

logger = logging.getLogger(__name__)


def http_errors() -> tuple[type[Exception], ...]:
    """What Authlib's HTTP client raises when the provider cannot be reached.

    Authlib's client is built on httpx2 when that package is installed and on httpx otherwise,
    so both packages' base error is caught.
    """
    try:
        httpx2 = importlib.import_module("httpx2")
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


HTTP_ERRORS = http_errors()
UNREACHABLE: tuple[type[Exception], ...] = (*HTTP_ERRORS, ValueError)
USERINFO_ERRORS: tuple[type[Exception], ...] = (*HTTP_ERRORS, OAuthError, ValueError)

PENDING_KEY = "oidc_pending"
MAX_PENDING_LOGINS = 5  # logins started in other tabs and not finished yet


def accepts_json(request: Request) -> bool:
    """Whether the client asked for JSON (``fetch`` from the console does)."""
    return "application/json" in request.headers.get("accept", "")


def wants_html(request: Request) -> bool:
    """Whether a browser navigated here (it asks for ``text/html``), rather than a program."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


_ERROR_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - AccessPlane</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;
color:#1f2933}}code{{background:#eef1f4;padding:0 .25rem}}</style></head>
<body><main><h1>{title}</h1><p>{message}</p><p>Error code: <code>{code}</code></p>
<p><a href="/">Back to AccessPlane</a></p></main></body>
</html>
"""

_TITLES = {
    503: "The identity provider cannot be reached",
    401: "Sign-in refused",
    400: "Sign-in could not start",
    404: "Sign-in is not configured",
}


def error(request: Request, status: int, code: str, message: str) -> Response:
    """An error of the login flow: a small HTML page for a browser, JSON for anyone else."""
    headers = {"Cache-Control": "no-store"}
    if status == 503:
        headers["Retry-After"] = "30"
    if wants_html(request):
        page = _ERROR_PAGE.format(
            title=html.escape(_TITLES.get(status, "Sign-in failed")),
            message=html.escape(message),
            code=html.escape(code),
        )
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


PROVIDER_UNAVAILABLE = "The identity provider cannot be reached; try later."


def safe_return_to(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None: never an open redirect."""
    if not value:
        return "/"
    if len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None  # browsers read "/\evil.example" as "//evil.example"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


class OidcLogin:
    """The ``/auth/*`` routes and the Authlib clients of the configured issuers."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[Any],
        credentials: Credentials,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.credentials = credentials
        self.oauth = OAuth()
        self.issuers: dict[str, OidcIssuer] = {}
        for issuer in settings.oidc_issuers:
            if not issuer.client_id:
                continue  # a bearer-only issuer (tokens for the API, no console login)
            self.oauth.register(
                name=issuer.key,
                server_metadata_url=issuer.issuer.rstrip("/") + "/.well-known/openid-configuration",
                client_id=issuer.client_id,
                client_secret=(
                    issuer.client_secret.get_secret_value() if issuer.client_secret else None
                ),
                client_kwargs={
                    "scope": issuer.scope,
                    "code_challenge_method": "S256",
                    "timeout": settings.http_timeout,
                },
            )
            self.issuers[issuer.key] = issuer

    def routes(self) -> list[Route]:
        return [
            Route("/auth/login", self.login, methods=["GET"], name="auth_login"),
            Route("/auth/callback", self.callback, methods=["GET"], name="auth_callback"),
            Route("/auth/logout", self.logout, methods=["GET", "POST"], name="auth_logout"),
            Route("/auth/session", self.session_info, methods=["GET"], name="auth_session"),
        ]

    def _base_url(self, request: Request) -> str:
        return (self.settings.public_url or str(request.base_url)).rstrip("/")

    def _pick_issuer(self, wanted: str | None) -> OidcIssuer | None:
        if wanted:
            return self.issuers.get(wanted) or next(
                (i for i in self.issuers.values() if i.issuer == wanted), None
            )
        return next(iter(self.issuers.values())) if len(self.issuers) == 1 else None

    async def login(self, request: Request) -> Response:
        """Redirect to the provider's authorization endpoint."""
        if not self.issuers:
            return error(request, 404, "not_configured", "No OpenID Provider is configured.")
        issuer = self._pick_issuer(request.query_params.get("issuer"))
        if issuer is None:
            return error(
                request,
                400,
                "unknown_issuer",
                "Choose an issuer with ?issuer=: " + ", ".join(sorted(self.issuers)),
            )
        return_to = safe_return_to(request.query_params.get("return_to"))
        if return_to is None:
            return error(
                request, 400, "invalid_return_to", "return_to must be a path on this site."
            )
        client = self.oauth.create_client(issuer.key)
        redirect_uri = self._base_url(request) + "/auth/callback"
        try:
            await self._refresh_metadata(client, issuer)
            # Authlib adds state, nonce and the S256 code challenge, and keeps them (with the
            # verifier) in the session under the state.
            authorization = await client.create_authorization_url(redirect_uri)
        except UNREACHABLE as failure:
            logger.warning("login: %s unreachable: %s", issuer.issuer, type(failure).__name__)
            return error(request, 503, "provider_unavailable", PROVIDER_UNAVAILABLE)
        await client.save_authorize_data(request, redirect_uri=redirect_uri, **authorization)
        pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
        pending[authorization["state"]] = {"issuer": issuer.key, "return_to": return_to}
        request.session[PENDING_KEY] = dict(list(pending.items())[-MAX_PENDING_LOGINS:])
        return RedirectResponse(authorization["url"], status_code=302)

    async def _refresh_metadata(self, client: Any, issuer: OidcIssuer) -> None:
        """Fetch the provider's discovery document afresh, with a short timeout, before each
        login. Authlib would otherwise keep the first answer for the life of the process and
        send the browser to a provider that is down; a login is rare enough to afford one small
        request, which also proves the provider answers and picks up changed endpoints."""
        url = issuer.issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(timeout=self.settings.oidc_discovery_timeout) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            metadata = response.json()
        if not isinstance(metadata, dict) or not metadata.get("authorization_endpoint"):
            raise ValueError("the discovery document has no authorization_endpoint")
        client.server_metadata.update(metadata)
        # Authlib's own marker of loaded metadata: without it, it would fetch the document again.
        client.server_metadata["_loaded_at"] = time.time()

    async def callback(self, request: Request) -> Response:
        """Complete the login: code for tokens, ID token checked, user provisioned."""
        state = request.query_params.get("state") or ""
        pending: dict[str, Any] = dict(request.session.get(PENDING_KEY) or {})
        started = pending.pop(state, None)
        request.session[PENDING_KEY] = pending
        if not isinstance(started, dict) or started.get("issuer") not in self.issuers:
            return error(
                request,
                400,
                "invalid_state",
                "The login's state does not match; start the login again.",
            )
        issuer = self.issuers[started["issuer"]]
        client = self.oauth.create_client(issuer.key)
        try:
            token = await client.authorize_access_token(request, leeway=self.settings.jwt_leeway)
        except MismatchingStateError:
            return error(
                request,
                400,
                "invalid_state",
                "The login's state does not match; start the login again.",
            )
        except OAuthError as failure:
            if request.query_params.get("error"):
                # The provider refused the authorization request (and said why).
                return error(
                    request, 400, failure.error or "login_failed", failure.description or ""
                )
            return error(request, 401, failure.error or "login_failed", failure.description or "")
        except (JoseError, ValueError) as failure:
            logger.info("login: ID token of %s refused: %s", issuer.issuer, type(failure).__name__)
            return error(
                request, 401, "invalid_id_token", "The identity provider's ID token is invalid."
            )
        except HTTP_ERRORS as failure:
            logger.warning("callback: %s unreachable: %s", issuer.issuer, type(failure).__name__)
            return error(request, 503, "provider_unavailable", PROVIDER_UNAVAILABLE)
        finally:
            # One use per state, even when the provider answered with an error.
            await client.framework.clear_state_data(request.session, state)
        id_claims = token.get("userinfo")
        if not id_claims or not id_claims.get("sub"):
            return error(
                request, 401, "invalid_id_token", "The identity provider sent no ID token."
            )
        claims = await self._with_userinfo(client, issuer, token, dict(id_claims))
        session_id = ConsoleSessions.new_id()
        async with self.sessions() as session:
            try:
                user = await self._login(session, request, issuer, dict(claims))
            except Unauthenticated as refused:
                return error(
                    request, 401, str(refused.details.get("reason", "refused")), refused.message
                )
            await end_previous_session(request, session, self.credentials)
            await self.credentials.console_sessions.open(
                session,
                session_id=session_id,
                now=self.credentials.now(),
                lifetime=self.settings.session_max_age,
                user=user,
                issuer=issuer.issuer,
            )
        request.session[SESSION_KEY] = {
            "sid": session_id,
            "method": ConsoleSessionMethod.OIDC.value,
            "iss": issuer.issuer,
            "at": int(self.credentials.clock()),
            "csrf": secrets.token_urlsafe(32),
        }
        # The console is served at "/": the browser lands there unless the login asked for
        # another page of this site.
        return RedirectResponse(started.get("return_to") or "/", status_code=303)

    async def _with_userinfo(
        self, client: Any, issuer: OidcIssuer, token: dict[str, Any], claims: dict[str, Any]
    ) -> dict[str, Any]:
        """Many providers keep email, name and groups out of the ID token (OIDC Core 5.4):
        then ask the UserInfo endpoint, and trust its answer only for the same subject."""
        wanted = ["email", "name"] + ([issuer.groups_claim] if issuer.groups_claim else [])
        if all(claim in claims for claim in wanted):
            return claims
        try:
            info = await client.userinfo(token=token)
        except USERINFO_ERRORS as failure:
            logger.info("userinfo of %s unavailable: %s", issuer.issuer, type(failure).__name__)
            return claims
        if info.get("sub") != claims["sub"]:
            return claims
        return {**info, **claims}

    async def _login(
        self, session: AsyncSession, request: Request, issuer: OidcIssuer, claims: dict[str, Any]
    ) -> User:
        user = await provision_user(
            session=session,
            identity=Identity.from_claims(issuer.issuer, claims),
            bootstrap_owner=issuer.bootstrap_owner,
            default_workspace_name=self.settings.bootstrap_workspace_name,
        )
        request_id = request.scope.get("state", {}).get("request_id")
        ip = request.client.host if request.client else None
        await self.credentials.sync_groups(session, user, issuer.issuer, claims, ip, request_id)
        return user

    async def logout(self, request: Request) -> Response:
        """End the session, on the server too (a copy of the cookie no longer works); continue
        at the provider's end-session endpoint if it has one. A client asking for JSON gets
        ``{"authenticated": false, "logoutUrl"}`` instead of a redirect."""
        data = session_data(request)
        request.session.clear()
        if data is not None and isinstance(data.get("sid"), str):
            async with self.sessions() as session:
                await self.credentials.console_sessions.end(session, data["sid"])
        home = self._base_url(request) + "/"
        target = await self._end_session_url(data, home)
        if accepts_json(request):
            return JSONResponse(
                {"authenticated": False, "logoutUrl": target if target != home else None},
                headers={"Cache-Control": "no-store"},
            )
        return RedirectResponse(target, status_code=303)

    async def _end_session_url(self, data: dict[str, Any] | None, home: str) -> str:
        """The provider's end-session URL for an OIDC session, else ``home``."""
        issuer = self.settings.oidc_issuer(str(data.get("iss"))) if data else None
        if issuer is None or issuer.key not in self.issuers:
            return home
        client = self.oauth.create_client(issuer.key)
        try:
            # Afresh, as for a login: a provider that is down is not where to send the browser.
            await self._refresh_metadata(client, issuer)
        except UNREACHABLE as failure:
            logger.warning("logout: %s unreachable: %s", issuer.issuer, type(failure).__name__)
            return home  # logged out here all the same
        if not client.server_metadata.get("end_session_endpoint"):
            return home
        logout = await client.create_logout_url(
            post_logout_redirect_uri=home, client_id=issuer.client_id
        )
        return str(logout["url"])

    async def session_info(self, request: Request) -> Response:
        """Who is signed in (a person, or an API key), until when, and the CSRF token for
        GraphQL POSTs."""
        data = session_data(request)
        if data is None:
            return JSONResponse({"authenticated": False}, headers={"Cache-Control": "no-store"})
        async with self.sessions() as session:
            try:
                live = await self.credentials.console_session(request, session)
            except Unauthenticated:
                live = None
        if live is None:
            return JSONResponse({"authenticated": False}, headers={"Cache-Control": "no-store"})
        body: dict[str, Any] = {
            "authenticated": True,
            "method": live.method.value,
            "expiresAt": min(
                int(data.get("at", 0)) + self.settings.session_max_age,
                int(live.expires_at.timestamp()),
            ),
            "csrfToken": data.get("csrf"),
        }
        if live.user is not None:
            body["user"] = {
                "email": live.user.email,
                "name": live.user.name,
                "issuer": live.user.issuer,
            }
        if live.key is not None and live.role is not None:
            body["apiAccess"] = {
                "id": str(GlobalID("ApiAccess", str(live.key.id))),
                "name": live.key.name,
                "roleName": live.role.name,
                "workspaceId": str(GlobalID("Workspace", str(live.key.workspace_id))),
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def end_previous_session(
    request: Request, session: AsyncSession, credentials: Credentials
) -> None:
    """Before a new sign-in in this browser: end the session it had, if any (no session
    fixation, and no orphan row left live on the server)."""
    data = session_data(request)
    request.session.pop(SESSION_KEY, None)
    if data is not None and isinstance(data.get("sid"), str):
        await credentials.console_sessions.end(session, data["sid"])
