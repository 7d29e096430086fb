"""API Access over GraphQL: the lifecycle mutations, the table query, authentication with keys,
usage counters, and notification settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.tokens import token_digest
from accessplane.models import ApiAccess, AuditEvent, NotificationSettings
from accessplane.services.roles import PermissionSpec
from tests.conftest import SECRET
from tests.support.db import count
from tests.support.scenario import Scenario, World, gid
from tests.support.statements import statements_per_page

FIELDS = """
  id accessId name description tags type expiresAt status tokenHint createdBy createdAt
  lastUsedAt usageCount role { name }
"""
CREATE = f"""
mutation Create($input: CreateApiAccessInput!) {{
  createApiAccess(input: $input) {{
    token apiAccess {{ {FIELDS} }} userErrors {{ field message code }}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateApiAccessInput!) {{
  updateApiAccess(input: $input) {{ apiAccess {{ {FIELDS} }} userErrors {{ field message code }} }}
}}
"""
REGENERATE = """
mutation Regenerate($input: RegenerateApiAccessInput!) {
  regenerateApiAccess(input: $input) {
    token apiAccess { id tokenHint expiresAt } userErrors { field message code }
  }
}
"""
DELETE = """
mutation Delete($input: DeleteApiAccessesInput!) {
  deleteApiAccesses(input: $input) { deletedApiAccessIds userErrors { field message code } }
}
"""
LIST = f"""
query Keys($id: ID!, $first: Int, $after: String, $filter: ApiAccessFilter,
           $orderBy: ApiAccessOrder) {{
  workspace(id: $id) {{
    apiAccesses(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {FIELDS} }} }}
    }}
  }}
}}
"""
NODE = """
query Node($id: ID!) { node(id: $id) { id ... on ApiAccess { name usageCount lastUsedAt } } }
"""
VIEWER = "{ viewer { kind name } }"
SETTINGS = """
mutation Settings($input: UpdateNotificationSettingsInput!) {
  updateNotificationSettings(input: $input) {
    notificationSettings { subjects { kind subject isDefault } }
    userErrors { field message code }
  }
}
"""
READ_SETTINGS = """
query Read($id: ID!) {
  workspace(id: $id) { notificationSettings { subjects { kind subject isDefault } } }
}
"""


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def stored(session: AsyncSession, name: str) -> ApiAccess | None:
    row = await session.scalar(
        select(ApiAccess).where(ApiAccess.name == name).execution_options(populate_existing=True)
    )
    await session.commit()
    return row


def create_input(world: World, **overrides: Any) -> dict[str, Any]:
    values = {
        "workspaceId": world.id,
        "name": "ci-deploy",
        "description": "Deploys",
        "tags": ["ci"],
        "roleId": world.role_id("Developer"),
        "expiresAt": in_days(30),
    }
    values.update(overrides)
    return values


# --- createApiAccess ------------------------------------------------------------------------


async def test_create_returns_the_token_once_and_it_authenticates(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    owner_key = await scenario.api_key(world)

    payload = (await graphql.as_key(owner_key).execute(CREATE, input=create_input(world))).payload(
        "createApiAccess"
    )

    token = payload["token"]
    node = payload["apiAccess"]
    assert token.startswith("apk_")
    assert node["tokenHint"] == token[-4:]
    assert (node["status"], node["type"], node["role"]["name"]) == (
        "ACTIVE",
        "API_KEY",
        "Developer",
    )
    assert node["usageCount"] == 0
    assert node["lastUsedAt"] is None
    row = await stored(session, "ci-deploy")
    assert row is not None
    assert row.token_digest == token_digest(token, SECRET.encode())
    assert (row.description, row.tags) == ("Deploys", ["ci"])
    assert node["accessId"] == str(row.id)
    assert node["id"] == gid("ApiAccess", row.id)
    assert await count(session, AuditEvent, AuditEvent.action == "createApiAccess") == 1
    viewer = (await graphql.as_key(token).execute(VIEWER)).ok()["viewer"]
    assert viewer == {"kind": "API_ACCESS", "name": "ci-deploy"}


async def test_create_with_bad_input_is_user_errors_and_writes_nothing(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE,
        input=create_input(
            world,
            name=" ",
            tags=["Not ok!"],
            expiresAt=in_days(-1),
            roleId=gid("Role", world.workspace.id),
        ),
    )

    errors = {e["field"]: e["code"] for e in result.user_errors("createApiAccess")}
    assert errors == {
        "name": "REQUIRED",
        "tags": "INVALID",
        "expiresAt": "INVALID",
        "roleId": "NOT_FOUND",
    }
    assert result.ok()["createApiAccess"]["token"] is None
    assert await count(session, ApiAccess) == 0


async def test_create_beyond_the_maximum_lifetime_is_a_user_error(graphql, scenario) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE, input=create_input(world, expiresAt=in_days(400))
    )

    [error] = result.user_errors("createApiAccess")
    assert (error["field"], error["code"]) == ("expiresAt", "INVALID")
    assert "365 days" in error["message"]


# --- updateApiAccess ------------------------------------------------------------------------


async def test_update_changes_the_entry(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, name="ci-deploy")

    node = (
        await graphql.as_principal(world.owner.principal).execute(
            UPDATE,
            input={
                "id": gid("ApiAccess", issued.api_access.id),
                "name": "ci-release",
                "tags": ["release", "ci"],
                "roleId": world.role_id("Viewer"),
            },
        )
    ).payload("updateApiAccess")["apiAccess"]

    assert (node["name"], node["tags"], node["role"]["name"]) == (
        "ci-release",
        ["release", "ci"],
        "Viewer",
    )
    row = await stored(session, "ci-release")
    assert row is not None
    assert row.role_id == world.roles["Viewer"].id
    assert row.token_digest == token_digest(issued.token, SECRET.encode())
    assert await count(session, AuditEvent, AuditEvent.action == "updateApiAccess") == 1


async def test_update_with_bad_input_writes_nothing(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, name="ci-deploy")
    await scenario.api_access(world, name="taken")

    result = await graphql.as_principal(world.owner.principal).execute(
        UPDATE,
        input={
            "id": gid("ApiAccess", issued.api_access.id),
            "name": "Taken",
            "description": "x" * 1001,
        },
    )

    errors = {e["field"]: e["code"] for e in result.user_errors("updateApiAccess")}
    assert errors == {"name": "DUPLICATE", "description": "TOO_LONG"}
    row = await stored(session, "ci-deploy")
    assert row is not None
    assert row.description == ""


# --- regenerateApiAccess --------------------------------------------------------------------


async def test_regenerate_makes_the_old_token_fail_on_the_next_request(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, "Admin", name="automation")
    assert (await graphql.as_key(issued.token).execute(VIEWER)).ok()

    payload = (
        await graphql.as_key(issued.token).execute(
            REGENERATE,
            input={"id": gid("ApiAccess", issued.api_access.id), "expiresAt": in_days(10)},
        )
    ).payload("regenerateApiAccess")

    old = await graphql.as_key(issued.token).execute(VIEWER)
    assert old.error_codes == ["UNAUTHENTICATED"]
    assert old.errors[0]["extensions"]["reason"] == "revoked"
    assert (await graphql.as_key(payload["token"]).execute(VIEWER)).ok()
    row = await stored(session, "automation")
    assert row is not None
    assert row.token_hint == payload["token"][-4:]
    assert row.expires_at is not None
    assert row.expires_at > datetime.now(UTC) + timedelta(days=9)


async def test_regenerate_with_a_grace_period_keeps_the_old_token_for_now(
    graphql, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, "Admin")

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            REGENERATE,
            input={
                "id": gid("ApiAccess", issued.api_access.id),
                "expiresAt": in_days(10),
                "gracePeriodSeconds": 600,
            },
        )
    ).payload("regenerateApiAccess")

    assert (await graphql.as_key(issued.token).execute(VIEWER)).ok()
    assert (await graphql.as_key(payload["token"]).execute(VIEWER)).ok()


async def test_regenerate_with_bad_input_changes_nothing(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, name="ci-deploy")

    result = await graphql.as_principal(world.owner.principal).execute(
        REGENERATE,
        input={
            "id": gid("ApiAccess", issued.api_access.id),
            "expiresAt": in_days(-1),
            "gracePeriodSeconds": 86400 * 2,
        },
    )

    errors = {e["field"]: e["code"] for e in result.user_errors("regenerateApiAccess")}
    assert errors == {"expiresAt": "INVALID", "gracePeriodSeconds": "INVALID"}
    row = await stored(session, "ci-deploy")
    assert row is not None
    assert row.token_digest == token_digest(issued.token, SECRET.encode())


# --- deleteApiAccesses ----------------------------------------------------------------------


async def test_delete_many_revokes_them_at_once(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    first, second, kept = [await scenario.api_access(world) for _ in range(3)]
    ids = [gid("ApiAccess", first.api_access.id), gid("ApiAccess", second.api_access.id)]

    payload = (
        await graphql.as_principal(world.owner.principal).execute(DELETE, input={"ids": ids})
    ).payload("deleteApiAccesses")

    assert sorted(payload["deletedApiAccessIds"]) == sorted(ids)
    assert await count(session, ApiAccess) == 1
    gone = await graphql.as_key(first.token).execute(VIEWER)
    assert gone.error_codes == ["UNAUTHENTICATED"]
    assert gone.errors[0]["extensions"]["reason"] == "revoked"
    assert (await graphql.as_key(kept.token).execute(VIEWER)).ok()


async def test_delete_with_bad_input_writes_nothing(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world)

    empty = await graphql.as_principal(world.owner.principal).execute(DELETE, input={"ids": []})
    wrong_type = await graphql.as_principal(world.owner.principal).execute(
        DELETE, input={"ids": [gid("ApiAccess", issued.api_access.id), world.id]}
    )

    assert [e["code"] for e in empty.user_errors("deleteApiAccesses")] == ["REQUIRED"]
    assert [e["code"] for e in wrong_type.user_errors("deleteApiAccesses")] == ["INVALID_ID"]
    assert await count(session, ApiAccess) == 1


async def test_delete_without_permission_or_of_another_workspace(
    graphql, scenario, session
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    viewer = await scenario.member(world, "Viewer")
    mine = await scenario.api_access(world)
    theirs = await scenario.api_access(other)

    forbidden = await graphql.as_principal(viewer.principal).execute(
        DELETE, input={"ids": [gid("ApiAccess", mine.api_access.id)]}
    )
    foreign = await graphql.as_principal(world.owner.principal).execute(
        DELETE,
        input={
            "ids": [gid("ApiAccess", mine.api_access.id), gid("ApiAccess", theirs.api_access.id)]
        },
    )

    assert forbidden.error_codes == ["FORBIDDEN"]
    assert foreign.error_codes == ["NOT_FOUND"]
    assert await count(session, ApiAccess) == 2


# --- authentication -------------------------------------------------------------------------


async def test_an_expired_key_is_unauthenticated_with_its_reason(graphql, scenario) -> None:
    world = await scenario.workspace()
    token = await scenario.api_key(world, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    result = await graphql.as_key(token).execute(VIEWER)

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["extensions"]["reason"] == "expired"


async def test_usage_is_counted_and_shown_in_the_detail_view(
    app, graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    issued = await scenario.api_access(world, "Admin", name="busy")

    # The lifespan installs the usage counter; leaving it flushes the counts.
    async with app.router.lifespan_context(app):
        for _ in range(3):
            assert (await graphql.as_key(issued.token).execute(VIEWER)).ok()
    detail = (
        await graphql.as_principal(world.owner.principal).execute(
            NODE, id=gid("ApiAccess", issued.api_access.id)
        )
    ).ok()["node"]

    assert detail["usageCount"] == 3
    assert detail["lastUsedAt"] is not None


# --- Workspace.apiAccesses ------------------------------------------------------------------


async def test_the_table_filters_sorts_and_pages(graphql, scenario: Scenario) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    await scenario.api_access(
        world, name="alpha", tags=["ci", "prod"], expires_at=datetime.now(UTC) + timedelta(days=3)
    )
    await scenario.api_access(
        world,
        "Viewer",
        name="beta",
        tags=["ci"],
        description="Nightly",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    await scenario.api_key(
        world, "Viewer", name="gamma", expires_at=datetime.now(UTC) - timedelta(days=1)
    )
    await scenario.api_access(other, name="elsewhere")
    owner = graphql.as_principal(world.owner.principal)

    async def names(**variables: Any) -> list[str]:
        data = (await owner.execute(LIST, id=world.id, **variables)).ok()
        return [e["node"]["name"] for e in data["workspace"]["apiAccesses"]["edges"]]

    assert await names() == ["alpha", "beta", "gamma"]
    assert await names(filter={"status": "EXPIRED"}) == ["gamma"]
    assert await names(filter={"status": "ACTIVE"}) == ["alpha", "beta"]
    assert await names(filter={"roleIds": [world.role_id("Viewer")]}) == ["beta", "gamma"]
    assert await names(filter={"tags": ["ci", "prod"]}) == ["alpha"]
    assert await names(filter={"search": "night"}) == ["beta"]
    assert await names(orderBy={"field": "EXPIRES_AT"}) == ["gamma", "beta", "alpha"]
    assert await names(orderBy={"field": "NAME", "descending": True}) == ["gamma", "beta", "alpha"]
    assert await names(orderBy={"field": "CREATED_AT"}) == ["alpha", "beta", "gamma"]

    first = (await owner.execute(LIST, id=world.id, first=2)).ok()["workspace"]["apiAccesses"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"]
    rest = (
        await owner.execute(LIST, id=world.id, first=2, after=first["pageInfo"]["endCursor"])
    ).ok()["workspace"]["apiAccesses"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["gamma"]
    gamma = rest["edges"][0]["node"]
    assert (gamma["status"], gamma["role"]["name"], gamma["expiresAt"] is not None) == (
        "EXPIRED",
        "Viewer",
        True,
    )


async def test_the_table_costs_the_same_for_10_and_100_rows(
    graphql, scenario: Scenario, count_queries
) -> None:
    world = await scenario.workspace()
    roles = ["Developer", "Viewer", "Consumer"]
    for i in range(100):
        await scenario.api_access(world, roles[i % 3], name=f"key-{i:03}", tags=["ci"])
    owner = graphql.as_principal(world.owner.principal)

    async def page(first: int) -> None:
        data = (await owner.execute(LIST, id=world.id, first=first)).ok()
        assert len(data["workspace"]["apiAccesses"]["edges"]) == first

    statements = await statements_per_page(count_queries, page)

    assert statements[10] == statements[100]
    # the workspace, the page, its total count, the roles of the page
    assert statements[100] <= 4, count_queries.statements


# --- updateNotificationSettings -------------------------------------------------------------


async def test_notification_subjects_are_set_per_workspace(graphql, scenario, session) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)

    payload = (
        await owner.execute(
            SETTINGS,
            input={
                "workspaceId": world.id,
                "subjects": [{"kind": "EXPIRING", "subject": "[Acme] {{ key_name }} expires soon"}],
            },
        )
    ).payload("updateNotificationSettings")

    subjects = {s["kind"]: s for s in payload["notificationSettings"]["subjects"]}
    assert subjects["EXPIRING"] == {
        "kind": "EXPIRING",
        "subject": "[Acme] {{ key_name }} expires soon",
        "isDefault": False,
    }
    assert subjects["EXPIRED"]["isDefault"] is True
    row = await session.get(NotificationSettings, world.workspace.id)
    assert row is not None
    assert row.subjects == {"expiring": "[Acme] {{ key_name }} expires soon"}
    read = (await owner.execute(READ_SETTINGS, id=world.id)).ok()
    assert {
        s["kind"]: s["isDefault"] for s in read["workspace"]["notificationSettings"]["subjects"]
    }["EXPIRING"] is False

    reset = (
        await owner.execute(
            SETTINGS,
            input={"workspaceId": world.id, "subjects": [{"kind": "EXPIRING", "subject": ""}]},
        )
    ).payload("updateNotificationSettings")
    assert all(s["isDefault"] for s in reset["notificationSettings"]["subjects"])
    audited = AuditEvent.action == "updateNotificationSettings"
    assert await count(session, AuditEvent, audited) == 2


@pytest.mark.parametrize(
    "subject",
    ["{{ key_name ", "two\nlines", "x" * 201, "{{ ''.__class__.__mro__ }}", "{{ 1 / 0 }}"],
)
async def test_bad_notification_subjects_are_user_errors(
    graphql, scenario, session, subject: str
) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        SETTINGS,
        input={"workspaceId": world.id, "subjects": [{"kind": "EXPIRED", "subject": subject}]},
    )

    assert [e["field"] for e in result.user_errors("updateNotificationSettings")] == ["subjects"]
    assert await count(session, NotificationSettings) == 0


# --- bounded input ----------------------------------------------------------------------------


async def test_a_name_pattern_is_matched_in_linear_time(
    graphql, scenario: Scenario, session
) -> None:
    """``(a+)+$`` against 99 ``a`` and a ``!`` would backtrack for longer than the age of the
    universe; the answer is an immediate PATTERN_MISMATCH."""
    world = await scenario.workspace()
    await scenario.custom_role(
        world,
        "Nested",
        [PermissionSpec("createApiAccess", name_pattern="(a+)+$"), PermissionSpec("getRole")],
    )
    key = await scenario.api_key(world, "Nested")
    caller = graphql.as_key(key)

    refused = (
        await caller.execute(
            CREATE, input=create_input(world, name="a" * 99 + "!", roleId=world.role_id("Nested"))
        )
    ).user_errors("createApiAccess")
    accepted = (
        await caller.execute(
            CREATE, input=create_input(world, name="a" * 99, roleId=world.role_id("Nested"))
        )
    ).payload("createApiAccess")

    assert [(e["field"], e["code"]) for e in refused] == [("name", "PATTERN_MISMATCH")]
    assert accepted["apiAccess"]["name"] == "a" * 99
    assert await stored(session, "a" * 99 + "!") is None


async def test_too_many_tags_are_one_user_error_before_any_is_read(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)
    key = (await scenario.api_access(world, name="ci-deploy", tags=["ci"])).api_access

    created = (
        await owner.execute(
            CREATE, input=create_input(world, name="other", tags=["Not ok!"] * 10_000)
        )
    ).user_errors("createApiAccess")
    updated = (
        await owner.execute(
            UPDATE, input={"id": gid("ApiAccess", key.id), "tags": ["Not ok!"] * 10_000}
        )
    ).user_errors("updateApiAccess")

    for errors in (created, updated):
        assert errors == [
            {"field": "tags", "message": "At most 20 tags (10000 given).", "code": "INVALID"}
        ]
    assert await count(session, ApiAccess) == 1
    row = await stored(session, "ci-deploy")
    assert row is not None
    assert row.tags == ["ci"]


async def test_a_huge_tag_is_echoed_as_a_short_excerpt(graphql, scenario: Scenario) -> None:
    world = await scenario.workspace()

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            CREATE, input=create_input(world, tags=["ok", "x" * 1_000_000])
        )
    ).user_errors("createApiAccess")

    assert [(e["field"], e["code"]) for e in errors] == [("tags", "INVALID")]
    assert errors[0]["message"].startswith(f"Tag '{'x' * 39}…' must be 1 to 50 ")


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ({"tags": [f"t{i}" for i in range(1000)]}, "Filter on at most 20 tags"),
        ({"tags": ["x" * 100_000]}, "Filter on at most 20 tags"),
        ({"search": "x" * 100_000}, "A search may be at most 200 characters."),
    ],
)
async def test_an_oversized_table_filter_is_a_bad_user_input_error(
    graphql, scenario: Scenario, filter: dict[str, Any], message: str
) -> None:
    world = await scenario.workspace()
    await scenario.api_access(world, name="alpha", tags=["ci"])

    result = await graphql.as_principal(world.owner.principal).execute(
        LIST, id=world.id, filter=filter
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"].startswith(message)
    assert len(result.errors[0]["message"]) < 200


@pytest.mark.parametrize(
    ("subject", "refused"),
    [
        ("{{ 9**10000000 }}", "the operator **"),  # would hold the server for half a minute
        ("{{ 9**1000 }}", "the operator **"),
        ('{{ "x" * 100000 }}', "the operator *"),
        ("{% for i in range(1000) %}{{ key_name }}{% endfor %}", "loops"),
        ("{{ range(10)|join }}", "function calls"),
        ("{{ key_name|center(100000) }}", "the filter 'center'"),
        ("{% set x = key_name %}{{ x }}", "{% set %}"),
        ("{{ key_name.upper() }}", "function calls"),
    ],
)
async def test_a_subject_with_unbounded_cost_is_refused_when_saved(
    graphql, scenario, session, subject: str, refused: str
) -> None:
    world = await scenario.workspace()

    result = await graphql.as_principal(world.owner.principal).execute(
        SETTINGS,
        input={"workspaceId": world.id, "subjects": [{"kind": "EXPIRED", "subject": subject}]},
    )

    [error] = result.user_errors("updateNotificationSettings")
    assert (error["field"], error["code"]) == ("subjects", "INVALID")
    assert error["message"].startswith(f"expired: A subject may not use {refused}")
    assert await count(session, NotificationSettings) == 0


async def test_a_subject_whose_filters_would_grow_without_bound_is_refused(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    # Each join puts "xx" between the characters: the text triples at every step.
    subject = "{{ key_name" + '|join("xx")' * 14 + " }}"

    result = await graphql.as_principal(world.owner.principal).execute(
        SETTINGS,
        input={"workspaceId": world.id, "subjects": [{"kind": "EXPIRED", "subject": subject}]},
    )

    [error] = result.user_errors("updateNotificationSettings")
    assert error["message"] == "expired: The filter 'join' produced too long a text."
    assert await count(session, NotificationSettings) == 0


async def test_a_subject_may_use_placeholders_conditions_and_simple_filters(
    graphql, scenario, session
) -> None:
    world = await scenario.workspace()
    subject = (
        '[{{ workspace_name|upper }}] "{{ key_name|truncate(20) }}" in {{ days_left + 0 }} '
        'day{{ "" if days_left == 1 else "s" }}{% if days_left < 2 %} (last notice){% endif %}'
    )

    payload = (
        await graphql.as_principal(world.owner.principal).execute(
            SETTINGS,
            input={
                "workspaceId": world.id,
                "subjects": [{"kind": "EXPIRING", "subject": subject}],
            },
        )
    ).payload("updateNotificationSettings")

    subjects = {s["kind"]: s["subject"] for s in payload["notificationSettings"]["subjects"]}
    assert subjects["EXPIRING"] == subject
    row = await session.get(NotificationSettings, world.workspace.id)
    assert row is not None
    assert row.subjects == {"expiring": subject}
