"""API Access: the lifecycle of platform API keys, and their usage counters.

A key's token is shown once (create, regenerate); only its keyed hash is stored. Regenerating
replaces the token at once, or after a bounded grace period; deleting revokes at once. Old
tokens are remembered by their hash so their use is answered ``revoked``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal, PrincipalKind
from accessplane.auth.tokens import IssuedToken, TokenKind, issue_token
from accessplane.db import transaction
from accessplane.errors import InputError, UserErrorCode
from accessplane.models import (
    ApiAccess,
    ApiAccessRevocation,
    ApiAccessStatus,
    RevocationReason,
    Role,
    User,
)
from accessplane.models.base import UTCDateTime, utcnow
from accessplane.periodic import flushing
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.credentials import compare_and_set
from accessplane.services.pagination import Page, PageArgs, paginate
from accessplane.services.roles import check_role_assignable, recheck_role, role_in_workspace
from accessplane.services.scoping import get_scoped
from accessplane.services.tenancy import require_tenant
from accessplane.services.uniqueness import check_unique_name, duplicate_error
from accessplane.services.validation import Checks, excerpt
from accessplane.settings import Settings

logger = logging.getLogger(__name__)

_TAG = re.compile(r"^[a-z0-9][a-z0-9._:/-]*$")
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_BULK = 100
MAX_SEARCH_LENGTH = 200  # a part of a name (100) or description (1000)
# Keys without expiry sort after every dated one.
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


LABEL = "An API Access"  # how userErrors name this kind of object


@dataclass(frozen=True, slots=True)
class ApiAccessPolicy:
    """The server-wide rules of keys: the HMAC secret and the configurable bounds."""

    secret: bytes
    max_lifetime: timedelta = timedelta(days=365)
    max_grace: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiAccessPolicy:
        return cls(
            secret=settings.secret_key.get_secret_value().encode(),
            max_lifetime=timedelta(days=settings.api_access_max_lifetime_days),
            max_grace=timedelta(seconds=settings.api_access_max_grace_seconds),
        )


@dataclass(frozen=True, slots=True)
class IssuedApiAccess:
    """A key and its token's plaintext: the only time the plaintext exists."""

    api_access: ApiAccess
    token: str


def status_of(expires_at: datetime | None, now: datetime | None = None) -> ApiAccessStatus:
    """ACTIVE until ``expires_at``, EXPIRED from then on."""
    if expires_at is not None and expires_at <= (now or utcnow()):
        return ApiAccessStatus.EXPIRED
    return ApiAccessStatus.ACTIVE


def _summary(key: ApiAccess, role: Role | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "name": key.name,
        "description": key.description,
        "tags": list(key.tags),
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
        "tokenHint": key.token_hint,
    }
    if role is not None:
        summary["role"] = role.name
    return summary


def _check_name(checks: Checks, actor: Principal, workspace_id: uuid.UUID, name: str | None) -> str:
    """The trimmed name; a ``namePattern`` on the actor's ``createApiAccess`` must match."""
    text = checks.text("name", name, max_length=100)
    grant = actor.membership(workspace_id).grants.get(Permission.CREATE_API_ACCESS)
    if text and len(text) <= 100 and grant is not None and not grant.allows_name(text):
        pattern = grant.constraints.get("namePattern")
        checks.add(
            "name",
            f"The name must match the pattern '{pattern}' of your createApiAccess permission.",
            UserErrorCode.PATTERN_MISMATCH,
        )
    return text


def _check_tags(checks: Checks, tags: Sequence[str] | None) -> list[str]:
    """Lower-cased, de-duplicated, short slugs (they are filtered on, not prose)."""
    result: list[str] = []
    given = tags or ()
    # Counted before any tag is read; repeats count, so a list is refused by its length alone.
    if not checks.at_most("tags", len(given), MAX_TAGS, "tags"):
        return result
    for raw in given:
        tag = raw.strip().lower() if len(raw) <= MAX_TAG_LENGTH else ""
        if not tag or not _TAG.match(tag):
            checks.add(
                "tags",
                f"Tag {excerpt(raw)} must be 1 to {MAX_TAG_LENGTH} lower-case letters, digits "
                "or . _ : / - (starting with a letter or digit).",
                UserErrorCode.INVALID,
            )
            continue
        if tag not in result:
            result.append(tag)
    return result


def _check_expiry(
    checks: Checks, expires_at: datetime | None, now: datetime, policy: ApiAccessPolicy
) -> datetime | None:
    """In the future, with a time zone, and within the maximum lifetime."""
    if expires_at is None:
        checks.add("expires_at", "expiresAt is required.", UserErrorCode.REQUIRED)
        return None
    if expires_at.tzinfo is None:
        checks.add(
            "expires_at",
            "expiresAt needs a time zone offset, e.g. 2030-01-31T00:00:00Z.",
            UserErrorCode.INVALID,
        )
        return None
    expires_at = expires_at.astimezone(UTC)
    if expires_at <= now:
        checks.add("expires_at", "expiresAt must be in the future.", UserErrorCode.INVALID)
    elif expires_at > now + policy.max_lifetime:
        checks.add(
            "expires_at",
            f"expiresAt may be at most {policy.max_lifetime.days} days ahead.",
            UserErrorCode.INVALID,
        )
    return expires_at


def _duplicate(name: str) -> InputError:
    return duplicate_error(LABEL, name)


async def _author_email(session: AsyncSession, actor: Principal) -> str | None:
    """Who hears about the key's expiry: the person creating it, or, for a key made by a key,
    the person accountable for that key."""
    if actor.kind is PrincipalKind.MEMBER and actor.id is not None:
        return await session.scalar(select(col(User.email)).where(col(User.id) == actor.id))
    if actor.kind is PrincipalKind.API_ACCESS and actor.credential_id is not None:
        return await session.scalar(
            select(col(ApiAccess.author_email)).where(col(ApiAccess.id) == actor.credential_id)
        )
    return None


async def create_api_access(
    *,
    session: AsyncSession,
    actor: Principal,
    policy: ApiAccessPolicy,
    workspace_id: uuid.UUID,
    name: str,
    role_id: uuid.UUID,
    expires_at: datetime | None,
    description: str = "",
    tags: Sequence[str] = (),
    now: datetime | None = None,
) -> IssuedApiAccess:
    """Create a key acting with ``role``; the token is returned this once only."""
    now = now or utcnow()
    actor.require(workspace_id, Permission.CREATE_API_ACCESS)
    actor.require(workspace_id, Permission.GET_ROLE)  # assigning a role needs to see roles
    checks = Checks()
    name = _check_name(checks, actor, workspace_id, name)
    description = checks.text("description", description, max_length=1000, required=False)
    clean_tags = _check_tags(checks, tags)
    expiry = _check_expiry(checks, expires_at, now, policy)
    role = await role_in_workspace(session, checks, role_id, workspace_id)
    if role is not None:
        check_role_assignable(checks, actor, role)
    await check_unique_name(checks, session, ApiAccess, workspace_id, name, label=LABEL)
    checks.raise_if_any()
    assert role is not None
    issued = issue_token(TokenKind.API_ACCESS, policy.secret)
    author_email = await _author_email(session, actor)
    try:
        async with transaction(session):
            key = ApiAccess(
                workspace_id=workspace_id,
                name=name,
                description=description,
                tags=clean_tags,
                role_id=role.id,
                token_digest=issued.digest,
                token_hint=issued.hint,
                expires_at=expiry,
                created_by_principal_id=actor.id,
                created_by_name=actor.name,
                author_email=author_email,
                created_at=now,
            )
            session.add(key)
            record_change(
                session, actor, key, AuditAction.CREATE_API_ACCESS, after=_summary(key, role)
            )
    except IntegrityError:  # a concurrent deleteRole won, or a create took the name
        await recheck_role(session, role_id)
        raise _duplicate(name) from None
    return IssuedApiAccess(api_access=key, token=issued.plaintext)


async def _check_new_role(
    checks: Checks, session: AsyncSession, actor: Principal, key: ApiAccess, role_id: uuid.UUID
) -> Role | None:
    """The role a key is moved to: one the actor sees (``getRole``) and may assign."""
    actor.require(key.workspace_id, Permission.GET_ROLE)
    role = await role_in_workspace(session, checks, role_id, key.workspace_id)
    if role is not None and role.id != key.role_id:
        check_role_assignable(checks, actor, role)
    return role


async def update_api_access(
    *,
    session: AsyncSession,
    actor: Principal,
    api_access_id: uuid.UUID,
    name: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    role_id: uuid.UUID | None = None,
) -> ApiAccess:
    """Edit a key's name, description, tags or role (with the rules of creation); fields left
    ``None`` keep their value. The token does not change."""
    key = await get_scoped(
        session, actor, ApiAccess, api_access_id, Permission.UPDATE_API_ACCESS, label="API Access"
    )
    previous_role = await session.get(Role, key.role_id)
    before = _summary(key, previous_role)
    checks = Checks()
    new_name = key.name if name is None else _check_name(checks, actor, key.workspace_id, name)
    new_description = (
        key.description
        if description is None
        else checks.text("description", description, max_length=1000, required=False)
    )
    new_tags = list(key.tags) if tags is None else _check_tags(checks, tags)
    role = previous_role
    if role_id is not None:
        role = await _check_new_role(checks, session, actor, key, role_id)
    if name is not None:
        await check_unique_name(
            checks, session, ApiAccess, key.workspace_id, new_name, key.id, label=LABEL
        )
    checks.raise_if_any()
    assert role is not None
    try:
        async with transaction(session):
            key.name, key.description, key.tags = new_name, new_description, new_tags
            key.role_id = role.id
            session.add(key)
            after = _summary(key, role)
            record_change(
                session, actor, key, AuditAction.UPDATE_API_ACCESS, before=before, after=after
            )
    except IntegrityError:  # a concurrent deleteRole won, or a create took the name
        if role_id is not None:
            await recheck_role(session, role_id)
        raise _duplicate(new_name) from None
    return key


async def _end_grace_periods(
    session: AsyncSession, api_access_ids: Sequence[uuid.UUID], now: datetime
) -> None:
    """Old tokens still in a grace period stop working now."""
    await session.execute(
        update(ApiAccessRevocation)
        .where(
            col(ApiAccessRevocation.api_access_id).in_(api_access_ids),
            col(ApiAccessRevocation.revoked_at) > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def regenerate_api_access(
    *,
    session: AsyncSession,
    actor: Principal,
    policy: ApiAccessPolicy,
    api_access_id: uuid.UUID,
    expires_at: datetime | None,
    grace_period_seconds: int | None = None,
    now: datetime | None = None,
) -> IssuedApiAccess:
    """Give a key a new token and a new expiry. The old token fails on the very next request,
    or, with ``grace_period_seconds``, at the end of that bounded overlap (never after its own
    expiry). An earlier rotation's overlap ends now. Of concurrent regenerations exactly one
    wins; the others change nothing and get a CONFLICT userError."""
    now = now or utcnow()
    key = await get_scoped(
        session,
        actor,
        ApiAccess,
        api_access_id,
        Permission.REGENERATE_API_ACCESS,
        label="API Access",
    )
    checks = Checks()
    role = await session.get(Role, key.role_id)
    assert role is not None  # roles held by keys cannot be deleted
    # A fresh token of a role one could not assign would be an escalation.
    check_role_assignable(checks, actor, role, field="id")
    expiry = _check_expiry(checks, expires_at, now, policy)
    grace = _check_grace(checks, grace_period_seconds, policy)
    checks.raise_if_any()
    before = _summary(key)
    issued = issue_token(TokenKind.API_ACCESS, policy.secret)
    async with transaction(session):
        await _rotate(session, key, issued, expiry, grace, now)
        after = {
            "tokenHint": issued.hint,
            "expiresAt": expiry.isoformat() if expiry else None,
            "gracePeriodSeconds": int(grace.total_seconds()),
        }
        record_change(
            session, actor, key, AuditAction.REGENERATE_API_ACCESS, before=before, after=after
        )
    await session.refresh(key)
    return IssuedApiAccess(api_access=key, token=issued.plaintext)


def _check_grace(
    checks: Checks, grace_period_seconds: int | None, policy: ApiAccessPolicy
) -> timedelta:
    """How long the old token keeps working: none unless asked, at most the policy's."""
    if grace_period_seconds is None:
        return timedelta(0)
    if not 0 <= grace_period_seconds <= policy.max_grace.total_seconds():
        checks.add(
            "grace_period_seconds",
            f"gracePeriodSeconds must be between 0 and {int(policy.max_grace.total_seconds())}.",
            UserErrorCode.INVALID,
        )
        return timedelta(0)
    return timedelta(seconds=grace_period_seconds)


async def _rotate(
    session: AsyncSession,
    key: ApiAccess,
    issued: IssuedToken,
    expiry: datetime | None,
    grace: timedelta,
    now: datetime,
) -> None:
    """Put the new token in place of the old, which is revoked at the end of its grace
    period (never after its own expiry); an earlier rotation's grace period ends now."""
    old_digest, old_expiry = key.token_digest, key.expires_at
    grace_end = now + grace
    if old_expiry is not None:
        grace_end = max(now, min(grace_end, old_expiry))
    # Compare-and-set on the version: a concurrent regeneration that committed first makes
    # this one match no row (PostgreSQL re-checks the condition after the wait).
    await compare_and_set(
        session,
        ApiAccess,
        key.id,
        key.version,
        label="API Access",
        token_digest=issued.digest,
        token_hint=issued.hint,
        expires_at=expiry,
    )
    await _end_grace_periods(session, [key.id], now)
    session.add(
        ApiAccessRevocation(
            token_digest=old_digest,
            workspace_id=key.workspace_id,
            api_access_id=key.id,
            reason=RevocationReason.REGENERATED,
            revoked_at=grace_end,
        )
    )


async def delete_api_accesses(
    *,
    session: AsyncSession,
    actor: Principal,
    api_access_ids: Sequence[uuid.UUID],
    now: datetime | None = None,
) -> list[uuid.UUID]:
    """Delete keys, all or nothing; their tokens (and any grace-period token) stop at once."""
    now = now or utcnow()
    ids = list(dict.fromkeys(api_access_ids))
    if not ids:
        raise InputError.one("ids", "Name at least one API Access.", UserErrorCode.REQUIRED)
    if len(ids) > MAX_BULK:
        raise InputError.one(
            "ids", f"At most {MAX_BULK} API Accesses at once.", UserErrorCode.INVALID
        )
    async with transaction(session):
        # Locked and re-read inside the transaction: the digests revoked are the current ones.
        rows = (
            await session.scalars(
                select(ApiAccess)
                .where(col(ApiAccess.id).in_(ids))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
        by_id = {row.id: row for row in rows}
        for key_id in ids:
            require_tenant(actor, by_id.get(key_id), label="API Access")
        for workspace_id in {row.workspace_id for row in rows}:
            actor.require(workspace_id, Permission.DELETE_API_ACCESS)
        await _end_grace_periods(session, ids, now)
        for key_id in ids:
            key = by_id[key_id]
            session.add(
                ApiAccessRevocation(
                    token_digest=key.token_digest,
                    workspace_id=key.workspace_id,
                    api_access_id=key.id,
                    reason=RevocationReason.DELETED,
                    revoked_at=now,
                )
            )
            record_change(
                session, actor, key, AuditAction.DELETE_API_ACCESSES, before=_summary(key)
            )
        await session.flush()
        await session.execute(
            delete(ApiAccess)
            .where(col(ApiAccess.id).in_(ids))
            .execution_options(synchronize_session=False)
        )
    for row in rows:
        session.expunge(row)
    return ids


async def prune_revocations(session: AsyncSession, *, older_than: datetime) -> int:
    """Forget tokens revoked before ``older_than`` (their use is then ``unknown_credential``),
    so rotations do not grow the table forever. The caller commits."""
    result = await session.execute(
        delete(ApiAccessRevocation)
        .where(col(ApiAccessRevocation.revoked_at) < older_than)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class ApiAccessOrderField(StrEnum):
    """What a list of keys is sorted by."""

    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    EXPIRES_AT = "EXPIRES_AT"


@dataclass(frozen=True, slots=True)
class ApiAccessFilter:
    """``status``: ACTIVE or EXPIRED now; ``role_ids``: any of these roles; ``tags``: every
    one of these tags; ``search``: a part of the name or description."""

    status: ApiAccessStatus | None = None
    role_ids: list[uuid.UUID] | None = None
    tags: list[str] | None = None
    search: str | None = None


def _tags_clause(dialect: str, tags: list[str]) -> ColumnElement[bool]:
    """Keys holding every tag: JSON containment on PostgreSQL, ``json_each`` on SQLite."""
    if dialect == "postgresql":
        return cast(ApiAccess.tags, JSONB).contains(tags)
    clauses = []
    for i, tag in enumerate(tags):
        each = func.json_each(ApiAccess.tags).table_valued("value", name=f"tag{i}")
        clauses.append(exists(select(literal(1)).select_from(each).where(each.c.value == tag)))
    return and_(*clauses)


def _sort(order: ApiAccessOrderField) -> list[Any]:
    if order is ApiAccessOrderField.CREATED_AT:
        return [col(ApiAccess.created_at), col(ApiAccess.id)]
    if order is ApiAccessOrderField.EXPIRES_AT:
        expiry = func.coalesce(ApiAccess.expires_at, literal(_NEVER, UTCDateTime()))
        return [expiry, col(ApiAccess.id)]
    return [col(ApiAccess.name), col(ApiAccess.id)]


async def list_api_accesses(
    *,
    session: AsyncSession,
    actor: Principal,
    workspace_id: uuid.UUID,
    filter: ApiAccessFilter,
    args: PageArgs,
    order: ApiAccessOrderField = ApiAccessOrderField.NAME,
    descending: bool = False,
    now: datetime | None = None,
) -> Page[ApiAccess]:
    """The workspace's keys, filtered and sorted (keys without expiry sort last by expiry)."""
    actor.require(workspace_id, Permission.GET_API_ACCESS)
    now = now or utcnow()
    query = select(ApiAccess).where(col(ApiAccess.workspace_id) == workspace_id)
    if filter.status is ApiAccessStatus.EXPIRED:
        query = query.where(col(ApiAccess.expires_at) <= now)
    elif filter.status is ApiAccessStatus.ACTIVE:
        query = query.where(
            or_(col(ApiAccess.expires_at).is_(None), col(ApiAccess.expires_at) > now)
        )
    if filter.role_ids:
        query = query.where(col(ApiAccess.role_id).in_(filter.role_ids))
    if filter.tags:
        if len(filter.tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in filter.tags):
            raise InputError.one(
                "filter.tags",
                f"Filter on at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters.",
                UserErrorCode.INVALID,
            )
        wanted = [t.strip().lower() for t in filter.tags if t.strip()]
        if wanted:
            query = query.where(_tags_clause(session.get_bind().dialect.name, wanted))
    if filter.search and len(filter.search) > MAX_SEARCH_LENGTH:
        raise InputError.one(
            "filter.search",
            f"A search may be at most {MAX_SEARCH_LENGTH} characters.",
            UserErrorCode.TOO_LONG,
        )
    if filter.search and filter.search.strip():
        # autoescape: a "_" or "%" in the search is a character, not a wildcard
        term = filter.search.strip().lower()
        query = query.where(
            or_(
                func.lower(col(ApiAccess.name)).contains(term, autoescape=True),
                func.lower(col(ApiAccess.description)).contains(term, autoescape=True),
            )
        )
    return await paginate(session, query, sort=_sort(order), args=args, descending=descending)


class ApiAccessUsage:
    """``lastUsedAt`` and ``usageCount`` without a write per request: uses are counted in
    memory and added to the rows by one batched UPDATE per flush. Increments add up across
    instances; a flush that fails keeps its counts for the next one."""

    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self.sessions = sessions
        self._pending: dict[uuid.UUID, tuple[int, datetime]] = {}
        self._lock = asyncio.Lock()

    def record(self, api_access_id: uuid.UUID, at: datetime) -> None:
        """Count one use (called on every authentication: no I/O)."""
        count, last = self._pending.get(api_access_id, (0, at))
        self._pending[api_access_id] = (count + 1, max(last, at))

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Write the counted uses; returns how many keys were updated."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return 0
            table = ApiAccess.__table__  # type: ignore[attr-defined]
            at = bindparam("used_at", type_=UTCDateTime())
            statement = (
                update(table)
                .where(table.c.id == bindparam("key_id", type_=Uuid()))
                .values(
                    usage_count=table.c.usage_count + bindparam("uses"),
                    last_used_at=case(
                        (
                            or_(table.c.last_used_at.is_(None), table.c.last_used_at < at),
                            at,
                        ),
                        else_=table.c.last_used_at,
                    ),
                )
            )
            params = [
                {"key_id": key_id, "uses": count, "used_at": last}
                for key_id, (count, last) in sorted(batch.items())
            ]
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(statement, params)
            except Exception:  # kept for the next flush rather than lost
                logger.exception("flushing API Access usage failed; will retry")
                for key_id, (count, last) in batch.items():
                    pending, latest = self._pending.get(key_id, (0, last))
                    self._pending[key_id] = (pending + count, max(latest, last))
                return 0
            return len(batch)

    @asynccontextmanager
    async def running(self, interval: float) -> AsyncIterator[ApiAccessUsage]:
        """Flush every ``interval`` seconds while inside, and once more on the way out."""
        async with flushing(self.flush, interval, name="api-access-usage"):
            yield self
