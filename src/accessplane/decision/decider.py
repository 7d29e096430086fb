"""One decision: may this credential call this API from this address now?

Checks run in the order of docs/decision.md (credential, active state, IP, API, operation,
time window, rate limit, quota) and the first failure is the reason. Credentials are looked up
once and then served from ``DecisionCache``; concurrent first requests for one credential share
one lookup.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from joserfc import jws
from joserfc.errors import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessplane.auth.jwt import MAX_TOKEN_LENGTH, JwtValidator
from accessplane.auth.tokens import TokenKind, parse_token
from accessplane.db.changes import TRUSTED_ISSUERS, tag
from accessplane.decision import loading
from accessplane.decision.cache import DecisionCache, certificate_key
from accessplane.decision.certificates import ClientCertificate, binding_refusal
from accessplane.decision.issuers import TokenRefused, TrustedIssuers, UnverifiedToken, scopes_of
from accessplane.decision.operations import OperationGrant, Target, normalise_target
from accessplane.decision.policies import AppPolicy, GatewayCaller, MemberAccess
from accessplane.decision.ratelimits import FailureMode, Limiter, LimitState
from accessplane.decision.reasons import GatewayCallerKind, Reason
from accessplane.errors import Unauthenticated
from accessplane.settings import Settings


@dataclass(frozen=True, slots=True)
class _Revoked:
    """Cached in place of a policy: a token that was refreshed or deleted, and whose it was."""

    caller: GatewayCaller


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    credential: str | None
    api: str
    ip: str | None
    method: str = ""
    path: str = ""
    # Whether ``path`` holds the bytes a gateway sent, one character a byte (read as latin-1:
    # forward auth), rather than text (``/v1/check``'s JSON): see ``normalise_path``.
    path_bytes: bool = False
    # The client certificate a trusted gateway forwarded (MTLS apps, bound tokens).
    certificate: ClientCertificate | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    reason: Reason
    caller: GatewayCaller | None = None
    limit: LimitState | None = None
    # The declared operation the request was matched to (apps, APIs that declare operations).
    operation_id: uuid.UUID | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is Reason.OK

    def as_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,  # a StrEnum: JSON writes its value
            # "principal" is the public name of the caller in the answer.
            "principal": self.caller.as_json() if self.caller is not None else None,
            "rateLimit": self.limit.as_json() if self.limit is not None else None,
        }


class UsageRecorder(Protocol):
    def record(
        self,
        *,
        workspace_id: uuid.UUID,
        principal_type: GatewayCallerKind,
        principal_id: uuid.UUID,
        reason: Reason,
        at: datetime,
    ) -> None: ...


def _unverified(token: str) -> UnverifiedToken | None:
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (DecodeError, ValueError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    return UnverifiedToken(header=dict(compact.headers()), claims=claims)


def _audience_matches(claims: dict[str, Any], audience: str) -> bool:
    if not audience:
        return True
    aud = claims.get("aud")
    return aud == audience or (isinstance(aud, list) and audience in aud)


def _allowed_operation(
    grant: OperationGrant, target: Target | None, scopes: frozenset[str] | None
) -> uuid.UUID | Reason:
    """The id of the operation the request is, when the app may call it (and ``scopes``, a
    token's, hold its own; None for credentials without scopes), else the refusal's reason:
    ``OperationGrant.check``'s rule in the same single pass, keeping which operation matched
    for the call log."""
    if target is None:
        return Reason.OPERATION_NOT_ALLOWED
    allowed = grant.allowed
    reason = Reason.OPERATION_NOT_ALLOWED
    for operation in grant.table.match(target):
        if allowed is not None and operation.id not in allowed:
            continue
        if scopes is None or operation.scopes <= scopes:
            return operation.id
        reason = Reason.INSUFFICIENT_SCOPE
    return reason


class Decider:
    """Decides requests; one per application (it owns the caches)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        cache: DecisionCache,
        limiter: Limiter,
        member_tokens: JwtValidator,
        usage: UsageRecorder | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.cache = cache
        self.limiter = limiter
        # How decisions fail while the shared rate-limit counters are unreachable.
        limiter.failure_mode = FailureMode(settings.limiter_failure_mode)
        self.issuers = TrustedIssuers(settings)
        self.member_tokens = member_tokens
        self.usage = usage
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._secret = settings.secret_key.get_secret_value().encode()
        # key -> the cache generation it started in and the load running for it.
        self._loading: dict[Hashable, tuple[int, asyncio.Future[Any]]] = {}

    async def decide(self, request: DecisionRequest) -> Decision:
        """The decision for one gateway request."""
        now = self.clock()
        decision = await self._decide(request, now)
        if self.usage is not None and decision.caller is not None:
            caller = decision.caller
            self.usage.record(
                workspace_id=caller.workspace_id,
                principal_type=caller.type,
                principal_id=caller.id,
                reason=decision.reason,
                at=now,
            )
        return decision

    async def _decide(self, request: DecisionRequest, now: datetime) -> Decision:
        credential = request.credential
        if not credential:
            return await self._decide_certificate(request, now)
        if credential.startswith(f"{TokenKind.ACCESS_PROFILE.value}_"):
            found = await self._app_for_token(credential)
            if found is None:
                return Decision(Reason.UNKNOWN_CREDENTIAL)
            if isinstance(found, _Revoked):
                return Decision(Reason.REVOKED, found.caller)
            return await self._check_app(found, request, now)
        if credential.count(".") == 2:
            return await self._decide_jwt(credential, request, now)
        # Platform API keys (apk_) are for AccessPlane's own API, not for gateways.
        return Decision(Reason.UNKNOWN_CREDENTIAL)

    async def _once(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``load`` for ``key`` once, however many requests wait for it.

        The load runs in a task of its own that every caller awaits shielded, so a caller
        that goes away (cancelled) takes nobody's answer with it. A caller joins a running
        load only while the cache's generation is the one the load started in: after an
        invalidation (a revocation committed), the load may have read the rows before the
        change, so a new one starts."""
        generation = self.cache.generation
        running = self._loading.get(key)
        if running is not None and running[0] == generation:
            task = running[1]
        else:
            task = asyncio.ensure_future(load())
            self._loading[key] = (generation, task)
            task.add_done_callback(functools.partial(self._loaded, key))
        return await asyncio.shield(task)

    def _loaded(self, key: Hashable, task: asyncio.Future[Any]) -> None:
        """A load ended: forget it (unless a newer one took its key) and retrieve its
        exception, so it is never reported as unretrieved when every caller went away."""
        running = self._loading.get(key)
        if running is not None and running[1] is task:
            del self._loading[key]
        if not task.cancelled():
            task.exception()

    async def _app_for_token(self, token: str) -> AppPolicy | _Revoked | None:
        # The raw HMAC is the key (half the memory of its hex form, which the database holds).
        key = hmac.digest(self._secret, token.encode(), "sha256")
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.cache.is_unknown(key) or parse_token(token) is not TokenKind.ACCESS_PROFILE:
            return None  # known to be unknown, or prefix, length or checksum wrong: no SQL

        async def load() -> AppPolicy | _Revoked | None:
            generation = self.cache.generation
            digest = key.hex()
            async with self.sessions() as session:
                app = await loading.app_by_digest(session, digest, self.cache.intern)
                if app is None:
                    caller = await loading.revoked_caller(session, digest, self.cache.intern)
                    if caller is not None:
                        revoked = _Revoked(caller)
                        # The app's tag keeps the name current (renamed, deleted).
                        self.cache.put(
                            key, revoked, (tag("access_profile", caller.id),), generation
                        )
                        return revoked
            if app is None:
                self.cache.put_unknown(key, generation)
                return None
            self.cache.put(key, app, app.tags, generation)
            return app

        return await self._once(key, load)  # type: ignore[no-any-return]

    # MTLS apps: the forwarded certificate is the credential.

    async def _decide_certificate(self, request: DecisionRequest, now: datetime) -> Decision:
        certificate = request.certificate
        if certificate is None:
            wanted = request.api in await self._certificate_apis()
            return Decision(Reason.CERTIFICATE_REQUIRED if wanted else Reason.MISSING_CREDENTIAL)
        found = await self._app_for_certificate(certificate) if certificate.readable else None
        if found is None:
            return Decision(Reason.CERTIFICATE_NOT_RECOGNISED)
        app, not_after = found
        if not_after <= now:
            return Decision(Reason.CERTIFICATE_EXPIRED, app.caller)
        return await self._check_app(app, request, now)

    async def _app_for_certificate(
        self, certificate: ClientCertificate
    ) -> tuple[AppPolicy, datetime] | None:
        key = certificate_key(certificate.digest)
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.cache.is_unknown(key):
            return None

        async def load() -> tuple[AppPolicy, datetime] | None:
            generation = self.cache.generation
            async with self.sessions() as session:
                found = await loading.app_by_certificate(
                    session, certificate.fingerprint, self.cache.intern
                )
            if found is None:
                self.cache.put_unknown(key, generation)
            else:
                self.cache.put(key, found, found[0].tags, generation)
            return found

        return await self._once(key, load)  # type: ignore[no-any-return]

    async def _certificate_apis(self) -> frozenset[str]:
        cached = self.cache.certificate_apis()
        if cached is not None:
            return cached

        async def load() -> frozenset[str]:
            generation = self.cache.generation
            async with self.sessions() as session:
                apis = await loading.certificate_apis(session)
            self.cache.put_certificate_apis(apis, generation)
            return apis

        return await self._once(("certificate_apis",), load)  # type: ignore[no-any-return]

    async def _check_app(
        self,
        app: AppPolicy,
        request: DecisionRequest,
        now: datetime,
        scopes: frozenset[str] | None = None,
    ) -> Decision:
        """The checks after the credential's own; ``scopes``: a token's (None without one)."""
        caller = app.caller
        if not app.client_active:
            return Decision(Reason.INACTIVE_CLIENT, caller)
        if app.suspended:
            return Decision(Reason.SUSPENDED, caller)
        if not app.ip_allowed(request.ip):
            return Decision(Reason.IP_NOT_ALLOWED, caller)
        if request.api not in app.apis:
            return Decision(Reason.API_NOT_GRANTED, caller)
        operation_id = None
        grant = app.operations.get(request.api)
        if grant is not None:  # the API declares operations: the request must be one allowed
            matched = _allowed_operation(
                grant,
                normalise_target(request.method, request.path, raw_bytes=request.path_bytes),
                scopes,
            )
            if isinstance(matched, Reason):
                return Decision(matched, caller)
            operation_id = matched
        plan = app.plan
        if plan is None:
            return Decision(Reason.OK, caller, operation_id=operation_id)
        if plan.window is not None and not plan.window.contains(now):
            return Decision(Reason.OUTSIDE_TIME_WINDOW, caller, operation_id=operation_id)
        outcome = await self.limiter.check(plan, caller.id, now)
        return Decision(outcome.reason or Reason.OK, caller, outcome.state, operation_id)

    # JWTs: an app's trusted issuer first, then the workspace's OpenID Providers (members).

    async def _decide_jwt(self, token: str, request: DecisionRequest, now: datetime) -> Decision:
        unverified = _unverified(token)
        if unverified is None or unverified.issuer is None:
            return Decision(Reason.INVALID_TOKEN)
        issuer = unverified.issuer
        if issuer in await self._trusted_issuers():
            # The signature first: a forged token costs no SQL, whatever names it invents.
            try:
                claims = await self.issuers.verify(token, unverified)
            except TokenRefused as refused:
                return Decision(refused.reason)
            apps = await self._apps_for_jwt(issuer, tuple(unverified.names))
            if apps:
                return await self._decide_app_jwt(claims, apps, request, now)
        if self.settings.oidc_issuer(issuer) is not None:
            return await self._decide_member_jwt(token, request)
        return Decision(Reason.UNKNOWN_CREDENTIAL)

    async def _trusted_issuers(self) -> frozenset[str]:
        key = ("trusted_issuers",)
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]

        async def load() -> frozenset[str]:
            generation = self.cache.generation
            async with self.sessions() as session:
                issuers = await loading.trusted_issuers(session)
            self.cache.put(key, issuers, (TRUSTED_ISSUERS,), generation)
            return issuers

        return await self._once(key, load)  # type: ignore[no-any-return]

    async def _apps_for_jwt(self, issuer: str, names: tuple[str, ...]) -> list[AppPolicy]:
        key = ("jwt", issuer, names)
        cached = self.cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.cache.is_unknown(key):
            return []

        async def load() -> list[AppPolicy]:
            generation = self.cache.generation
            async with self.sessions() as session:
                apps = await loading.apps_by_token_client(session, issuer, names, self.cache.intern)
            if apps:
                self.cache.put(key, apps, {t for app in apps for t in app.tags}, generation)
            else:
                self.cache.put_unknown(key, generation)
            return apps

        return await self._once(key, load)  # type: ignore[no-any-return]

    async def _decide_app_jwt(
        self,
        claims: dict[str, Any],
        apps: list[AppPolicy],
        request: DecisionRequest,
        now: datetime,
    ) -> Decision:
        # Several apps may trust one client of one issuer: the one holding the API decides.
        app = next((a for a in apps if request.api in a.apis), apps[0])
        if not _audience_matches(claims, app.audience):
            return Decision(Reason.INVALID_TOKEN, app.caller)
        if app.certificate_bound_tokens:
            refused = binding_refusal(claims, request.certificate)
            if refused is not None:
                return Decision(refused, app.caller)
        scopes = scopes_of(claims)
        if not app.required_scopes <= scopes:
            return Decision(Reason.INSUFFICIENT_SCOPE, app.caller)
        return await self._check_app(app, request, now, scopes)

    async def _decide_member_jwt(self, token: str, request: DecisionRequest) -> Decision:
        try:
            verified = await self.member_tokens.validate(token)
        except Unauthenticated as refused:
            reason = refused.extensions.get("reason")
            return Decision(Reason.EXPIRED if reason == "expired" else Reason.INVALID_TOKEN)
        issuer = verified.issuer.issuer
        subject = None if verified.is_client_token else verified.subject
        client_id = verified.client_id if subject is None else None
        name = subject or client_id
        if name is None:
            return Decision(Reason.UNKNOWN_CREDENTIAL)
        key = ("member", issuer, subject is None, name, request.api)
        found = self.cache.get(key)
        if found is None and not self.cache.is_unknown(key):

            async def load() -> list[MemberAccess]:
                generation = self.cache.generation
                async with self.sessions() as session:
                    access = await loading.member_access(
                        session,
                        issuer=issuer,
                        subject=subject,
                        client_id=client_id,
                        api=request.api,
                    )
                if access:
                    self.cache.put(key, access, {t for a in access for t in a.tags}, generation)
                else:
                    self.cache.put_unknown(key, generation)
                return access

            found = await self._once(key, load)
        if not found:
            return Decision(Reason.UNKNOWN_CREDENTIAL)
        member = next((m for m in found if m.granted), found[0])
        return Decision(Reason.OK if member.granted else Reason.API_NOT_GRANTED, member.caller)
