"""Tokens are shown once and kept nowhere: not in the database (rows, audit log, outbox), not in
the logs (ours, SQLAlchemy's echo with parameters and rows, the drivers'), not on stdout."""

from __future__ import annotations

import base64
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.auth.tokens import token_digest
from accessplane.notify.outbox import Worker
from accessplane.notify.sender import LogSender
from accessplane.observability.logging import ContextFilter, json_formatter
from accessplane.settings import Settings
from tests.conftest import SECRET
from tests.support.scenario import Scenario, gid

CREATE = """
mutation Create($input: CreateApiAccessInput!) {
  createApiAccess(input: $input) { token apiAccess { id } userErrors { code } }
}
"""
REGENERATE = """
mutation Regenerate($input: RegenerateApiAccessInput!) {
  regenerateApiAccess(input: $input) { token userErrors { code } }
}
"""
DELETE = """
mutation Delete($input: DeleteApiAccessesInput!) {
  deleteApiAccesses(input: $input) { deletedApiAccessIds userErrors { code } }
}
"""
VIEWER = "{ viewer { name } }"


async def dump_database(session: AsyncSession) -> str:
    """Every row of every table the migrations made, as text."""
    dialect = session.get_bind().dialect.name
    listing = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if dialect == "sqlite"
        else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    tables = (await session.execute(text(listing))).scalars().all()
    assert "api_access" in tables
    assert "audit_event" in tables
    assert "notification" in tables
    parts = []
    for table in tables:
        rows = (await session.execute(text(f'SELECT * FROM "{table}"'))).all()
        parts.append(f"{table}: {[tuple(row) for row in rows]!r}")
    await session.commit()
    return "\n".join(parts)


def secret_parts(token: str) -> list[str]:
    """The token and its random body (without prefix and checksum): neither may leak."""
    return [token, token[4:34]]


async def test_tokens_appear_nowhere_in_the_database_the_audit_log_or_the_logs(
    app: Any,
    engine: AsyncEngine,
    graphql: Any,
    scenario: Scenario,
    session: AsyncSession,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    engine.echo = True  # SQLAlchemy's echo: every statement with its parameters
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # ...and every result row
    world = await scenario.workspace()
    owner_key = await scenario.api_key(world)
    owner = graphql.as_key(owner_key)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    tokens = [owner_key]

    async with app.router.lifespan_context(app):  # with usage counting, flushed on the way out
        created = (
            await owner.execute(
                CREATE,
                input={
                    "workspaceId": world.id,
                    "name": "leaky",
                    "roleId": world.role_id("Developer"),
                    "expiresAt": tomorrow,
                },
            )
        ).payload("createApiAccess")
        key_id = created["apiAccess"]["id"]
        first = created["token"]
        assert (await graphql.as_key(first).execute(VIEWER)).ok()
        second = (
            await owner.execute(
                REGENERATE,
                input={"id": key_id, "expiresAt": tomorrow, "gracePeriodSeconds": 300},
            )
        ).payload("regenerateApiAccess")["token"]
        assert (await graphql.as_key(first).execute(VIEWER)).ok()  # in its grace period
        third = (
            await owner.execute(REGENERATE, input={"id": key_id, "expiresAt": tomorrow})
        ).payload("regenerateApiAccess")["token"]
        revoked = await graphql.as_key(second).execute(VIEWER)
        assert revoked.error_codes == ["UNAUTHENTICATED"]
        tampered = await graphql.as_key(third[:-1] + ("x" if third[-1] != "x" else "y")).execute(
            VIEWER
        )
        assert tampered.error_codes == ["UNAUTHENTICATED"]
        # Made by a person, so its expiry reminder has a recipient (keys made by the owner key,
        # itself made by `init`, have none).
        reminded = (
            await graphql.as_principal(world.owner.principal).execute(
                CREATE,
                input={
                    "workspaceId": world.id,
                    "name": "reminded",
                    "roleId": world.role_id("Viewer"),
                    "expiresAt": tomorrow,
                },
            )
        ).payload("createApiAccess")["token"]
        (await owner.execute(DELETE, input={"ids": [key_id]})).payload("deleteApiAccesses")
        assert (await graphql.as_key(third).execute(VIEWER)).error_codes == ["UNAUTHENTICATED"]
    tokens += [first, second, third, reminded]

    # The expiry reminder of "reminded", sent to the log (no SMTP configured).
    worker = Worker(async_sessionmaker(engine, expire_on_commit=False), LogSender(), settings)
    assert (await worker.run_once()).sent == 1
    engine.echo = False

    database = await dump_database(session)
    logs = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    captured = capfd.readouterr()
    output = captured.out + captured.err

    # The checks below can fail: what they search does hold the tokens' traces.
    assert token_digest(reminded, SECRET.encode()) in database
    assert token_digest(first, SECRET.encode()) in database  # kept as a revocation
    assert token_digest(third, SECRET.encode()) in logs  # parameters are logged
    assert "INSERT INTO audit_event" in logs
    assert 'API key "reminded" expires in 1 day' in logs  # the mail went to the log
    for token in tokens:
        for part in secret_parts(token):
            assert part not in database
            assert part not in logs
            assert part not in output


CREATE_APP = """
mutation Create($input: CreateAccessProfileInput!) {
  createAccessProfile(input: $input) { token accessProfile { id } userErrors { code } }
}
"""
REFRESH_APP = """
mutation Refresh($input: RefreshAccessProfileTokenInput!) {
  refreshAccessProfileToken(input: $input) { token userErrors { code } }
}
"""
SUBMIT = """
mutation Submit($input: SubmitAccessRequestInput!) {
  submitAccessRequest(input: $input) { token accessRequest { id } userErrors { code } }
}
"""
APPROVE = """
mutation Approve($input: ApproveAccessRequestInput!) {
  approveAccessRequest(input: $input) { accessRequest { status } userErrors { code } }
}
"""
DELETE_APP = """
mutation Delete($input: DeleteAccessProfileInput!) {
  deleteAccessProfile(input: $input) { deletedAccessProfileId userErrors { code } }
}
"""


async def test_app_tokens_appear_nowhere_in_the_database_the_audit_log_or_the_logs(
    app: Any,
    engine: AsyncEngine,
    graphql: Any,
    scenario: Scenario,
    session: AsyncSession,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    engine.echo = True
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, "Payments")
    plan = await scenario.plan(world, "Gold")
    owner = graphql.as_key(await scenario.api_key(world))

    created = (
        await owner.execute(
            CREATE_APP,
            input={
                "clientId": gid("Client", client.id),
                "name": "Mobile",
                "authMethod": "AUTH_TOKEN",
            },
        )
    ).payload("createAccessProfile")
    first = created["token"]
    second = (
        await owner.execute(REFRESH_APP, input={"id": created["accessProfile"]["id"]})
    ).payload("refreshAccessProfileToken")["token"]
    # A consumer's new app: its token comes back in the request's answer, and the approval
    # mails the consumer.
    submitted = (
        await graphql.as_principal(consumer.principal).execute(
            SUBMIT,
            input={
                "productIds": [gid("ApiProduct", product.id)],
                "planId": gid("Plan", plan.id),
                "newAccessProfile": {"clientId": gid("Client", client.id), "name": "Web"},
            },
        )
    ).payload("submitAccessRequest")
    third = submitted["token"]
    (await owner.execute(APPROVE, input={"id": submitted["accessRequest"]["id"]})).payload(
        "approveAccessRequest"
    )
    (await owner.execute(DELETE_APP, input={"id": created["accessProfile"]["id"]})).payload(
        "deleteAccessProfile"
    )
    tokens = [first, second, third]
    assert all(token.startswith("apt_") for token in tokens)

    # Gateways present the tokens to the decision endpoint (live, revoked and deleted ones),
    # whose per-app counts are then written.
    for token in tokens:
        for asked in (
            graphql.http.post("/v1/check", json={"credential": token, "api": "payments"}),
            graphql.http.get("/v1/authorize?api=payments", headers={"X-API-Key": token}),
        ):
            assert (await asked).status_code in (200, 401, 403)
    assert await app.state.decision_usage.flush() >= 1

    worker = Worker(async_sessionmaker(engine, expire_on_commit=False), LogSender(), settings)
    assert (await worker.run_once()).sent >= 2  # owner told of the request, consumer of approval
    engine.echo = False

    database = await dump_database(session)
    logs = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    captured = capfd.readouterr()
    output = captured.out + captured.err

    # What is searched does hold the tokens' traces: their keyed hashes.
    assert token_digest(first, SECRET.encode()) in database  # a revocation
    assert token_digest(third, SECRET.encode()) in database
    assert token_digest(second, SECRET.encode()) in logs  # bound parameters are logged
    assert "INSERT INTO access_profile" in logs
    assert "INSERT INTO credential_usage" in logs
    assert "Access approved: Web" in logs  # the mail went to the log
    for token in tokens:
        for part in secret_parts(token):
            assert part not in database
            assert part not in logs
            assert part not in output


async def test_a_key_signing_in_to_the_console_appears_in_no_cookie_row_or_log(
    app: Any,
    engine: AsyncEngine,
    scenario: Scenario,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    engine.echo = True
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    world = await scenario.workspace()
    key = await scenario.api_key(world, name="console")
    mistyped = key[:-1] + ("x" if key[-1] != "x" else "y")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    cookies: list[str] = []

    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
        refused = await browser.post("/auth/key", json={"key": mistyped})
        signed_in = await browser.post("/auth/key", json={"key": key})
        csrf = signed_in.json()["csrfToken"]
        used = await browser.post(
            "/graphql", json={"query": VIEWER}, headers={"X-CSRF-Token": csrf}
        )
        described = await browser.get("/auth/session")
        during = await dump_database(session)  # with the session's row
        logged_out = await browser.post("/auth/logout", headers={"Accept": "application/json"})
        for response in (refused, signed_in, used, described, logged_out):
            cookies += response.headers.get_list("set-cookie")
    engine.echo = False

    assert refused.status_code == 401
    assert used.json() == {"data": {"viewer": {"name": "console"}}}
    assert described.json()["method"] == "api_key"
    assert logged_out.status_code == 200
    # The session cookie's payload is base64 JSON before its signature: read it as well.
    payloads = [
        base64.b64decode(c.split("=", 1)[1].split(".")[0] + "==").decode()
        for c in cookies
        if c.startswith("accessplane_session=") and not c.startswith("accessplane_session=null")
    ]
    assert any('"sid"' in payload for payload in payloads)
    database = during + "\n" + await dump_database(session)
    logs = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    captured = capfd.readouterr()
    output = captured.out + captured.err

    # What is searched does hold the key's traces: its keyed hash was looked up, and the
    # session's row was there.
    assert "console_session: [(" in during
    assert token_digest(key, SECRET.encode()) in logs
    assert "console_session" in logs
    for token in (key, mistyped):
        for part in secret_parts(token):
            assert part not in database
            assert part not in logs
            assert part not in output
            assert not any(part in cookie for cookie in cookies)
            assert not any(part in payload for payload in payloads)


async def test_tokens_appear_in_no_json_log_line(
    app: Any,
    engine: AsyncEngine,
    graphql: Any,
    scenario: Scenario,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ACCESSPLANE_LOG_FORMAT=json writes a record's extras and arguments as fields: none of
    them may carry a token either."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    engine.echo = True
    try:
        world = await scenario.workspace()
        owner_key = await scenario.api_key(world)
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        created = (
            await graphql.as_principal(world.owner.principal).execute(
                CREATE,
                input={
                    "workspaceId": world.id,
                    "name": "reminded",
                    "roleId": world.role_id("Viewer"),
                    "expiresAt": tomorrow,
                },
            )
        ).payload("createApiAccess")
        token = created["token"]
        assert (await graphql.as_key(token).execute(VIEWER)).ok()
        for asked in (
            graphql.http.post("/v1/check", json={"credential": token, "api": "payments"}),
            graphql.http.get("/v1/authorize?api=payments", headers={"X-API-Key": owner_key}),
        ):
            assert (await asked).status_code in (200, 401, 403)
        worker = Worker(async_sessionmaker(engine, expire_on_commit=False), LogSender(), settings)
        assert (await worker.run_once()).sent == 1
    finally:
        engine.echo = False
        logging.getLogger().removeHandler(handler)

    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]  # one JSON object per line
    assert any("INSERT INTO api_access" in line["message"] for line in lines)
    assert any('API key \\"reminded\\" expires in 1 day' in json.dumps(line) for line in lines)
    for secret in (token, owner_key):
        for part in secret_parts(secret):
            assert part not in output
