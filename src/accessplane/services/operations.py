"""API operations: the method + path templates an API declares, with the OAuth2 scopes each
needs (``docs/operations.md``).

Declaring, editing and deleting operations is editing the API: ``updateApi`` and access to the
API. Templates are checked and normalised here, once, for hand-made and imported operations
alike, so the decision side can trust what it reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane.auth.permissions import Permission
from accessplane.auth.principals import Principal
from accessplane.db import transaction
from accessplane.db.sql import delete_row
from accessplane.errors import InputError, NotFound, UserErrorCode
from accessplane.models import Api, ApiOperation, ApiProduct, ApiProductOperation
from accessplane.models.base import utcnow
from accessplane.models.operations import ANY_METHOD
from accessplane.services.audit import AuditAction, record_change
from accessplane.services.scoping import get_accessible_api
from accessplane.services.tenancy import load_in_workspace
from accessplane.services.validation import Checks, excerpt

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
MAX_PATH_LENGTH = 2000
MAX_NAME_LENGTH = 200
MAX_SCOPES = 50
MAX_SEGMENTS = 100
# Operations one API may declare: the decision side matches a request against them.
MAX_OPERATIONS_PER_API = 2000

# RFC 3986 pchar (unreserved, percent-encoded, sub-delims, ":" and "@"), so no "?" or "#";
# without ";", which the decision endpoint refuses in requests (servers read it differently).
_LITERAL = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,=:@]|%[0-9A-Fa-f]{2})+$")
_PARAMETER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_.\-]{0,63})\}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 scope-token


def check_method(checks: Checks, field: str, value: str) -> str:
    """An upper-case HTTP method from the fixed list, or ``*`` for any."""
    method = value.strip().upper()
    if method != ANY_METHOD and method not in METHODS:
        checks.add(
            field,
            f"{excerpt(value)} is not an HTTP method: use one of {', '.join(METHODS)} or *.",
            UserErrorCode.INVALID,
        )
    return method


def normalise_template(path: str) -> tuple[str, str | None]:
    """The template with its literals normalised as the decision endpoint normalises request
    paths (escapes of unreserved characters decoded, other escapes in upper case), and why it
    is not a valid template (None when it is)."""
    if not path.startswith("/"):
        return path, "must start with /"
    if len(path) > MAX_PATH_LENGTH:
        return path, f"must be at most {MAX_PATH_LENGTH} characters"
    if "?" in path or "#" in path:
        return path, "must not hold a query string or a fragment"
    if path == "/":
        return path, None
    segments = path[1:].split("/")
    if len(segments) > MAX_SEGMENTS:
        return path, f"must have at most {MAX_SEGMENTS} segments"
    names: set[str] = set()
    normalised: list[str] = []
    for index, segment in enumerate(segments):
        segment, problem = _segment(segment, last=index == len(segments) - 1, names=names)
        if problem is not None:
            return path, problem
        normalised.append(segment)
    return "/" + "/".join(normalised), None


def template_problem(path: str) -> str | None:
    """Why ``path`` is not a valid operation template, or None when it is."""
    return normalise_template(path)[1]


def _segment(segment: str, *, last: bool, names: set[str]) -> tuple[str, str | None]:
    if segment == "":
        return segment, "must not have empty segments (// or a trailing /)"
    if segment == "*":
        return segment, None if last else "may hold * only as its last segment (/*)"
    parameter = _PARAMETER.match(segment)
    if parameter is not None:
        name = parameter.group(1)
        if name in names:
            return segment, f"names the parameter {{{name}}} twice"
        names.add(name)
        return segment, None
    if "{" in segment or "}" in segment:
        return segment, (
            f"segment {excerpt(segment)} must be a literal or one whole {{parameter}} "
            "(a name of letters, digits, _ . -)"
        )
    if not _LITERAL.match(segment):
        return segment, f"segment {excerpt(segment)} holds characters a URL path cannot"
    literal = _ESCAPE.sub(_normalise_escape, segment)
    if literal in (".", ".."):
        return literal, "must not have . or .. segments"
    if _FORBIDDEN_ESCAPE.search(literal):
        return literal, (
            f"segment {excerpt(segment)} holds an encoded /, \\ or control character, or a "
            "double encoding, which the decision endpoint refuses in requests"
        )
    return literal, None


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Requests carrying these are refused by the decision endpoint, so a template holding them
# could never match: an encoded "/" or "\", control characters, and double encoding.
_FORBIDDEN_ESCAPE = re.compile(r"%(?:2F|5C|7F|[01][0-9A-F]|25[0-9A-Fa-f]{2})")


def _normalise_escape(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16))
    return character if character in _UNRESERVED else "%" + match.group(1).upper()


def check_path(checks: Checks, field: str, value: str) -> str:
    """A normalised template: ``/``-separated literals and ``{name}`` parameters, optionally
    ending in ``/*`` (one or more further segments)."""
    path, problem = normalise_template(value.strip())
    if problem is not None:
        checks.add(field, f"The path {problem}.", UserErrorCode.INVALID)
    return path


def check_scopes(checks: Checks, field: str, values: Sequence[str]) -> list[str]:
    """OAuth2 scope tokens (RFC 6749), without duplicates, at most ``MAX_SCOPES``."""
    scopes: list[str] = []
    if not checks.at_most(field, len(values), MAX_SCOPES, "scopes"):
        return scopes
    for value in values:
        scope = value.strip()
        if not _SCOPE.match(scope):
            checks.add(field, f"{excerpt(scope)} is not a valid scope.", UserErrorCode.INVALID)
        elif scope not in scopes:
            scopes.append(scope)
    return scopes


def summary(operation: ApiOperation) -> dict[str, Any]:
    """What the audit log keeps of an operation."""
    return {
        "apiId": str(operation.api_id),
        "method": operation.method,
        "path": operation.path,
        "name": operation.name,
        "scopes": list(operation.scopes),
    }


def duplicate_message(method: str, path: str) -> str:
    return f"The API declares {method} {excerpt(path, 80)} already."


async def _check_unique(
    checks: Checks,
    session: AsyncSession,
    api_id: uuid.UUID,
    method: str,
    path: str,
    exclude: uuid.UUID | None = None,
) -> None:
    if any(e.field in ("method", "path") for e in checks.errors):
        return
    query = select(col(ApiOperation.id)).where(
        col(ApiOperation.api_id) == api_id,
        col(ApiOperation.method) == method,
        col(ApiOperation.path) == path,
    )
    if exclude is not None:
        query = query.where(col(ApiOperation.id) != exclude)
    if await session.scalar(query.limit(1)) is not None:
        checks.add("path", duplicate_message(method, path), UserErrorCode.DUPLICATE)


async def count_operations(session: AsyncSession, api_id: uuid.UUID) -> int:
    """How many operations the API declares."""
    query = select(func.count()).where(col(ApiOperation.api_id) == api_id)
    return int(await session.scalar(query) or 0)


async def _recheck(
    session: AsyncSession,
    api_id: uuid.UUID,
    method: str,
    path: str,
    exclude: uuid.UUID | None = None,
) -> None:
    """After a write met the unique constraint: DUPLICATE if a concurrent write took the
    template; returns otherwise, for the caller to re-raise."""
    checks = Checks()
    await _check_unique(checks, session, api_id, method, path, exclude)
    checks.raise_if_any()


async def create_operation(
    *,
    session: AsyncSession,
    actor: Principal,
    api_id: uuid.UUID,
    method: str,
    path: str,
    name: str = "",
    scopes: Sequence[str] = (),
) -> ApiOperation:
    """Declare an operation on an API one may edit (``updateApi`` and access to the API)."""
    api = await get_accessible_api(session, actor, api_id, Permission.UPDATE_API)
    checks = Checks()
    method = check_method(checks, "method", method)
    path = check_path(checks, "path", path)
    name = checks.text("name", name, max_length=MAX_NAME_LENGTH, required=False)
    chosen = check_scopes(checks, "scopes", scopes)
    await _check_unique(checks, session, api.id, method, path)
    if await count_operations(session, api.id) >= MAX_OPERATIONS_PER_API:
        checks.add(
            "api_id",
            f"An API declares at most {MAX_OPERATIONS_PER_API} operations.",
            UserErrorCode.INVALID,
        )
    checks.raise_if_any()
    try:
        async with transaction(session):
            operation = ApiOperation(
                workspace_id=api.workspace_id,
                api_id=api.id,
                method=method,
                path=path,
                name=name,
                scopes=chosen,
            )
            session.add(operation)
            await session.flush()
            record_change(
                session,
                actor,
                operation,
                AuditAction.CREATE_API_OPERATION,
                after=summary(operation),
            )
    except IntegrityError:
        await _recheck(session, api_id, method, path)
        raise
    return operation


async def get_editable_operation(
    session: AsyncSession, actor: Principal, operation_id: uuid.UUID
) -> tuple[ApiOperation, Api]:
    """An operation of an API the principal may edit; NOT_FOUND when it cannot see the API."""
    operation = await load_in_workspace(
        session, actor, ApiOperation, operation_id, label="API operation"
    )
    try:
        api = await get_accessible_api(session, actor, operation.api_id, Permission.UPDATE_API)
    except NotFound:
        raise NotFound("API operation not found.") from None
    return operation, api


async def get_visible_operation(
    session: AsyncSession, actor: Principal, operation_id: uuid.UUID
) -> ApiOperation:
    """An operation of an API the principal may read (``getApi`` and access to the API), for
    ``node(id)``; NOT_FOUND otherwise, as the API is invisible in every list."""
    operation = await load_in_workspace(
        session, actor, ApiOperation, operation_id, label="API operation"
    )
    try:
        await get_accessible_api(session, actor, operation.api_id, Permission.GET_API)
    except NotFound:
        raise NotFound("API operation not found.") from None
    return operation


@dataclass(frozen=True, slots=True)
class OperationEdit:
    """The fields of an edit; ``None`` keeps the value."""

    method: str | None = None
    path: str | None = None
    name: str | None = None
    scopes: Sequence[str] | None = None


def _edited(
    checks: Checks, operation: ApiOperation, edit: OperationEdit
) -> tuple[str, str, str, list[str]]:
    """The operation's method, path, name and scopes after the edit, checked."""
    method = (
        operation.method if edit.method is None else check_method(checks, "method", edit.method)
    )
    path = operation.path if edit.path is None else check_path(checks, "path", edit.path)
    name = (
        operation.name
        if edit.name is None
        else checks.text("name", edit.name, max_length=MAX_NAME_LENGTH, required=False)
    )
    scopes = (
        list(operation.scopes)
        if edit.scopes is None
        else check_scopes(checks, "scopes", edit.scopes)
    )
    return method, path, name, scopes


async def update_operation(
    *,
    session: AsyncSession,
    actor: Principal,
    operation_id: uuid.UUID,
    edit: OperationEdit,
) -> ApiOperation:
    """Edit an operation; fields left ``None`` keep their value."""
    operation, api = await get_editable_operation(session, actor, operation_id)
    before = summary(operation)
    checks = Checks()
    method, path, name, scopes = _edited(checks, operation, edit)
    await _check_unique(checks, session, api.id, method, path, exclude=operation.id)
    checks.raise_if_any()
    try:
        async with transaction(session):
            operation.method, operation.path, operation.name = method, path, name
            operation.scopes = scopes
            if summary(operation) != before:
                operation.updated_at = utcnow()
            session.add(operation)
            record_change(
                session,
                actor,
                operation,
                AuditAction.UPDATE_API_OPERATION,
                before=before,
                after=summary(operation),
            )
    except IntegrityError:
        await _recheck(session, api.id, method, path, exclude=operation_id)
        raise
    return operation


async def check_choices_survive(
    session: AsyncSession, api_id: uuid.UUID, removed: Collection[uuid.UUID], *, field: str
) -> None:
    """Refuse (``IN_USE``) to remove every operation a product chose of an API: a product with
    no chosen operation of an API grants the whole API, so the removal would widen it."""
    rows = (
        await session.execute(
            select(col(ApiProduct.name), col(ApiProductOperation.operation_id))
            .join(ApiProduct, col(ApiProduct.id) == col(ApiProductOperation.product_id))
            .join(ApiOperation, col(ApiOperation.id) == col(ApiProductOperation.operation_id))
            .where(col(ApiOperation.api_id) == api_id)
        )
    ).all()
    chosen: dict[str, set[uuid.UUID]] = {}
    for name, chosen_id in rows:
        chosen.setdefault(name, set()).add(chosen_id)
    bare = sorted(name for name, ids in chosen.items() if ids <= set(removed))
    if bare:
        names = ", ".join(excerpt(name, 80) for name in bare[:5])
        more = f" and {len(bare) - 5} more" if len(bare) > 5 else ""
        raise InputError.one(
            field,
            f"The products {names}{more} chose no other operation of this API: without these "
            "they would grant the whole API. Choose other operations for them, or remove the "
            "API from them, first.",
            UserErrorCode.IN_USE,
        )


async def delete_operation(
    *, session: AsyncSession, actor: Principal, operation_id: uuid.UUID
) -> ApiOperation:
    """Delete an operation; products that chose it no longer grant it. ``IN_USE`` when it is
    a product's last chosen operation of its API (the product would grant the whole API)."""
    operation, _api = await get_editable_operation(session, actor, operation_id)
    async with transaction(session):
        await check_choices_survive(session, operation.api_id, {operation.id}, field="id")
        record_change(
            session,
            actor,
            operation,
            AuditAction.DELETE_API_OPERATION,
            before=summary(operation),
        )
        if not await delete_row(session, operation):  # a concurrent delete won
            raise NotFound("API operation not found.")
    return operation
