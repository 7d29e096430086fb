"""One caller cannot stall the server for everybody: a real ``accessplane serve`` answers
``/healthz`` promptly while it is sent the inputs that used to hold its event loop for seconds
or for ever (a backtracking name pattern, 40 000 allowed IPs, a subject computing 9**10000000,
a 10 MB body), and each of those gets a clear answer."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

# Liveness bound: the longest a /healthz poll may wait while an evil request is handled.
POLL_BOUND_SECONDS = 1.0
# How long an evil request may take before the test gives up on it (it used to take minutes).
ANSWER_BOUND_SECONDS = 30.0


@dataclass
class Server:
    url: str
    key: str
    output: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A real ``accessplane serve`` on a fresh SQLite file, with the Owner key it printed. Its
    output is read all along (a full pipe would block the server, and the log is checked)."""
    port = free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/liveness.db",
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_SECRET_KEY": "liveness-test-secret-0123456789abcdef",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accessplane.cli",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    stdout = process.stdout
    server = Server(url=f"http://127.0.0.1:{port}", key="")
    ready = asyncio.Event()

    async def read() -> None:
        while line := (await stdout.readline()).decode():
            server.output.append(line)
            found = re.search(r"apk_[A-Za-z0-9]{36}", line)
            server.key = server.key or (found.group(0) if found else "")
            if server.key and "Uvicorn running" in line:
                ready.set()

    reader = asyncio.create_task(read())
    try:
        async with asyncio.timeout(60):
            await asyncio.wait(
                [asyncio.create_task(ready.wait()), reader], return_when=asyncio.FIRST_COMPLETED
            )
        assert ready.is_set(), "serve exited early:\n" + "".join(server.output)
        yield server
    finally:
        process.terminate()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:  # a loop stuck in C code never runs its signal handler
            process.kill()
            await process.wait()
        await reader


@dataclass
class Poller:
    """Polls /healthz back to back and keeps how long each answer took."""

    url: str
    waits: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=ANSWER_BOUND_SECONDS) as http:
            while not self.stop.is_set():
                started = time.monotonic()
                response = await http.get("/healthz")
                self.waits.append(time.monotonic() - started)
                assert response.status_code == 200
                await asyncio.sleep(0.02)


async def post_raw(server: Server, path: str, body: bytes) -> bytes:
    """POST ``body`` the way curl sends a large one (``Expect: 100-continue``): the body goes
    only once the server asks for it, so a refusal by the declared length (answered before the
    body is read, and the connection closed) reaches the client instead of a broken pipe."""
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.key}\r\n"
            "Content-Type: application/json\r\nExpect: 100-continue\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 100 "):
            writer.write(body)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: (\d+)", head)
        return head + (await reader.readexactly(int(length.group(1))) if length else b"")
    finally:
        writer.transport.abort()


def many_addresses(count: int) -> str:
    """``count`` distinct IPv4 addresses in one comma-separated entry (40 000: about 500 KB)."""
    return ",".join(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(count))


async def test_evil_requests_get_clear_answers_while_healthz_stays_prompt(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=ANSWER_BOUND_SECONDS) as http:

        async def gql(query: str, key: str = server.key, **variables: Any) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text[:500]
            body = response.json()
            assert "errors" not in body, body
            return body["data"]  # type: ignore[no-any-return]

        async def mutation(
            operation: str, input_type: str, fields: str, /, key: str = server.key, **i: Any
        ) -> dict[str, Any]:
            data = await gql(
                f"mutation($i: {input_type}!) {{ {operation}(input: $i) {{ {fields} "
                "userErrors { field message code } } }",
                key=key,
                i=i,
            )
            return data[operation]  # type: ignore[no-any-return]

        # The world: a role whose createApiAccess holds a backtracking pattern, a key with it,
        # a client, a published product and a plan.
        [workspace] = (await gql("{ workspaces { id } }"))["workspaces"]
        ws = workspace["id"]
        role = await mutation(
            "createRole",
            "CreateRoleInput",
            "role { id }",
            workspaceId=ws,
            name="Nested",
            permissions=[
                {"name": "createApiAccess", "namePattern": "(a+)+$"},
                {"name": "getRole"},
            ],
        )
        assert role["userErrors"] == []
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        nested = await mutation(
            "createApiAccess",
            "CreateApiAccessInput",
            "token",
            workspaceId=ws,
            name="nested",
            roleId=role["role"]["id"],
            expiresAt=expires,
        )
        client = await mutation(
            "createClient", "CreateClientInput", "client { id }", workspaceId=ws, name="Partner"
        )
        product = await mutation(
            "createApiProduct",
            "CreateApiProductInput",
            "apiProduct { id }",
            workspaceId=ws,
            name="Payments",
            authMethod="AUTH_TOKEN",
            published=True,
        )
        plan = await mutation(
            "createPlan", "CreatePlanInput", "plan { id }", workspaceId=ws, name="Gold"
        )
        client_id = client["client"]["id"]
        addresses = [many_addresses(40_000)]

        poller = Poller(server.url)
        polling = asyncio.create_task(poller.run())
        try:
            evil_name = await mutation(
                "createApiAccess",
                "CreateApiAccessInput",
                "token",
                key=nested["token"],
                workspaceId=ws,
                name="a" * 99 + "!",
                roleId=role["role"]["id"],
                expiresAt=expires,
            )
            evil_profile = await mutation(
                "createAccessProfile",
                "CreateAccessProfileInput",
                "accessProfile { id }",
                clientId=client_id,
                name="Web",
                authMethod="AUTH_TOKEN",
                allowedIps=addresses,
            )
            evil_request = await mutation(
                "submitAccessRequest",
                "SubmitAccessRequestInput",
                "accessRequest { id }",
                productIds=[product["apiProduct"]["id"]],
                planId=plan["plan"]["id"],
                newAccessProfile={"clientId": client_id, "name": "Web", "allowedIps": addresses},
            )
            evil_subject = await mutation(
                "updateNotificationSettings",
                "UpdateNotificationSettingsInput",
                "notificationSettings { subjects { kind } }",
                workspaceId=ws,
                subjects=[{"kind": "EXPIRED", "subject": "{{ 9**10000000 }}"}],
            )
            big_body = await post_raw(
                server,
                "/graphql",
                b'{"query": "{ __typename }", "variables": {"x": "'
                + b"x" * (10 * 1024 * 1024)
                + b'"}}',
            )
            # Within the body limit, but 250 000 values to coerce.
            flood = await http.post(
                "/graphql",
                json={
                    "query": "mutation($i: CreateAccessProfileInput!) "
                    "{ createAccessProfile(input: $i) { userErrors { code } } }",
                    "variables": {
                        "i": {
                            "clientId": client_id,
                            "name": "Flood",
                            "authMethod": "AUTH_TOKEN",
                            "allowedIps": [""] * 250_000,
                        }
                    },
                },
                headers={"Authorization": f"Bearer {server.key}"},
            )
        finally:
            poller.stop.set()
            await polling

    assert poller.waits, "no /healthz poll was answered"
    assert max(poller.waits) < POLL_BOUND_SECONDS, sorted(poller.waits)[-5:]
    assert [(e["field"], e["code"]) for e in evil_name["userErrors"]] == [
        ("name", "PATTERN_MISMATCH")
    ]
    assert evil_profile["userErrors"] == [
        {
            "field": "allowedIps",
            "message": "At most 100 addresses or ranges (40000 given).",
            "code": "INVALID",
        }
    ]
    assert evil_request["userErrors"] == [
        {
            "field": "newAccessProfile.allowedIps",
            "message": "At most 100 addresses or ranges (40000 given).",
            "code": "INVALID",
        }
    ]
    [subject_error] = evil_subject["userErrors"]
    assert subject_error["field"] == "subjects"
    assert subject_error["message"].startswith("expired: A subject may not use the operator **")
    assert big_body.startswith(b"HTTP/1.1 413 "), big_body[:200]
    assert flood.status_code == 400
    assert flood.json()["errors"][0]["message"] == "The variables hold more than 10000 values."
    log = "".join(server.output)
    assert "Traceback" not in log, log[-3000:]
