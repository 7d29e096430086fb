"""``GET /v1/workspaces/{workspaceId}/calls.ndjson`` and ``.csv``: the call log streamed in
keyset chunks, with the filter of ``Workspace.calls`` as query parameters, authenticated like
/graphql (API key, OIDC bearer, console session) and refused without getCallLog."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.calls import START, add_calls
from tests.support.scenario import Scenario, World, gid

WINDOW = {"from": START.isoformat(), "to": (START + timedelta(days=1)).isoformat()}


def url(world: World, format: str = "ndjson") -> str:
    return f"/v1/workspaces/{world.id}/calls.{format}"


async def export(
    http: httpx.AsyncClient, world: World, token: str | None, format: str = "ndjson", **params: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(url(world, format), params={**WINDOW, **params}, headers=headers)


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


async def test_ndjson_holds_every_call_newest_first_in_graphql_names(
    http: httpx.AsyncClient, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world)
    app = (
        await scenario.app(
            world, await scenario.client(world), products=[await scenario.product(world)]
        )
    ).access_profile
    api = await scenario.api(world, "Orders")
    # More than one chunk of 1000: the keyset goes on where each chunk ended.
    await add_calls(session, world.workspace.id, 2100, step=timedelta(milliseconds=10))
    await add_calls(
        session,
        world.workspace.id,
        start=START + timedelta(hours=2),
        principal_type="ACCESS_PROFILE",
        principal_id=app.id,
        api_id=api.id,
        reason="rate_limited",
        allowed=False,
        ip="2001:db8::1",
    )
    await add_calls(session, (await scenario.workspace()).workspace.id, 3)  # another tenant's

    response = await export(http, world, token)
    assert response.headers["content-disposition"] == (
        'attachment; filename="calls-20260301T120000Z.ndjson"'
    )
    rows = lines(response)
    assert len(rows) == 2101
    assert len({r["id"] for r in rows}) == 2101
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    assert rows[0] == {
        "id": rows[0]["id"],
        "at": (START + timedelta(hours=2)).isoformat(),
        "principalType": "ACCESS_PROFILE",
        "principalId": gid("AccessProfile", app.id),
        "apiIdentifier": "orders",
        "apiId": gid("Api", api.id),
        "operationId": None,
        "method": "GET",
        "path": "/orders/0",
        "ip": "2001:db8::1",
        "reason": "rate_limited",
        "allowed": False,
        "latencyMicroseconds": 100,
        "requestId": "req-0",
    }


async def test_the_filter_comes_as_query_parameters(
    http: httpx.AsyncClient, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world)
    ws = world.workspace.id
    app = (
        await scenario.app(
            world, await scenario.client(world), products=[await scenario.product(world)]
        )
    ).access_profile
    await add_calls(session, ws, 4, principal_type="ACCESS_PROFILE", principal_id=app.id)
    await add_calls(
        session,
        ws,
        2,
        start=START + timedelta(hours=1),
        reason="ip_not_allowed",
        allowed=False,
        ip="203.0.113.50",
    )

    async def count(**params: Any) -> int:
        return len(lines(await export(http, world, token, **params)))

    assert await count() == 6
    assert await count(accessProfileIds=gid("AccessProfile", app.id)) == 4
    assert await count(accessProfileIds=str(app.id)) == 4  # a bare UUID works too
    assert await count(reasons="ok,ip_not_allowed") == 6
    assert await count(reasons=["ip_not_allowed"], allowed="false") == 2
    assert await count(ip="203.0.113.0/24") == 2
    assert await count(**{"from": (START + timedelta(minutes=30)).isoformat()}) == 2


async def test_csv_has_a_header_and_defuses_formulas(
    http: httpx.AsyncClient, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world)
    await add_calls(
        session,
        world.workspace.id,
        method="+SUM",
        path='=HYPERLINK("http://evil.example","x")',
        api_identifier="@orders",
        request_id="-1+1",
    )
    response = await export(http, world, token, "csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert list(table[0]) == [
        "id", "at", "principalType", "principalId", "apiIdentifier", "apiId", "operationId",
        "method", "path", "ip", "reason", "allowed", "latencyMicroseconds", "requestId",
    ]  # fmt: skip
    (row,) = table
    assert row["path"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (row["method"], row["apiIdentifier"], row["requestId"]) == ("'+SUM", "'@orders", "'-1+1")
    assert (row["ip"], row["allowed"], row["principalId"]) == ("198.51.100.4", "true", "")


async def test_the_console_session_and_its_cookie_work_too(
    http: httpx.AsyncClient, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    await add_calls(session, world.workspace.id, 2)
    signed_in = await http.post("/auth/key", json={"key": key})
    assert signed_in.status_code == 200, signed_in.text
    # A GET needs no CSRF header: it changes nothing.
    assert len(lines(await http.get(url(world), params=WINDOW))) == 2


async def test_who_may_not_read_the_log_is_refused(
    http: httpx.AsyncClient, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    await add_calls(session, world.workspace.id, 2)
    viewer = await scenario.api_key(world, "Viewer")
    stranger = await scenario.workspace()
    strangers_key = await scenario.api_key(stranger)

    missing = await export(http, world, None)
    assert (missing.status_code, missing.json()["error"]) == (401, "unauthenticated")
    wrong = await export(http, world, "apk_not_a_real_key")
    assert wrong.status_code == 401
    forbidden = await export(http, world, viewer)
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
    foreign = await export(http, world, strangers_key)
    assert (foreign.status_code, foreign.json()["error"]) == (404, "not_found")
    response = await http.get(
        "/v1/workspaces/not-an-id/calls.ndjson", headers={"Authorization": f"Bearer {viewer}"}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "workspaceId"


async def test_bad_parameters_are_400_naming_them(http: httpx.AsyncClient, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world)
    now = datetime.now(UTC)
    for params, field in (
        ({"ip": "10.0.0.0/99"}, "ip"),
        ({"allowed": "maybe"}, "allowed"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-03-01T12:00:00"}, "from"),  # no time zone
        ({"apiIds": gid("Plan", world.workspace.id)}, "apiIds"),
        ({"reasons": ",".join(["ok"] * 101)}, "reasons"),
        ({"colour": "blue"}, "colour"),
        ({"from": (now - timedelta(days=40)).isoformat(), "to": now.isoformat()}, "from"),
    ):
        response = await http.get(
            url(world), params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 400, (params, response.text)
        assert response.json()["field"] == field, params
    unknown = await http.get(
        f"/v1/workspaces/{world.id}/calls.xlsx", headers={"Authorization": f"Bearer {token}"}
    )
    assert unknown.status_code == 404
