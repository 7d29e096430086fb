"""The newcomer's path: ``accessplane serve`` on an empty database prints a key that works, and
the README's walk-through (group, API, grant, counts) runs against the real server."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A real ``accessplane serve`` on a fresh SQLite file; yields (url, printed key)."""
    port = free_port()
    env = {
        **os.environ,
        "ACCESSPLANE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/serve.db",
        "ACCESSPLANE_PORT": str(port),
        "ACCESSPLANE_SECRET_KEY": "serve-test-secret-0123456789abcdef",
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
    output = ""
    key = None
    url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(60):
            while key is None or "Uvicorn running" not in output:
                line = (await process.stdout.readline()).decode()
                assert line, f"serve exited early:\n{output}"
                output += line
                found = re.search(r"apk_[A-Za-z0-9]{36}", line)
                key = key or (found.group(0) if found else None)
        yield url, key
    finally:
        process.terminate()
        await process.wait()


async def test_serve_bootstraps_and_the_walkthrough_works(server: tuple[str, str]) -> None:
    url, key = server
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:

        async def gql(query: str, **variables: Any) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
            assert "errors" not in body, body
            return body["data"]  # type: ignore[no-any-return]

        assert (await http.get("/readyz")).json() == {"status": "ok"}
        [workspace] = (await gql("{ workspaces { id name } }"))["workspaces"]
        roles = await gql(
            "query($id: ID!) { workspace(id: $id) { roles { edges { node { id name } } } } }",
            id=workspace["id"],
        )
        developer = next(
            e["node"]["id"]
            for e in roles["workspace"]["roles"]["edges"]
            if e["node"]["name"] == "Developer"
        )
        api = (
            await gql(
                "mutation($i: CreateApiInput!) { createApi(input: $i) { api { id } } }",
                i={"workspaceId": workspace["id"], "name": "Billing", "identifier": "billing"},
            )
        )["createApi"]["api"]
        member = (
            await gql(
                "mutation($i: AddMemberInput!) { addMember(input: $i) { member { id } } }",
                i={"workspaceId": workspace["id"], "email": "ada@example.com", "roleId": developer},
            )
        )["addMember"]["member"]
        group = (
            await gql(
                "mutation($i: CreateGroupInput!) { createGroup(input: $i) { group { id } } }",
                i={
                    "workspaceId": workspace["id"],
                    "name": "Payments team",
                    "memberIds": [member["id"]],
                },
            )
        )["createGroup"]["group"]
        granted = (
            await gql(
                "mutation($i: GrantApiAccessInput!) { grantApiAccess(input: $i) "
                "{ api { peopleCount groupsCount } } }",
                i={"apiId": api["id"], "groupIds": [group["id"]]},
            )
        )["grantApiAccess"]["api"]
        assert granted == {"peopleCount": 0, "groupsCount": 1}

        table = await gql(
            "query($id: ID!, $m: ID!, $a: ID!) { workspace(id: $id) {"
            ' apis(first: 20, filter: {search: "bill"}) { totalCount edges { node {'
            " name groupsCount groups(first: 5) { edges { node { name } } } } } }"
            " explainAccess(memberId: $m, apiId: $a) { hasAccess paths { kind group { name } } }"
            " } }",
            id=workspace["id"],
            m=member["id"],
            a=api["id"],
        )
        assert table["workspace"]["apis"]["totalCount"] == 1
        row = table["workspace"]["apis"]["edges"][0]["node"]
        assert row["groups"]["edges"] == [{"node": {"name": "Payments team"}}]
        assert table["workspace"]["explainAccess"] == {
            "hasAccess": True,
            "paths": [{"kind": "GROUP", "group": {"name": "Payments team"}}],
        }
