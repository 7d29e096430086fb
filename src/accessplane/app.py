"""The Starlette application: GraphQL, health checks, middleware and lifespan."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from cross_web import HTTPException  # Strawberry's view raises it for a bad request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from accessplane.auth.principals import Principal
from accessplane.bodylimit import BodyLimit
from accessplane.calls_export import CallsExport
from accessplane.console import Console
from accessplane.context import Context
from accessplane.db import create_engine
from accessplane.db.engine import pool_usage
from accessplane.db.session import RequestSession, request_sessions
from accessplane.decision.cache import DecisionCache
from accessplane.decision.calls import CallLog
from accessplane.decision.decider import Decider
from accessplane.decision.http import DecisionEndpoints
from accessplane.decision.invalidation import CacheInvalidator, listening, subscribe
from accessplane.decision.metrics import DecisionMetrics, metrics_endpoint
from accessplane.decision.ratelimits import Limiter, storage_for
from accessplane.decision.usage import DecisionUsage
from accessplane.errors import Unauthenticated
from accessplane.net import client_ip
from accessplane.notify.backlog import outbox_query, webhook_query
from accessplane.notify.outbox import in_process_worker
from accessplane.observability.http import HttpMetricsMiddleware, HttpTracingMiddleware
from accessplane.observability.logging import bind_principal, configure_logging, request_context
from accessplane.observability.observers import Observers, observers
from accessplane.schema.build import build_schema
from accessplane.services import clients
from accessplane.services.api_access import ApiAccessUsage
from accessplane.settings import Settings, get_settings
from accessplane.signin.authenticate import USAGE_HOOK
from accessplane.signin.credentials import Credentials
from accessplane.signin.key_sign_in import KeySignIn
from accessplane.signin.oidc import OidcLogin

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id (the caller's ``X-Request-ID`` if sane), echoed in the
    response and written to the audit log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with request_context(request_id):  # logs written for the request carry its id
            await self.app(scope, receive, send_with_id)


def count_values(data: object, *, stop_after: int) -> int:
    """How many values (containers and scalars) ``data`` holds, counting no further than
    ``stop_after + 1``: a bound checked before graphql-core coerces every one of them."""
    seen = 0
    pending = [data]
    while pending and seen <= stop_after:
        value = pending.pop()
        seen += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return seen


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with one database session and one principal per request."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[RequestSession],
        settings: Settings,
        credentials: Credentials | None = None,
        console: Console | None = None,
        observed: Observers | None = None,
        **kwargs: Any,
    ) -> None:
        schema = build_schema(
            settings,
            metrics=observed.graphql if observed else None,
            tracing=observed.tracing if observed else None,
        )
        super().__init__(schema, **kwargs)
        self.sessions = sessions
        self.settings = settings
        self.credentials = credentials or Credentials(settings)
        self.console = console

    async def render_graphql_ide(self, request: Request) -> Response:
        # GraphiQL from the console's build works offline; Strawberry's page needs a CDN.
        page = self.console.graphiql() if self.console else None
        return page or await super().render_graphql_ide(request)

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        # One session per request, closed when the response is ready.
        try:
            async with self.sessions() as session:
                context = await self._context(request, session)
                return await super().run(request, context=context)
        except HTTPException as refused:
            # A request that is not a GraphQL request at all (unparsable body, GET query): a
            # GraphQL error list with the HTTP status (as its code, e.g. BAD_REQUEST), as JSON.
            code = HTTPStatus(refused.status_code).name
            return JSONResponse(
                {"errors": [{"message": refused.reason, "extensions": {"code": code}}]},
                status_code=refused.status_code,
            )
        finally:
            # Closes the spooled files of a multipart upload (Starlette closes them only for
            # the requests of its own endpoints).
            await request.close()

    def decode_json(self, data: str | bytes) -> object:
        """The body's JSON, which must be an object (or a list, refused as a batch)."""
        try:
            decoded = json.loads(data)
        except ValueError:  # not JSON, or not UTF-8
            raise HTTPException(400, "The body is not valid JSON.") from None
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The body must be a JSON object with a 'query'.")
        if isinstance(decoded, dict):
            limit = self.settings.max_variable_values
            if count_values(decoded.get("variables"), stop_after=limit) > limit:
                raise HTTPException(400, f"The variables hold more than {limit} values.")
        return decoded

    async def _context(self, request: Request, session: AsyncSession) -> Context:
        settings = self.settings
        viewer: Principal | None = None
        error: Unauthenticated | None = None
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            settings.trusted_proxies,
        )
        request_id = request.scope.get("state", {}).get("request_id")
        try:
            # API key, OIDC bearer JWT or console session cookie (with CSRF): signin/credentials.py
            viewer = await self.credentials.authenticate(
                request, session, ip=ip, request_id=request_id
            )
        except Unauthenticated as failure:
            error = failure
        if viewer is not None:
            viewer = replace(viewer, ip=ip, request_id=request_id)
            _name_in_logs(viewer)
        return Context(
            session=session, settings=settings, viewer=viewer, auth_error=error, request=request
        )


def _name_in_logs(viewer: Principal) -> None:
    """The principal, and its workspace when it has exactly one, in the request's logs."""
    workspaces = list(viewer.memberships)
    bind_principal(
        str(viewer.id) if viewer.id else None,
        str(workspaces[0]) if len(workspaces) == 1 else None,
    )


@dataclass(frozen=True)
class DataPlane:
    """The decision endpoints' parts (docs/decision.md): they live as long as the app."""

    decider: Decider
    usage: DecisionUsage
    invalidator: CacheInvalidator
    metrics: DecisionMetrics
    # The call log's buffer and writer; None with ACCESSPLANE_CALL_LOG_ENABLED=false.
    calls: CallLog | None = None


def data_plane(
    settings: Settings,
    engine: AsyncEngine,
    credentials: Credentials,
    observed: Observers | None = None,
) -> DataPlane:
    """The decision cache, rate limiter, usage counter and decider, sharing ``engine``; their
    metrics go to ``observed``'s hub (a hub of their own without it)."""
    cache = DecisionCache(
        size=settings.decision_cache_size,
        unknown_size=settings.decision_negative_cache_size,
        ttl=settings.decision_cache_ttl,
    )
    reads = async_sessionmaker(engine, expire_on_commit=False)
    usage = DecisionUsage(reads)
    limiter = Limiter(storage_for(settings.redis_url))
    decider = Decider(
        settings=settings,
        sessions=reads,
        cache=cache,
        limiter=limiter,
        member_tokens=credentials.jwt,
        usage=usage,
    )
    calls = (
        CallLog(
            reads,
            capacity=settings.call_log_buffer,
            batch_size=settings.call_log_batch_size,
            interval=settings.call_log_flush_seconds,
        )
        if settings.call_log_enabled
        else None
    )
    invalidator = subscribe(engine, cache)
    credentials.cache_principals(invalidator)  # GraphQL principals: the same invalidation
    return DataPlane(
        decider=decider,
        usage=usage,
        calls=calls,
        invalidator=invalidator,
        metrics=DecisionMetrics(
            cache.sizes,
            limiter.stats,
            cache_lookups=cache.lookups,
            hub=observed.hub if observed else None,
            tracing=observed.tracing if observed else None,
        ),
    )


async def healthz(_: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers."""
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # the readiness probe reports any database failure as not ready
        logger.exception("readiness check failed")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


async def logo(request: Request) -> Response:
    """A client's uploaded logo. Client ids are random UUIDs, so serving logos without
    authentication (as <img> sources) reveals nothing one could enumerate."""
    try:
        client_id = uuid.UUID(request.path_params["client_id"])
    except ValueError:
        return Response(status_code=404)
    sessions: async_sessionmaker[RequestSession] = request.app.state.sessions
    async with sessions() as session:
        stored = await clients.get_logo(session, client_id)
    if stored is None:
        return Response(status_code=404)
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the background parts (usage flushes, cache invalidation, the in-process worker)."""
    state = app.state
    settings: Settings = state.settings
    engine: AsyncEngine = state.engine
    plane: DataPlane = state.data_plane
    observed: Observers = state.observers
    # API Access usage is counted in memory by the request sessions and written in batches;
    # the notification worker runs here too when configured (docs/api-access.md).
    usage = ApiAccessUsage(async_sessionmaker(engine, expire_on_commit=False))
    state.sessions.configure(info={USAGE_HOOK: usage})
    state.api_access_usage = usage
    if settings.environment == "production" and settings.decision_gateway_secret is None:
        logger.warning(
            "ACCESSPLANE_DECISION_GATEWAY_SECRET is not set: anyone who can reach "
            "/v1/check and /v1/authorize can test credentials against them"
        )
    async with (
        usage.running(settings.api_access_usage_flush_seconds),
        plane.usage.running(settings.decision_usage_flush_seconds),
        plane.calls.running() if plane.calls is not None else nullcontext(),
        listening(engine, plane.invalidator),
        in_process_worker(settings, engine),
        observed.hub.sampling(),
    ):
        yield
    if observed.tracing is not None:
        observed.tracing.shutdown()
    await plane.decider.limiter.aclose()
    if state.own_engine:
        await engine.dispose()


def middleware(
    settings: Settings, plane: DataPlane, observed: Observers | None = None
) -> list[Middleware]:
    """The middleware stack, outermost first."""
    stack = [
        # First: gateways' decisions skip the console's session, CORS and routing entirely.
        Middleware(
            DecisionEndpoints,
            decider=plane.decider,
            settings=settings,
            metrics=plane.metrics,
            calls=plane.calls,
        ),
        Middleware(RequestIdMiddleware),
        # Bodies are bounded while read; a multipart request may add the largest logo.
        Middleware(
            BodyLimit,
            max_bytes=settings.max_body_bytes,
            multipart_max_bytes=settings.max_body_bytes + settings.client_logo_max_bytes,
        ),
    ]
    if observed is not None:
        # After the decision endpoints, which count themselves: their hot path stays as it was.
        stack.insert(1, Middleware(HttpMetricsMiddleware, metrics=observed.http))
        if observed.tracing is not None:  # outermost: decisions get a request span too
            stack.insert(0, Middleware(HttpTracingMiddleware, tracing=observed.tracing))
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id", "x-csrf-token"],
                allow_credentials=True,
            )
        )
    stack.append(session_middleware(settings))
    return stack


def session_middleware(settings: Settings) -> Middleware:
    """The console session (OIDC login): signed with a key derived from the server secret,
    HttpOnly, SameSite=Lax, Secure outside development, bounded by session_max_age."""
    return Middleware(
        SessionMiddleware,
        secret_key=hmac.new(
            settings.secret_key.get_secret_value().encode(), b"session", hashlib.sha256
        ).hexdigest(),
        session_cookie=settings.session_cookie,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )


def routes(
    settings: Settings,
    *,
    sessions: async_sessionmaker[RequestSession],
    credentials: Credentials,
    metrics: DecisionMetrics,
    observed: Observers | None = None,
) -> list[BaseRoute]:
    """Every route, in matching order."""
    console = Console(settings)
    graphql = GraphQLApp(
        sessions=sessions,
        settings=settings,
        credentials=credentials,
        console=console,
        observed=observed,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,  # a GET must never change state or leak via logs/referers
        # Client logos are uploaded as GraphQL multipart requests; cookie sessions still need
        # the X-CSRF-Token header for them, like for every POST.
        multipart_uploads_enabled=True,
    )
    found: list[BaseRoute] = []
    if settings.metrics_enabled:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        found.append(Route("/metrics", metrics_endpoint(metrics, token), methods=["GET"]))
    return [
        *found,
        *OidcLogin(settings, sessions, credentials).routes(),
        *KeySignIn(settings, sessions, credentials).routes(),
        *CallsExport(settings, sessions, credentials).routes(),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/logos/{client_id}", logo, methods=["GET"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *console.routes(),  # last: the console's history fallback takes what is left
    ]


def observe_storage(observed: Observers, engine: AsyncEngine) -> None:
    """The connection pool's gauges, and the outbox backlog queried at each scrape."""
    observed.hub.gauge_from(
        "accessplane_db_pool_connections",
        "Database connections of the pool by state (checked_out, idle, overflow) and its "
        "configured size (state size), summed over the workers.",
        lambda: pool_usage(engine),
        labels=["state"],
    )
    observed.hub.add_query("outbox", outbox_query(async_sessionmaker(engine)))
    observed.hub.add_query("webhooks", webhook_query(async_sessionmaker(engine)))


def observe_calls(observed: Observers, calls: CallLog | None) -> None:
    """The call log's buffer: records waiting, and those dropped (full) or lost (failed
    writes), summed over the workers."""
    if calls is None:
        return
    hub = observed.hub
    hub.gauge_from(
        "accessplane_call_log_buffered",
        "Call log records waiting to be written.",
        lambda: {(): calls.buffered},
    )
    for name, documentation in (
        ("dropped", "Call log records dropped because the buffer was full."),
        ("failed", "Call log records lost to a failed write."),
        ("written", "Call log records written."),
    ):
        hub.counter_from(
            f"accessplane_call_log_{name}",
            documentation,
            _count_of(calls, name),
        )


def _count_of(calls: CallLog, name: str) -> Callable[[], dict[tuple[str, ...], float]]:
    return lambda: {(): getattr(calls, name)}


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    observed: Observers | None = None,
) -> Starlette:
    """Build the application; ``engine`` lets tests share theirs, ``observed`` give their
    own tracing."""
    settings = settings or get_settings()
    # A server worker's first chance to set up its logging (a host that did already keeps its own).
    configure_logging(settings.log_format, settings.log_level)
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url, echo=settings.database_echo)
    sessions = request_sessions(engine)
    credentials = Credentials(settings)
    observed = observed or observers(settings)
    observe_storage(observed, engine)
    plane = data_plane(settings, engine, credentials, observed)
    observe_calls(observed, plane.calls)
    app = Starlette(
        routes=routes(
            settings,
            sessions=sessions,
            credentials=credentials,
            metrics=plane.metrics,
            observed=observed,
        ),
        middleware=middleware(settings, plane, observed),
        lifespan=lifespan,
    )
    app.state.observers = observed
    app.state.engine = engine
    app.state.own_engine = own_engine
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.credentials = credentials
    app.state.data_plane = plane
    app.state.decider = plane.decider
    app.state.decision_usage = plane.usage
    app.state.call_log = plane.calls
    return app
