"""From a request's credential to its principal: one place decides which credential counts.

- ``Authorization: Bearer apk_…``: a platform API key (``principal_for_api_key``).
- ``Authorization: Bearer <JWT>``: a token of a configured OpenID Provider. A token with a user
  in it acts as that person; a client-credentials token (no user: ``sub`` absent or equal to
  the client id) acts as the SERVICE member its client is linked to, and an unlinked client is
  UNAUTHENTICATED (reason ``unmapped_client``): it gets no access at all.
- Otherwise the console session cookie, for POSTs only with the CSRF token of that session in
  ``X-CSRF-Token`` and, when the browser sends an ``Origin``, one that is this site or allowed
  by CORS. An ``Authorization`` header always wins: the cookie is then ignored, so bearer
  requests need no CSRF token. The cookie's session id must still have its row in
  ``console_session`` (signin/console_sessions.py): logout ends a session on the server, and a
  session opened with an API key acts as that key for as long as the key stays valid.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request

from accessplane.auth.jwt import JwtValidator, VerifiedToken
from accessplane.auth.principals import Principal
from accessplane.auth.tokens import TokenKind, parse_token, token_digest
from accessplane.db.changes import identity
from accessplane.decision.cache import DecisionCache
from accessplane.decision.invalidation import CacheInvalidator
from accessplane.errors import Unauthenticated
from accessplane.models import ApiAccess, Role, User
from accessplane.models.base import utcnow
from accessplane.services.group_sync import claim_values, sync_actor, sync_user_groups
from accessplane.services.service_accounts import principal_for_client
from accessplane.services.users import Identity, find_user, provision_user
from accessplane.settings import Settings
from accessplane.signin import principal_cache
from accessplane.signin.authenticate import (
    USAGE_HOOK,
    UsageHook,
    bearer_token,
    key_principal,
    principal_for_api_key,
    principal_for_user,
)
from accessplane.signin.console_sessions import (
    ConsoleSessions,
    LiveSession,
    principal_for_key_session,
)

SESSION_KEY = "auth"
CSRF_HEADER = "x-csrf-token"


def session_data(request: Request) -> dict[str, Any] | None:
    """The console login stored in the signed session cookie, if any."""
    session = request.scope.get("session")
    if not isinstance(session, dict):
        return None
    data = session.get(SESSION_KEY)
    return data if isinstance(data, dict) else None


def origin_allowed(request: Request, origin: str, settings: Settings) -> bool:
    """Whether a browser's ``Origin`` is this site or one allowed by CORS."""
    own = urlsplit(settings.public_url or str(request.base_url))
    parsed = urlsplit(origin)
    same = (parsed.scheme, parsed.netloc) == (own.scheme, own.netloc)
    return same or origin in settings.cors_origins


class Credentials:
    """Authenticates requests; one per application (it holds the JWKS caches)."""

    def __init__(self, settings: Settings, jwt: JwtValidator | None = None) -> None:
        self.settings = settings
        self.jwt = jwt or JwtValidator(settings)
        self.console_sessions = ConsoleSessions(settings.secret_key.get_secret_value().encode())
        # The wall clock for console sessions' lifetime; tests move it instead of waiting.
        self.clock: Callable[[], float] = time.time
        # Principals by credential (signin/principal_cache.py); None: every request looks up.
        self.principals: principal_cache.PrincipalCache | None = None

    def cache_principals(self, invalidator: CacheInvalidator) -> None:
        """Cache principals, dropped by the same change tags as the decision cache's entries
        (``invalidator``: this instance's commits and, on PostgreSQL, the others' NOTIFY)."""
        store = DecisionCache(
            size=principal_cache.SIZE, unknown_size=1, ttl=self.settings.decision_cache_ttl
        )
        invalidator.followers.append(store)
        self.principals = principal_cache.PrincipalCache(store)

    def now(self) -> datetime:
        """``clock`` as a timezone-aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    async def authenticate(
        self,
        request: Request,
        session: AsyncSession,
        *,
        ip: str | None = None,
        request_id: str | None = None,
    ) -> Principal | None:
        """The request's principal; None without any credential; UNAUTHENTICATED (with a
        ``reason``) for a credential that is refused."""
        token = bearer_token(request.headers.get("authorization"))
        if token is not None:
            if token.startswith(f"{TokenKind.API_ACCESS.value}_") or token.count(".") != 2:
                return await self._api_key_principal(session, token)
            verified = await self.jwt.validate(token)
            return await self._cached_token_principal(session, verified, ip, request_id)
        data = session_data(request)
        if data is None:
            return None
        return await self._principal_for_session(request, session, data)

    async def _api_key_principal(self, session: AsyncSession, token: str) -> Principal:
        """An API key's principal, from the cache when warm (its use is still counted)."""
        secret = self.settings.secret_key.get_secret_value().encode()
        cache = self.principals
        if cache is None or parse_token(token) is not TokenKind.API_ACCESS:
            return await principal_for_api_key(session, token, secret)
        now = utcnow()
        digest = token_digest(token, secret)
        key = principal_cache.api_key(digest)
        found = cache.get(key, now)
        if found is not None and found.credential_id is not None:
            hook: UsageHook | None = session.info.get(USAGE_HOOK)
            if hook is not None:
                hook.record(found.credential_id, now)
            return found
        generation = cache.generation
        row = (
            await session.execute(
                select(ApiAccess, Role)
                .join(Role, col(Role.id) == col(ApiAccess.role_id))
                .where(col(ApiAccess.token_digest) == digest)
            )
        ).first()
        if row is None or (row[0].expires_at is not None and row[0].expires_at <= now):
            # Refused, or a previous token in its rotation's grace period (rare, and bounded
            # by its revocation rather than the key's expiry): the full look-up decides.
            return await principal_for_api_key(session, token, secret, now=now)
        api_access, role = row
        hook = session.info.get(USAGE_HOOK)
        if hook is not None:
            hook.record(api_access.id, now)
        principal = key_principal(api_access, role)
        cache.put(key, principal, generation, valid_until=api_access.expires_at)
        return principal

    def _token_key(self, token: VerifiedToken) -> Hashable | None:
        """The cache key of a bearer JWT's principal; None when it must be looked up each
        time: a user token of an issuer whose groups claim is synchronised (that writes)."""
        issuer = token.issuer.issuer
        if token.is_client_token:
            client_id = token.client_id
            return principal_cache.token_client(issuer, client_id) if client_id else None
        config = self.settings.oidc_issuer(issuer)
        if token.subject is None or (config is not None and config.groups_claim):
            return None
        return principal_cache.token_user(issuer, token.subject)

    async def _cached_token_principal(
        self,
        session: AsyncSession,
        token: VerifiedToken,
        ip: str | None,
        request_id: str | None,
    ) -> Principal:
        """``principal_for_token``, from the cache when warm."""
        cache = self.principals
        key = self._token_key(token) if cache is not None else None
        if cache is None or key is None:
            return await self.principal_for_token(session, token, ip=ip, request_id=request_id)
        found = cache.get(key, utcnow())
        if found is not None:
            return found
        generation = cache.generation
        principal = await self.principal_for_token(session, token, ip=ip, request_id=request_id)
        names = {name for name in (token.subject, token.client_id) if name}
        tags = {identity(token.issuer.issuer, name) for name in names}
        cache.put(key, principal, generation, extra_tags=tags)
        return principal

    async def _user_principal(self, session: AsyncSession, user: User) -> Principal:
        """A console session's person with their memberships, from the cache when warm."""
        cache = self.principals
        if cache is None:
            return await principal_for_user(session, user)
        key = principal_cache.user(user.id)
        found = cache.get(key, utcnow())
        # The name is the session row's user, read on this request: never stale.
        if found is not None and found.name == user.email:
            return found
        generation = cache.generation
        principal = await principal_for_user(session, user)
        cache.put(key, principal, generation)
        return principal

    async def principal_for_token(
        self,
        session: AsyncSession,
        token: VerifiedToken,
        *,
        ip: str | None = None,
        request_id: str | None = None,
    ) -> Principal:
        """The principal a verified bearer JWT acts as."""
        issuer = token.issuer.issuer
        client_id = token.client_id
        if token.is_client_token:
            principal = (
                await principal_for_client(session, issuer, client_id) if client_id else None
            )
            if principal is None:
                raise Unauthenticated(
                    "This OAuth client is not linked to any workspace (linkServiceAccount).",
                    reason="unmapped_client",
                )
            return principal
        subject = token.subject
        assert subject is not None
        user = await find_user(session, issuer, subject)
        if user is None and not token.claims.get("email"):
            # Providers such as Keycloak give a client-credentials token the subject of a
            # service-account user (with no email): a linked client with such a subject.
            service = await principal_for_client(session, issuer, client_id) if client_id else None
            if service is not None:
                return service
            raise Unauthenticated(
                "Unknown user: log in to the console once, or have the provider put the "
                "'email' claim in access tokens.",
                reason="unknown_user",
            )
        if user is None:
            user = await provision_user(
                session=session,
                identity=Identity.from_claims(issuer, token.claims),
                bootstrap_owner=token.issuer.bootstrap_owner,
                default_workspace_name=self.settings.bootstrap_workspace_name,
            )
        await self.sync_groups(session, user, token.issuer.issuer, token.claims, ip, request_id)
        return await principal_for_user(session, user)

    async def sync_groups(
        self,
        session: AsyncSession,
        user: User,
        issuer: str,
        claims: dict[str, Any],
        ip: str | None,
        request_id: str | None,
    ) -> None:
        """Apply the issuer's groups claim, when it is configured and present."""
        config = self.settings.oidc_issuer(issuer)
        if config is None or not config.groups_claim:
            return
        values = claim_values(claims, config.groups_claim)
        if values is None:
            return
        await sync_user_groups(
            session=session,
            user_id=user.id,
            issuer=issuer,
            values=values,
            actor=sync_actor(issuer, ip=ip, request_id=request_id),
        )

    async def console_session(self, request: Request, session: AsyncSession) -> LiveSession | None:
        """The request's live console session; None without a session cookie. A cookie whose
        session is over (lifetime, logout, its key deleted, regenerated or expired) is
        UNAUTHENTICATED with a ``reason``, and dropped from the browser."""
        data = session_data(request)
        if data is None:
            return None
        self._check_lifetime(request, data)
        return await self._live(request, session, data)

    def _check_lifetime(self, request: Request, data: dict[str, Any]) -> None:
        logged_in_at = data.get("at")
        if (
            not isinstance(logged_in_at, int | float)
            or self.clock() - logged_in_at > self.settings.session_max_age
        ):
            request.session.pop(SESSION_KEY, None)
            raise Unauthenticated("The session has expired; log in again.", reason="expired")

    async def _live(
        self, request: Request, session: AsyncSession, data: dict[str, Any]
    ) -> LiveSession:
        session_id = data.get("sid")
        try:
            if not isinstance(session_id, str):
                # A cookie from before sessions had ids: it cannot be checked, so it is over.
                raise Unauthenticated("The session has ended; sign in again.", reason="revoked")
            return await self.console_sessions.find(session, session_id, now=self.now())
        except Unauthenticated:
            request.session.pop(SESSION_KEY, None)
            raise

    async def _principal_for_session(
        self, request: Request, session: AsyncSession, data: dict[str, Any]
    ) -> Principal:
        self._check_lifetime(request, data)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self._check_csrf(request, data)
        live = await self._live(request, session, data)
        if live.user is not None:
            return await self._user_principal(session, live.user)
        return principal_for_key_session(session, live, self.now())

    def _check_csrf(self, request: Request, data: dict[str, Any]) -> None:
        origin = request.headers.get("origin")
        if origin is not None and not origin_allowed(request, origin, self.settings):
            raise Unauthenticated(
                "Cookie-authenticated requests are accepted only from this site's origin.",
                reason="csrf",
            )
        expected = data.get("csrf")
        given = request.headers.get(CSRF_HEADER, "")
        if not isinstance(expected, str) or not hmac.compare_digest(
            given.encode(), expected.encode()
        ):
            raise Unauthenticated(
                "Send the session's CSRF token (GET /auth/session) in the X-CSRF-Token header.",
                reason="csrf",
            )
