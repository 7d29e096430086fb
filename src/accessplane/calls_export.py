"""``GET /v1/workspaces/{workspaceId}/calls.ndjson`` and ``….csv``: the call log, streamed.

Authenticated like ``/graphql`` (an API key or OIDC bearer token, or the console session
cookie: ``signin/credentials.py``) and allowed with ``getCallLog`` in the workspace. The filter
is the one of ``Workspace.calls`` as query parameters (``accessProfileIds``, ``apiIds`` and
``reasons`` repeated or comma-separated, ``allowed``, ``ip``, ``from``, ``to``); the range
defaults to the last day and spans at most ``call_log_export_max_days``. Rows are read in
keyset chunks, each in a short session of its own, and written as they come: memory stays flat
however long the export. CSV cells that a spreadsheet would run as a formula are quoted.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from strawberry import relay

from accessplane.auth.principals import Principal
from accessplane.errors import Forbidden, InputError, NotFound, Unauthenticated
from accessplane.models import Call
from accessplane.net import client_ip
from accessplane.services.calls import CallFilter, export_chunks, export_filter, ip_text
from accessplane.settings import Settings
from accessplane.signin.credentials import Credentials

logger = logging.getLogger(__name__)

PATH = "/v1/workspaces/{workspace_id}/calls.{format}"
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
COLUMNS = (
    "id",
    "at",
    "principalType",
    "principalId",
    "apiIdentifier",
    "apiId",
    "operationId",
    "method",
    "path",
    "ip",
    "reason",
    "allowed",
    "latencyMicroseconds",
    "requestId",
)
_LISTS = {"accessProfileIds", "apiIds", "reasons"}
_PARAMETERS = _LISTS | {"allowed", "ip", "from", "to"}
_CALLER_TYPES = {"ACCESS_PROFILE": "AccessProfile", "MEMBER": "Member"}
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MAX_LIST = 100


class BadParameter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, **extra},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _gid(type_name: str, value: uuid.UUID | None) -> str | None:
    return str(relay.GlobalID(type_name, str(value))) if value is not None else None


def decode_id(value: str, type_name: str, *, field: str) -> uuid.UUID:
    """A global id of ``type_name`` (as GraphQL gives it) or a bare UUID."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        decoded = relay.GlobalID.from_id(value)
        if decoded.type_name != type_name:
            raise ValueError(value)
        return uuid.UUID(decoded.node_id)
    except (ValueError, TypeError):
        raise BadParameter(field, f"Expected the ID of a {type_name}.") from None


def _list(request: Request, name: str) -> list[str] | None:
    values = [part.strip() for v in request.query_params.getlist(name) for part in v.split(",")]
    values = [v for v in values if v]
    if not values:
        return None
    if len(values) > _MAX_LIST:
        raise BadParameter(name, f"At most {_MAX_LIST} items.")
    return values


def _time(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        # "Z" as Python 3.11 reads it; a "+" of an offset may arrive as a space.
        return datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise BadParameter(name, f"{name} must be an ISO 8601 date-time.") from None


def parse_filter(request: Request) -> CallFilter:
    """The query parameters as a filter; ``BadParameter`` for an unknown or malformed one."""
    unknown = sorted(set(request.query_params) - _PARAMETERS)
    if unknown:
        raise BadParameter(unknown[0], f"Unknown parameter '{unknown[0]}'.")
    allowed = request.query_params.get("allowed")
    if allowed not in (None, "true", "false"):
        raise BadParameter("allowed", "allowed must be true or false.")
    apps = _list(request, "accessProfileIds")
    apis = _list(request, "apiIds")
    return CallFilter(
        access_profile_ids=[decode_id(v, "AccessProfile", field="accessProfileIds") for v in apps]
        if apps is not None
        else None,
        api_ids=[decode_id(v, "Api", field="apiIds") for v in apis] if apis is not None else None,
        reasons=_list(request, "reasons"),
        allowed=None if allowed is None else allowed == "true",
        ip=request.query_params.get("ip"),
        from_=_time(request, "from"),
        to=_time(request, "to"),
    )


def call_fields(call: Call) -> dict[str, Any]:
    """One row, with the names and global ids of GraphQL's ``Call``."""
    caller = _CALLER_TYPES.get(call.principal_type or "")
    return {
        "id": str(call.id),
        "at": call.at.isoformat(),
        "principalType": call.principal_type,
        "principalId": _gid(caller, call.principal_id) if caller else None,
        "apiIdentifier": call.api_identifier,
        "apiId": _gid("Api", call.api_id),
        "operationId": _gid("ApiOperation", call.operation_id),
        "method": call.method,
        "path": call.path,
        "ip": ip_text(call.ip),
        "reason": call.reason,
        "allowed": call.allowed,
        "latencyMicroseconds": call.latency_us,
        "requestId": call.request_id,
    }


def ndjson_lines(rows: Sequence[Call]) -> bytes:
    return "".join(json.dumps(call_fields(r), separators=(",", ":")) + "\n" for r in rows).encode()


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``'`` before a formula's start."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(rows: Sequence[Call] | None) -> bytes:
    """CSV rows of ``rows``; the header row for None."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if rows is None:
        writer.writerow(COLUMNS)
    for row in rows or ():
        fields = call_fields(row)
        writer.writerow([safe_cell(fields[name]) for name in COLUMNS])
    return out.getvalue().encode()


class CallsExport:
    """The export route."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[Any],
        credentials: Credentials,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.credentials = credentials
        self.clock = clock or (lambda: datetime.now(UTC))

    def routes(self) -> list[Route]:
        return [Route(PATH, self.export, methods=["GET"])]

    async def _principal(self, request: Request) -> Principal | None:
        ip = client_ip(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        request_id = request.scope.get("state", {}).get("request_id")
        async with self.sessions() as session:
            return await self.credentials.authenticate(
                request, session, ip=ip, request_id=request_id
            )

    async def export(self, request: Request) -> Response:
        """Check the caller and the filter, then stream the rows."""
        format = request.path_params["format"]
        if format not in MEDIA_TYPES:
            return _error(404, "not_found", "Export as calls.ndjson or calls.csv.")
        try:
            principal = await self._principal(request)
        except Unauthenticated as refused:
            return _error(401, "unauthenticated", refused.message, **refused.details)
        if principal is None:
            return _error(401, "unauthenticated", "Send 'Authorization: Bearer <token>'.")
        try:
            workspace_id = decode_id(
                request.path_params["workspace_id"], "Workspace", field="workspaceId"
            )
            wanted = export_filter(
                actor=principal,
                workspace_id=workspace_id,
                filter=parse_filter(request),
                now=self.clock(),
                max_days=self.settings.call_log_export_max_days,
            )
        except BadParameter as bad:
            return _error(400, "invalid_request", bad.message, field=bad.field)
        except InputError as bad:
            field = bad.errors[0].field
            return _error(400, "invalid_request", str(bad), field=field)
        except NotFound:
            return _error(404, "not_found", "Workspace not found.")
        except Forbidden as refused:
            return _error(403, "forbidden", refused.message)
        return self._stream(workspace_id, wanted, format)

    def _stream(self, workspace_id: uuid.UUID, wanted: CallFilter, format: str) -> Response:
        assert wanted.from_ is not None
        name = f"calls-{wanted.from_.astimezone(UTC):%Y%m%dT%H%M%SZ}.{format}"

        async def body() -> AsyncIterator[bytes]:
            if format == "csv":
                yield csv_lines(None)
            chunks = export_chunks(self.sessions, workspace_id=workspace_id, filter=wanted)
            async for rows in chunks:
                yield csv_lines(rows) if format == "csv" else ndjson_lines(rows)

        return StreamingResponse(
            body(),
            media_type=MEDIA_TYPES[format],
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
