"""Console sessions on the server: the signed cookie carries a random session id, and the
``console_session`` table says whether that id is still live.

The cookie alone cannot be revoked (a copy taken before logout would stay valid until it
expires), so every console session also has a row, keyed by an HMAC of its id with a key
derived from the server secret: the id itself is stored nowhere. Logout deletes the row; so does
deleting the user or the API Access key (foreign keys with ``ON DELETE CASCADE``), and ending
all of a person's sessions is one ``DELETE ... WHERE user_id``. A session opened with an API key
also re-checks the key on every request, in the same query: a regenerated key (its version
moved on) or an expired one ends the session at once.

The look-up is one query by primary key (joined with the user, or with the key and its role),
and only requests that present the cookie make it: bearer and API-key requests never do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.principals import Principal
from accessplane.auth.tokens import TokenKind, parse_token, token_digest
from accessplane.errors import Unauthenticated
from accessplane.models import ApiAccess, ConsoleSession, ConsoleSessionMethod, Role, User
from accessplane.signin.authenticate import USAGE_HOOK, UsageHook, key_principal

# 256 bits of randomness per session id (base64url in the cookie).
SESSION_ID_BYTES = 32


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A console session that is still valid, with who it acts as."""

    row: ConsoleSession
    user: User | None = None  # an OIDC login
    key: ApiAccess | None = None  # an API-key sign-in, with the key's role
    role: Role | None = None

    @property
    def method(self) -> ConsoleSessionMethod:
        return ConsoleSessionMethod(self.row.method)

    @property
    def expires_at(self) -> datetime:
        """When the session ends by itself: its lifetime, or its key's expiry if sooner."""
        if self.key is not None and self.key.expires_at is not None:
            return min(self.row.expires_at, self.key.expires_at)
        return self.row.expires_at


class ConsoleSessions:
    """Opens, finds and ends console sessions; one per application."""

    def __init__(self, secret: bytes) -> None:
        # A key of its own, so a session digest can never be confused with a token digest.
        self._key = hmac.new(secret, b"console-session", hashlib.sha256).digest()
        self._secret = secret

    @staticmethod
    def new_id() -> str:
        """A fresh random session id, for the cookie only."""
        return secrets.token_urlsafe(SESSION_ID_BYTES)

    def digest(self, session_id: str) -> str:
        """The key under which a session id's row is stored and looked up."""
        return hmac.digest(self._key, session_id.encode(), "sha256").hex()

    async def open(
        self,
        db: AsyncSession,
        *,
        session_id: str,
        now: datetime,
        lifetime: int,
        user: User | None = None,
        issuer: str | None = None,
        key: ApiAccess | None = None,
    ) -> ConsoleSession:
        """Record a new session (of a person or of an API key) and commit; expired rows of
        anyone are pruned on the way, so the table holds little more than live sessions."""
        await db.execute(delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now))
        row = ConsoleSession(
            id_digest=self.digest(session_id),
            method=(ConsoleSessionMethod.API_KEY if key else ConsoleSessionMethod.OIDC).value,
            user_id=user.id if user else None,
            issuer=issuer,
            api_access_id=key.id if key else None,
            api_access_version=key.version if key else None,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        db.add(row)
        await db.commit()
        return row

    async def end(self, db: AsyncSession, session_id: str) -> None:
        """End one session (logout); ending an unknown or ended one does nothing."""
        await db.execute(
            delete(ConsoleSession).where(col(ConsoleSession.id_digest) == self.digest(session_id))
        )
        await db.commit()

    async def end_all(
        self,
        db: AsyncSession,
        *,
        user_id: uuid.UUID | None = None,
        api_access_id: uuid.UUID | None = None,
    ) -> int:
        """End every session of a person or of an API Access key ("sign out everywhere");
        returns how many ended. The caller commits."""
        if (user_id is None) == (api_access_id is None):
            raise ValueError("give exactly one of user_id and api_access_id")
        condition = (
            col(ConsoleSession.user_id) == user_id
            if user_id is not None
            else col(ConsoleSession.api_access_id) == api_access_id
        )
        result = await db.execute(delete(ConsoleSession).where(condition))
        return int(getattr(result, "rowcount", 0) or 0)

    async def find(self, db: AsyncSession, session_id: str, *, now: datetime) -> LiveSession:
        """The live session with this id, or UNAUTHENTICATED with a ``reason``: ``revoked``
        (logged out, or its key deleted or regenerated), ``expired`` (its lifetime or its
        key's), ``unknown_user``."""
        found = (
            await db.execute(
                select(ConsoleSession, User, ApiAccess, Role)
                .outerjoin(User, col(User.id) == col(ConsoleSession.user_id))
                .outerjoin(ApiAccess, col(ApiAccess.id) == col(ConsoleSession.api_access_id))
                .outerjoin(Role, col(Role.id) == col(ApiAccess.role_id))
                .where(col(ConsoleSession.id_digest) == self.digest(session_id))
            )
        ).first()
        if found is None:
            raise Unauthenticated("The session has ended; sign in again.", reason="revoked")
        row, user, key, role = found
        if row.expires_at <= now:
            raise Unauthenticated("The session has expired; sign in again.", reason="expired")
        if row.method == ConsoleSessionMethod.API_KEY.value:
            if key is None or role is None:
                raise Unauthenticated(
                    "The session's API key was deleted; sign in again.", reason="revoked"
                )
            if key.version != row.api_access_version:
                raise Unauthenticated(
                    "The session's API key was regenerated; sign in with the new key.",
                    reason="revoked",
                )
            if key.expires_at is not None and key.expires_at <= now:
                raise Unauthenticated("The session's API key has expired.", reason="expired")
            return LiveSession(row=row, key=key, role=role)
        if user is None:
            raise Unauthenticated("The session's user no longer exists.", reason="unknown_user")
        return LiveSession(row=row, user=user)

    async def key_for_sign_in(self, db: AsyncSession, token: str, *, now: datetime) -> ApiAccess:
        """The API Access key a sign-in presents, or UNAUTHENTICATED. Only a key's current
        token opens a session: the previous token of a rotation, still accepted by the API
        during its grace period, does not."""
        if parse_token(token) is not TokenKind.API_ACCESS:
            raise Unauthenticated(
                "This is not an AccessPlane API key (they start with apk_).", reason="malformed"
            )
        key = await db.scalar(
            select(ApiAccess).where(
                col(ApiAccess.token_digest) == token_digest(token, self._secret)
            )
        )
        if key is None:
            raise Unauthenticated("The API key is unknown or was revoked.", reason="unknown")
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("The API key has expired.", reason="expired")
        return key


def principal_for_key_session(db: AsyncSession, live: LiveSession, now: datetime) -> Principal:
    """The principal of a session opened with an API key: the key itself, with its current
    role, exactly as if the key were sent as a bearer token (its use is counted the same)."""
    key, role = live.key, live.role
    if key is None or role is None:
        raise ValueError("not a session opened with an API key")
    hook: UsageHook | None = db.info.get(USAGE_HOOK)
    if hook is not None:
        hook.record(key.id, now)
    return key_principal(key, role)
