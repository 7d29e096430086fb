"""Log set-up: plain text (the default) or one JSON object per line, with the request id, the
principal and the workspace of the request a record was written for.

``ACCESSPLANE_LOG_FORMAT`` and ``ACCESSPLANE_LOG_LEVEL`` choose; ``configure_logging`` applies
them to this process, and ``uvicorn_log_config`` gives uvicorn (and so each server worker) the
same handlers for its own error and access logs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

# Set by the request middleware (request id) and by authentication (principal, workspace); the
# context of each request is its own, so nothing leaks from one request to the next.
request_id: ContextVar[str | None] = ContextVar("accessplane_request_id", default=None)
principal_id: ContextVar[str | None] = ContextVar("accessplane_principal_id", default=None)
workspace_id: ContextVar[str | None] = ContextVar("accessplane_workspace_id", default=None)

CONTEXT_FIELDS = ("request_id", "principal_id", "workspace_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Record attributes never written as JSON fields: uvicorn's copy of its message with terminal
# colours, and the access log's raw arguments (written as fields of their own).
_HIDDEN = ("color_message",)
# Alembic announces each of its plugins at INFO on import: noise before every start.
QUIET_LOGGERS = ("alembic.runtime.plugins",)


@contextmanager
def request_context(request: str | None) -> Iterator[None]:
    """Records written inside carry ``request``; the principal and workspace set inside are
    forgotten on the way out."""
    tokens = (request_id.set(request), principal_id.set(None), workspace_id.set(None))
    try:
        yield
    finally:
        workspace_id.reset(tokens[2])
        principal_id.reset(tokens[1])
        request_id.reset(tokens[0])


def bind_principal(principal: str | None, workspace: str | None) -> None:
    """Name the authenticated caller (and its workspace, when it has exactly one) in the
    records written for the rest of the request."""
    principal_id.set(principal)
    workspace_id.set(workspace)


class ContextFilter(logging.Filter):
    """Adds the request's ids to every record, and takes the query string off uvicorn's access
    log lines: an OIDC callback's ``?code=`` is a credential for a moment."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in zip(
            CONTEXT_FIELDS, (request_id, principal_id, workspace_id), strict=True
        ):
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        if record.name == "uvicorn.access":
            _access_fields(record)
        return True


def _access_fields(record: logging.LogRecord) -> None:
    """uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with (client, method, path, version, status)."""
    args = record.args
    if not isinstance(args, tuple) or len(args) != 5:
        return
    client, method, path, version, status = args
    path = str(path).split("?", 1)[0]
    record.args = (client, method, path, version, status)
    record.http_method, record.http_path, record.http_status = method, path, status
    record.client_addr = client


def json_formatter() -> logging.Formatter:
    """One JSON object per line: timestamp (ISO 8601, UTC), level, logger, message, the ids of
    the request, and any ``extra`` the record was given."""
    return JsonFormatter(
        ["levelname", "name", "message", *CONTEXT_FIELDS],
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
        reserved_attrs=[*_reserved_attributes(), *_HIDDEN],
    )


def _reserved_attributes() -> list[str]:
    # The standard LogRecord attributes: everything else on a record is an ``extra``.
    blank = logging.LogRecord("", 0, "", 0, "", None, None)
    return [*vars(blank), "message", "asctime", "taskName"]


def text_formatter() -> logging.Formatter:
    """Human-readable lines, the request id in brackets (``[None]`` outside requests)."""
    return logging.Formatter(TEXT_FORMAT)


def formatter_for(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``ACCESSPLANE_LOG_FORMAT``."""
    return json_formatter() if log_format == "json" else text_formatter()


class StandardErrorHandler(logging.StreamHandler):  # type: ignore[type-arg]  # stream: Any
    """Writes to ``sys.stderr`` as it is when a record comes, so a stream replaced and closed
    since (a test runner's capture) is never written to."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass  # StreamHandler's constructor sets it; the property ignores it


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers get a handler like the root's. The root logger is
    left alone (each server worker sets it up in ``create_app``), so a host's own logging,
    such as a test runner's, survives uvicorn's configuration."""
    factory = "json_formatter" if log_format == "json" else "text_formatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"default": {"()": f"{__name__}.{factory}"}},
        "handlers": {
            "default": {
                "()": f"{__name__}.StandardErrorHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "loggers": {
            name: {"handlers": ["default"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.access")
        },
    }


def configure_logging(log_format: LogFormat, level: str) -> dict[str, Any]:
    """Apply the format and level to this process, unless its logging is set up already (as
    ``logging.basicConfig`` would: a host such as a test runner keeps its own); returns
    uvicorn's configuration, which each server worker applies."""
    root = logging.getLogger()
    if not root.handlers:
        handler = StandardErrorHandler()
        handler.setFormatter(formatter_for(log_format))
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
        root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logging_config(log_format, level)
