"""Console sign-in with an API key: ``POST /auth/key`` exchanges an API Access key for the same
HttpOnly session cookie an OIDC login gets, for the bootstrap Owner key or a workspace without
an identity provider.

The key is read from the JSON body and checked once; the session then acts as that key (its
role and workspace) through the ``console_session`` row, which holds the key's id and version,
never the key. A key deleted, regenerated or expired ends its sessions at once. Failed attempts
are counted per client IP (in memory, per instance) and answered 429 past the limit.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accessplane.errors import Unauthenticated
from accessplane.models import ConsoleSessionMethod
from accessplane.net import client_ip
from accessplane.settings import Settings
from accessplane.signin.console_sessions import ConsoleSessions
from accessplane.signin.credentials import SESSION_KEY, Credentials, origin_allowed
from accessplane.signin.oidc import end_previous_session

logger = logging.getLogger(__name__)

# {"key": "apk_…"} is under 100 bytes; anything much larger is not a sign-in.
MAX_BODY_BYTES = 4096


def answer(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message},
        status_code=status,
        headers={"Cache-Control": "no-store", **headers},
    )


class BodyTooLarge(Exception):
    """The request body passed ``MAX_BODY_BYTES``."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused past ``limit`` bytes (Content-Length or not)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class KeySignIn:
    """The ``/auth/key`` route."""

    def __init__(
        self, settings: Settings, sessions: async_sessionmaker[Any], credentials: Credentials
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.credentials = credentials
        self.failures = MovingWindowRateLimiter(MemoryStorage())
        self.limit = RateLimitItemPerSecond(
            settings.key_sign_in_max_failures, settings.key_sign_in_window_seconds
        )

    def routes(self) -> list[Route]:
        return [Route("/auth/key", self.sign_in, methods=["POST"], name="auth_key")]

    async def sign_in(self, request: Request) -> Response:
        """Check the key and open a console session acting as it."""
        origin = request.headers.get("origin")
        if origin is not None and not origin_allowed(request, origin, self.settings):
            return answer(
                403, "forbidden_origin", "Sign-in is accepted only from this site's origin."
            )
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return answer(
                415, "unsupported_media_type", 'Send {"key": "apk_..."} as application/json.'
            )
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        caller = ip or "unknown"
        if not await self.failures.test(self.limit, caller):
            retry = await self._retry_after(caller)
            return answer(
                429,
                "rate_limited",
                f"Too many failed sign-ins from this address; try again in {retry} seconds.",
                **{"Retry-After": str(retry)},
            )
        try:
            body = json.loads(await read_body(request, MAX_BODY_BYTES))
        except BodyTooLarge:
            return answer(413, "body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
        except (ValueError, ClientDisconnect):
            return answer(400, "invalid_request", 'The body must be JSON: {"key": "apk_..."}.')
        token = body.get("key") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return answer(400, "invalid_request", 'The body must be JSON: {"key": "apk_..."}.')

        session_id = ConsoleSessions.new_id()
        now = self.credentials.now()
        async with self.sessions() as session:
            try:
                key = await self.credentials.console_sessions.key_for_sign_in(
                    session, token.strip(), now=now
                )
            except Unauthenticated as refused:
                await self.failures.hit(self.limit, caller)
                logger.info(
                    "API-key sign-in refused from %s: %s", caller, refused.details.get("reason")
                )
                return answer(401, "invalid_key", refused.message)
            await end_previous_session(request, session, self.credentials)
            row = await self.credentials.console_sessions.open(
                session,
                session_id=session_id,
                now=now,
                lifetime=self.settings.session_max_age,
                key=key,
            )
            expires_at = row.expires_at
            if key.expires_at is not None:
                expires_at = min(expires_at, key.expires_at)
            key_id = key.id
        csrf = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = {
            "sid": session_id,
            "method": ConsoleSessionMethod.API_KEY.value,
            "at": int(self.credentials.clock()),
            "csrf": csrf,
        }
        logger.info("console session opened with API Access %s from %s", key_id, caller)
        return JSONResponse(
            {"authenticated": True, "csrfToken": csrf, "expiresAt": int(expires_at.timestamp())},
            headers={"Cache-Control": "no-store"},
        )

    async def _retry_after(self, caller: str) -> int:
        stats = await self.failures.get_window_stats(self.limit, caller)
        return max(1, math.ceil(stats.reset_time - time.time()))
