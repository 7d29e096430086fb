"""Logs: text by default, one JSON object per line with ACCESSPLANE_LOG_FORMAT=json, naming the
request, its principal and workspace; uvicorn's own lines too; mail never logged whole."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from accessplane.notify.sender import EXCERPT_CHARS, log_excerpt
from accessplane.observability.logging import (
    ContextFilter,
    json_formatter,
    request_context,
    text_formatter,
)
from accessplane.settings import Settings
from tests.support.scenario import Scenario


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """A JSON handler on the root logger, as ACCESSPLANE_LOG_FORMAT=json installs it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_the_fields_a_log_pipeline_expects(json_lines: io.StringIO) -> None:
    logger = logging.getLogger("accessplane.test")
    logger.setLevel(logging.INFO)
    with request_context("req-1"):
        logger.info("sent %d mails", 3, extra={"outbox": "mail"})
    try:
        raise ValueError("broken")
    except ValueError:
        logger.exception("failed")

    sent, failed = records(json_lines)
    assert sent["message"] == "sent 3 mails"
    assert sent["level"] == "INFO"
    assert sent["logger"] == "accessplane.test"
    assert sent["request_id"] == "req-1"
    assert sent["outbox"] == "mail"
    assert sent["timestamp"].endswith("+00:00")  # ISO 8601, UTC
    assert {"principal_id", "workspace_id"} <= sent.keys()
    assert failed["request_id"] is None  # outside the request
    assert "ValueError: broken" in failed["exc_info"]


def test_text_lines_name_the_request() -> None:
    record = logging.LogRecord("accessplane.x", logging.WARNING, __file__, 1, "hello", None, None)
    with request_context("req-2"):
        ContextFilter().filter(record)

    line = text_formatter().format(record)

    assert line.endswith("WARNING accessplane.x [req-2] hello")


def test_the_access_log_loses_its_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5000", "GET", "/auth/callback?code=s3cret&state=x", "1.1", 302),
        None,
    )

    ContextFilter().filter(record)

    assert record.getMessage() == '203.0.113.7:5000 - "GET /auth/callback HTTP/1.1" 302'
    assert record.http_path == "/auth/callback"  # type: ignore[attr-defined]
    assert record.http_status == 302  # type: ignore[attr-defined]


async def test_records_of_a_graphql_request_name_its_principal_and_workspace(
    json_lines: io.StringIO,
    http: httpx.AsyncClient,
    engine: AsyncEngine,
    scenario: Scenario,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    engine.echo = True  # a record for every statement, some after authentication
    try:
        response = await http.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { workspace(id: $id) { apis { totalCount } } }",
                "variables": {"id": world.id},
            },
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-graphql-1"},
        )
    finally:
        engine.echo = False
    assert response.status_code == 200
    assert "errors" not in response.json()
    logging.getLogger("accessplane.test").warning("after the request")

    found = records(json_lines)
    during = [r for r in found if r["request_id"] == "req-graphql-1"]
    assert during
    named = [r for r in during if r["principal_id"] is not None]
    assert named
    assert {r["workspace_id"] for r in named} == {str(world.workspace.id)}
    after = found[-1]
    assert after["message"] == "after the request"
    assert (after["request_id"], after["principal_id"], after["workspace_id"]) == (None, None, None)
    assert key not in json_lines.getvalue()


def test_the_level_setting_takes_any_case() -> None:
    assert Settings(log_level="debug").log_level == "DEBUG"  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(log_level="chatty")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Settings(log_format="xml")  # type: ignore[arg-type]


def test_a_mail_in_the_log_is_a_bounded_excerpt_without_tokens() -> None:
    body = (
        "Your key apt_9aB3xYz0123456789abcdefGHIJKLmnopqrs is ready.\n"
        "Secret: 0123456789abcdef0123456789abcdef0123\n" + "more words " * 200
    )

    excerpt = log_excerpt(body)

    assert "apt_" not in excerpt
    assert "0123456789abcdef0123456789abcdef" not in excerpt
    assert excerpt.startswith("Your key [redacted] is ready. Secret: [redacted] more words")
    assert len(excerpt) <= EXCERPT_CHARS + 1
    assert "\n" not in excerpt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_writes_json_lines_uvicorns_included(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/serve.db",
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_SECRET_KEY": "serve-test-secret-0123456789abcdef",
        "ACCESSPLANE_LOG_FORMAT": "json",
        "ACCESSPLANE_LOG_LEVEL": "info",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accessplane.cli",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,  # the first start's key, shown to the operator
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[dict[str, Any]] = []

    async def until(found: Any) -> dict[str, Any]:
        async with asyncio.timeout(60):
            while True:
                raw = (await process.stderr.readline()).decode()  # type: ignore[union-attr]
                assert raw, f"serve exited early:\n{lines}"
                lines.append(json.loads(raw))  # every line is one JSON object
                if found(lines[-1]):
                    return lines[-1]

    try:
        running = await until(lambda r: "Uvicorn running" in r["message"])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.get(
                "/healthz?code=one-time-secret", headers={"X-Request-ID": "req-serve-1"}
            )
        assert answer.status_code == 200
        access = await until(lambda r: r["logger"] == "uvicorn.access")
    finally:
        process.terminate()
        await process.wait()

    assert running["level"] == "INFO"
    assert any(r["logger"].startswith("alembic") for r in lines)  # the migration's own lines
    assert access["request_id"] == "req-serve-1"
    assert access["http_path"] == "/healthz"
    assert access["http_status"] == 200
    assert "one-time-secret" not in json.dumps(lines)
