"""createClient (with multipart logo uploads), updateClient, setClientActive, deleteClient,
Workspace.clients and the logo route over GraphQL and HTTP."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest
from sqlalchemy import select

from accessplane.models import (
    AccessProfile,
    AccessProfileRevocation,
    AuditEvent,
    Client,
    ClientLogo,
    ClientMember,
)
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

FIELDS = "id name description logoUrl active"
CREATE = f"""
mutation Create($input: CreateClientInput!) {{
  createClient(input: $input) {{ client {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateClientInput!) {{
  updateClient(input: $input) {{ client {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
SET_ACTIVE = f"""
mutation SetActive($input: SetClientActiveInput!) {{
  setClientActive(input: $input) {{ client {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
DELETE = """
mutation Delete($input: DeleteClientInput!) {
  deleteClient(input: $input) { deletedClientId userErrors { field message code } }
}
"""
LIST = """
query Clients($id: ID!, $first: Int, $filter: ClientFilter) {
  workspace(id: $id) {
    clients(first: $first, filter: $filter) {
      totalCount
      edges { node {
        name active
        members(first: 5) { totalCount edges { node { user { email } } } }
        accessProfiles(first: 5) {
          totalCount edges { node { name authMethod products { name } plan { name } } }
        }
      } }
    }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Client { name } } }"


def png(size: int = 64) -> bytes:
    """A real 1x1 PNG, padded with an ancillary chunk to ``size`` bytes or more."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    padding = chunk(b"tEXt", b"pad\x00" + b"x" * max(0, size - 70))
    return b"\x89PNG\r\n\x1a\n" + header + padding + pixels + chunk(b"IEND", b"")


def create_input(world: World, **overrides: Any) -> dict[str, Any]:
    return {"workspaceId": world.id, "name": "Partner Ltd", "description": "Resells", **overrides}


# --- createClient ---------------------------------------------------------------------------


async def test_create_client_with_members_and_a_logo_url(graphql, scenario: Scenario, session):
    world = await scenario.workspace()
    consumer = await scenario.member(world, "Consumer")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE,
            input=create_input(
                world, logoUrl="https://cdn.example.com/logo.png", memberIds=[consumer.id]
            ),
        )
    ).payload("createClient")

    assert payload["client"]["logoUrl"] == "https://cdn.example.com/logo.png"
    assert payload["client"]["active"] is True
    stored = await session.scalar(select(Client).where(Client.name == "Partner Ltd"))
    assert stored is not None
    assert stored.workspace_id == world.workspace.id
    assert (stored.description, stored.has_logo) == ("Resells", False)
    members = (await session.scalars(select(ClientMember.member_id))).all()
    assert members == [consumer.member.id]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "createClient"))
    assert event is not None
    assert event.target_id == stored.id


async def test_create_client_with_an_uploaded_png_serves_it(graphql, scenario, session, http):
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    image = png()

    result = await graphql.multipart(
        CREATE,
        {"input": create_input(world, logo=None)},
        {"variables.input.logo": ("logo.jpg", image, "application/octet-stream")},
        key,
    )

    client = result.payload("createClient")["client"]
    assert client["logoUrl"].startswith("/logos/")
    logo = await session.scalar(select(ClientLogo))
    assert logo is not None
    assert logo.content_type == "image/png"
    assert logo.data == image
    served = await http.get(client["logoUrl"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content == image
    assert (await http.get(f"/logos/{world.workspace.id}")).status_code == 404
    assert (await http.get("/logos/not-a-uuid")).status_code == 404


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, "INVALID"),  # a GIF named .png: judged by its bytes
        (b"", "REQUIRED"),
        (None, "TOO_LONG"),  # one byte over the limit
    ],
    ids=["gif", "empty", "too-big"],
)
async def test_create_client_refuses_a_bad_upload_and_writes_nothing(
    graphql, scenario, session, data, code
) -> None:
    world = await scenario.workspace()
    key = await scenario.api_key(world)
    content = data if data is not None else png(graphql.settings.client_logo_max_bytes + 1)

    result = await graphql.multipart(
        CREATE,
        {"input": create_input(world, logo=None)},
        {"variables.input.logo": ("logo.png", content, "image/png")},
        key,
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("createClient")] == [("logo", code)]
    assert await count(session, Client) == 0
    assert await count(session, ClientLogo) == 0


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"name": " "}, "name", "REQUIRED"),
        ({"name": "x" * 101}, "name", "TOO_LONG"),
        ({"name": "taken"}, "name", "DUPLICATE"),
        ({"logoUrl": "http://cdn.example.com/logo.png"}, "logoUrl", "INVALID"),
        ({"logoUrl": "javascript:alert(1)"}, "logoUrl", "INVALID"),
        ({"memberIds": ["member"]}, "memberIds", "NOT_FOUND"),
        ({"logo": "not a file"}, "logo", "INVALID"),
    ],
)
async def test_create_client_refuses_bad_input_and_writes_nothing(
    graphql, scenario, session, override, field, code
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    await scenario.client(world, "Taken")
    if override.get("memberIds") == ["member"]:
        override = {"memberIds": [other.owner.id]}  # a member of another workspace
    before = await count(session, Client), await count(session, AuditEvent)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world, **override)
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("createClient")] == [(field, code)]
    assert (await count(session, Client), await count(session, AuditEvent)) == before


# --- updateClient ---------------------------------------------------------------------------


async def test_update_client_replaces_members_and_the_logo(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    first, second = await scenario.consumer(world), await scenario.consumer(world)
    client = await scenario.client(
        world, "Partner", members=[first], logo_url="https://a.example/l.png"
    )
    key = await scenario.api_key(world)

    result = await graphql.multipart(
        UPDATE,
        {
            "input": {
                "id": gid("Client", client.id),
                "name": "Partner GmbH",
                "memberIds": [second.id],
                "logo": None,
            }
        },
        {"variables.input.logo": ("x.png", png(), "image/png")},
        key,
    )

    updated = result.payload("updateClient")["client"]
    assert updated["name"] == "Partner GmbH"
    assert updated["logoUrl"].startswith("/logos/")
    stored = await session.get(Client, client.id, populate_existing=True)
    assert stored is not None
    assert stored.has_logo
    assert stored.logo_url == ""
    assert (await session.scalars(select(ClientMember.member_id))).all() == [second.member.id]

    removed = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE, input={"id": gid("Client", client.id), "removeLogo": True}
        )
    ).payload("updateClient")["client"]
    assert removed["logoUrl"] is None
    assert await count(session, ClientLogo) == 0
    assert await count(session, AuditEvent, AuditEvent.action == "updateClient") == 2


async def test_update_client_refuses_bad_input_and_changes_nothing(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    await scenario.client(world, "Other")

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE,
        input={"id": gid("Client", client.id), "name": "other", "logoUrl": "ftp://x.example"},
    )

    assert {(e["field"], e["code"]) for e in result.user_errors("updateClient")} == {
        ("name", "DUPLICATE"),
        ("logoUrl", "INVALID"),
    }
    stored = await session.get(Client, client.id, populate_existing=True)
    assert stored is not None
    assert stored.name == "Partner"
    assert stored.logo_url == ""


# --- setClientActive ------------------------------------------------------------------------


async def test_set_client_active_stores_it_and_audits_it(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            SET_ACTIVE, input={"id": gid("Client", client.id), "active": False}
        )
    ).payload("setClientActive")

    assert payload["client"]["active"] is False
    stored = await session.get(Client, client.id, populate_existing=True)
    assert stored is not None
    assert stored.active is False
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "setClientActive"))
    assert event is not None
    assert (event.before, event.after) == ({"active": True}, {"active": False})


async def test_set_client_active_with_a_wrong_id_is_a_user_error(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    result = await graphql.as_principal(world.owner.principal).execute(
        SET_ACTIVE, input={"id": gid("Plan", client.id), "active": False}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("setClientActive")] == [
        ("id", "INVALID_ID")
    ]
    assert (await session.get(Client, client.id, populate_existing=True)).active is True


async def test_set_client_active_needs_manage_clients(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    consumer = await scenario.consumer(world, client)  # a member of it, but not a manager

    result = await graphql.as_principal(consumer.principal).execute(
        SET_ACTIVE, input={"id": gid("Client", client.id), "active": False}
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert (await session.get(Client, client.id, populate_existing=True)).active is True


# --- deleteClient ---------------------------------------------------------------------------


async def test_delete_client_deletes_its_apps_and_revokes_their_tokens(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")
    app = await scenario.app(world, client, "Mobile")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            DELETE, input={"id": gid("Client", client.id)}
        )
    ).payload("deleteClient")

    assert payload["deletedClientId"] == gid("Client", client.id)
    assert await count(session, Client) == 0
    assert await count(session, AccessProfile) == 0
    revocation = await session.scalar(select(AccessProfileRevocation))
    assert revocation is not None
    assert revocation.token_digest == app.access_profile.token_digest
    assert revocation.reason == "deleted"
    assert await count(session, AuditEvent, AuditEvent.action == "deleteClient") == 1


async def test_delete_client_with_another_types_id_is_a_user_error(graphql, scenario, session):
    world = await scenario.workspace()
    client = await scenario.client(world, "Partner")

    result = await graphql.as_principal(world.owner.principal).execute(
        DELETE, input={"id": gid("Api", client.id)}
    )

    assert [(e["field"], e["code"]) for e in result.user_errors("deleteClient")] == [
        ("id", "INVALID_ID")
    ]
    assert await count(session, Client) == 1


# --- Workspace.clients and node(id) ---------------------------------------------------------


async def test_consumers_see_only_their_own_clients(graphql, scenario) -> None:
    world = await scenario.workspace()
    mine = await scenario.client(world, "Mine")
    await scenario.client(world, "Theirs")
    consumer = await scenario.consumer(world, mine)
    viewer = await scenario.member(world, "Viewer")

    def names(data: dict[str, Any]) -> list[str]:
        return [e["node"]["name"] for e in data["workspace"]["clients"]["edges"]]

    consumer_query = LIST.replace(
        "members(first: 5) { totalCount edges { node { user { email } } } }", ""
    )
    seen = (
        await graphql.as_principal(consumer.principal).execute(consumer_query, id=world.id)
    ).ok()
    assert names(seen) == ["Mine"]
    assert seen["workspace"]["clients"]["totalCount"] == 1
    assert names(
        (await graphql.as_principal(viewer.principal).execute(LIST, id=world.id)).ok()
    ) == [
        "Mine",
        "Theirs",
    ]
    theirs = (await graphql.as_principal(world.owner.principal).execute(LIST, id=world.id)).ok()
    assert names(theirs) == ["Mine", "Theirs"]
    hidden = await graphql.as_principal(consumer.principal).execute(
        NODE, id=gid("Client", (await scenario.client(world, "Hidden")).id)
    )
    assert hidden.error_codes == ["NOT_FOUND"]
    assert (
        await graphql.as_principal(consumer.principal).execute(NODE, id=gid("Client", mine.id))
    ).ok()["node"]["name"] == "Mine"
    # Consumers do not list a client's members (that needs getClient).
    members = await graphql.as_principal(consumer.principal).execute(LIST, id=world.id)
    assert "FORBIDDEN" in members.error_codes


async def test_the_clients_filter(graphql, scenario) -> None:
    world = await scenario.workspace()
    await scenario.client(world, "Alpha")
    beta = await scenario.client(world, "Beta")
    await graphql.as_principal(world.owner.principal).execute(
        SET_ACTIVE, input={"id": gid("Client", beta.id), "active": False}
    )

    inactive = (
        await graphql.as_principal(world.owner.principal).execute(
            LIST, id=world.id, filter={"active": False}
        )
    ).ok()
    searched = (
        await graphql.as_principal(world.owner.principal).execute(
            LIST, id=world.id, filter={"search": "alp"}
        )
    ).ok()

    assert [e["node"]["name"] for e in inactive["workspace"]["clients"]["edges"]] == ["Beta"]
    assert [e["node"]["name"] for e in searched["workspace"]["clients"]["edges"]] == ["Alpha"]


async def test_the_clients_list_costs_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries
) -> None:
    world = await scenario.workspace()
    people = [await scenario.consumer(world) for _ in range(3)]
    plan = await scenario.plan(world)
    product = await scenario.product(world)
    for i in range(100):
        client = await scenario.client(world, f"Client {i:03}", members=people)
        for j in range(2):
            app = await scenario.app(world, client, f"App {j}", products=[product])
            await scenario.session.execute(
                AccessProfile.__table__.update()  # type: ignore[attr-defined]
                .where(AccessProfile.__table__.c.id == app.access_profile.id)  # type: ignore[attr-defined]
                .values(plan_id=plan.id)
            )
    await scenario.session.commit()
    caller = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await caller.execute(LIST, id=world.id, first=first)).ok()
        edges = data["workspace"]["clients"]["edges"]
        assert len(edges) == first
        assert edges[-1]["node"]["members"]["totalCount"] == 3
        assert edges[-1]["node"]["accessProfiles"]["edges"][0]["node"]["plan"]["name"] == plan.name

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100], statements
    assert statements[100] <= 10, statements
