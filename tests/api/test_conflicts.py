"""Races and integrity errors answer clearly: concurrent identical grants all succeed, and a
conflict no service foresaw is a CONFLICT userError with nothing written, never
"Unexpected error."."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from accessplane.db.conflicts import is_conflict
from accessplane.errors import Conflict
from accessplane.models import ApiGrant, AuditEvent, Group, GroupMember, Workspace
from accessplane.schema.build import Mutation
from accessplane.services import grants as grants_service
from accessplane.services import groups as groups_service
from accessplane.services.roles import PermissionSpec
from tests.support.db import count
from tests.support.graphql import Result
from tests.support.scenario import Scenario, gid

GRANT = """
mutation Grant($input: GrantApiAccessInput!) {
  grantApiAccess(input: $input) { memberIds groupIds userErrors { field message code } }
}
"""
REVOKE = """
mutation Revoke($input: RevokeApiAccessInput!) {
  revokeApiAccess(input: $input) { memberIds groupIds userErrors { field message code } }
}
"""
ADD_GROUP_MEMBERS = """
mutation AddGroupMembers($input: GroupMembersInput!) {
  addGroupMembers(input: $input) { group { name } userErrors { field message code } }
}
"""

RACERS = 50  # enough that overlaps happen on both databases


def answers(results: list[Result], name: str) -> list[Any]:
    """Each result's userErrors, or its GraphQL errors' codes when the operation failed."""
    return [
        r.error_codes if r.errors else r.data[name]["userErrors"]  # type: ignore[index]
        for r in results
    ]


async def test_identical_concurrent_grants_all_succeed_with_one_grant(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    person = await scenario.member(world)
    team = await scenario.group(world)
    caller = graphql.as_principal(world.owner.principal)
    grant = {
        "apiId": gid("Api", api.id),
        "memberIds": [person.id],
        "groupIds": [gid("Group", team.id)],
    }

    results = await asyncio.gather(*(caller.execute(GRANT, input=grant) for _ in range(RACERS)))

    assert answers(results, "grantApiAccess") == [[]] * RACERS
    # Exactly one of them made each grant, and says so; the others found it made.
    granted = [r.data["grantApiAccess"] for r in results]  # type: ignore[index]
    assert sum(g["memberIds"] == [person.id] for g in granted) == 1
    assert sum(g["groupIds"] == [gid("Group", team.id)] for g in granted) == 1
    assert await count(session, ApiGrant) == 2


async def test_concurrent_grants_and_revokes_of_one_pair_all_succeed(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    person = await scenario.member(world)
    caller = graphql.as_principal(world.owner.principal)
    pair = {"apiId": gid("Api", api.id), "memberIds": [person.id]}

    results = await asyncio.gather(
        *(caller.execute(GRANT if i % 2 else REVOKE, input=pair) for i in range(RACERS))
    )

    assert [r.errors for r in results] == [[]] * RACERS
    assert [
        r.data[name]["userErrors"]  # type: ignore[index]
        for r, name in zip(results, ["revokeApiAccess", "grantApiAccess"] * RACERS, strict=False)
    ] == [[]] * RACERS
    # What the answers say happened adds up to what is stored.
    made = sum(len(r.data["grantApiAccess"]["memberIds"]) for r in results[1::2])  # type: ignore[index]
    removed = sum(len(r.data["revokeApiAccess"]["memberIds"]) for r in results[::2])  # type: ignore[index]
    assert made - removed == await count(session, ApiGrant)


async def test_identical_concurrent_group_additions_all_succeed(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    people = [await scenario.member(world) for _ in range(3)]
    team = await scenario.group(world)
    caller = graphql.as_principal(world.owner.principal)
    add = {"groupId": gid("Group", team.id), "memberIds": [p.id for p in people]}

    results = await asyncio.gather(
        *(caller.execute(ADD_GROUP_MEMBERS, input=add) for _ in range(RACERS))
    )

    assert answers(results, "addGroupMembers") == [[]] * RACERS
    assert await count(session, GroupMember) == 3
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "addGroupMembers"))
    ).all()
    assert sorted(m for e in events for m in e.after["memberIds"]) == sorted(
        str(p.member.id) for p in people
    )


CREATE_GROUP = """
mutation CreateGroup($input: CreateGroupInput!) {
  createGroup(input: $input) { group { name } userErrors { field message code } }
}
"""


async def test_an_integrity_error_in_a_service_is_a_conflict_with_nothing_written(
    graphql, scenario: Scenario, session, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = await scenario.workspace()
    await scenario.group(world, "Taken")
    record = groups_service.record

    def record_and_collide(session, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        record(session, **kwargs)
        # A row no check foresaw: the commit meets the unique constraint on group names.
        session.add(Group(workspace_id=world.workspace.id, name="Taken"))

    monkeypatch.setattr(groups_service, "record", record_and_collide)
    caplog.set_level(logging.INFO)

    result = await graphql.as_principal(world.owner.principal).execute(
        CREATE_GROUP, input={"workspaceId": world.id, "name": "Fresh"}
    )

    assert result.errors == []
    assert result.data == {
        "createGroup": {
            "group": None,
            "userErrors": [
                {
                    "field": None,
                    "message": "A concurrent change won; nothing was written. Try again.",
                    "code": "CONFLICT",
                }
            ],
        }
    }
    assert await count(session, Group, Group.name == "Fresh") == 0
    assert await count(session, AuditEvent, AuditEvent.action == "createGroup") == 1  # "Taken"
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelno, r.exc_info) for r in logged] == [(logging.WARNING, None)]
    assert logged[0].getMessage().startswith("create_group lost to a concurrent change: ")
    assert "IntegrityError" in logged[0].getMessage()


class DeadlockDetected(Exception):
    """What PostgreSQL's driver raises when the server broke a deadlock by failing us."""

    sqlstate = "40P01"


async def test_a_deadlock_in_a_service_is_a_conflict_with_nothing_written(
    graphql, scenario: Scenario, session, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    person = await scenario.member(world)
    record = grants_service.record

    def record_and_deadlock(session, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        record(session, **kwargs)
        raise DBAPIError("INSERT INTO audit_event ...", {}, DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(grants_service, "record", record_and_deadlock)
    caplog.set_level(logging.INFO)

    errors = (
        await graphql.as_principal(world.owner.principal).execute(
            GRANT, input={"apiId": gid("Api", api.id), "memberIds": [person.id]}
        )
    ).user_errors("grantApiAccess")

    assert [(e["field"], e["code"]) for e in errors] == [(None, "CONFLICT")]
    assert await count(session, ApiGrant, ApiGrant.member_id == person.member.id) == 0
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelno, r.exc_info) for r in logged] == [(logging.WARNING, None)]


async def test_other_database_errors_stay_internal(
    graphql, scenario: Scenario, session, monkeypatch
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)
    person = await scenario.member(world)

    def broken(session, **kwargs: Any) -> None:  # type: ignore[no-untyped-def]
        raise DBAPIError("INSERT INTO audit_event ...", {}, Exception("disk I/O error"))

    monkeypatch.setattr(grants_service, "record", broken)

    result = await graphql.as_principal(world.owner.principal).execute(
        GRANT, input={"apiId": gid("Api", api.id), "memberIds": [person.id]}
    )

    # Not the caller's to retry: masked, and logged by the schema as the server's own error.
    assert [e["message"] for e in result.errors] == ["Unexpected error."]


def test_every_mutation_maps_user_errors_and_conflicts() -> None:
    unwrapped = [
        field.python_name
        for field in Mutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if not getattr(field.base_resolver.wrapped_func, "maps_user_errors", False)
    ]
    assert unwrapped == [], "decorate these resolvers with @user_errors_as_payload"


async def test_a_postgresql_serialization_failure_counts_as_a_conflict(
    engine, scenario: Scenario, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("serialization failures are PostgreSQL's; SQLite admits one writer at a time")
    world = await scenario.workspace()
    rename = update(Workspace).where(Workspace.id == world.workspace.id)

    async with engine.connect() as first, engine.connect() as second:
        await first.execution_options(isolation_level="REPEATABLE READ")
        await first.execute(select(Workspace.name).where(Workspace.id == world.workspace.id))
        await second.execute(rename.values(name="Renamed by the second"))
        await second.commit()
        with pytest.raises(DBAPIError) as failure:
            await first.execute(rename.values(name="Renamed by the first"))
        await first.rollback()

    assert not isinstance(failure.value, IntegrityError)
    assert is_conflict(failure.value)
    assert is_conflict(IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed")))
    assert not is_conflict(DBAPIError("SELECT …", {}, Exception("connection reset")))


UPDATE_GROUP = """
mutation UpdateGroup($input: UpdateGroupInput!) {
  updateGroup(input: $input) { group { name } userErrors { field message code } }
}
"""
DELETE_GROUP = """
mutation DeleteGroup($input: DeleteGroupInput!) {
  deleteGroup(input: $input) { deletedGroupId userErrors { field message code } }
}
"""
UPDATE_API = """
mutation UpdateApi($input: UpdateApiInput!) {
  updateApi(input: $input) { api { name } userErrors { field message code } }
}
"""
DELETE_API = """
mutation DeleteApi($input: DeleteApiInput!) {
  deleteApi(input: $input) { deletedApiId userErrors { field message code } }
}
"""


def verdict(result: Result, name: str) -> str:
    """ "ok", a userError code, or a GraphQL error code (e.g. NOT_FOUND)."""
    if result.errors:
        return str(result.error_codes[0] or result.errors[0]["message"])
    user_errors = result.data[name]["userErrors"]  # type: ignore[index]
    return user_errors[0]["code"] if user_errors else "ok"


async def test_editing_what_a_concurrent_request_deletes_is_never_an_internal_error(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    teams = [await scenario.group(world) for _ in range(RACERS // 4)]
    targets = [await scenario.api(world) for _ in range(RACERS // 4)]

    results = await asyncio.gather(
        *(
            call
            for i, team in enumerate(teams)
            for call in (
                caller.execute(UPDATE_GROUP, input={"id": gid("Group", team.id), "name": f"R{i}"}),
                caller.execute(DELETE_GROUP, input={"id": gid("Group", team.id)}),
            )
        ),
        *(
            call
            for i, api in enumerate(targets)
            for call in (
                caller.execute(UPDATE_API, input={"id": gid("Api", api.id), "name": f"R{i}"}),
                caller.execute(DELETE_API, input={"id": gid("Api", api.id)}),
            )
        ),
    )

    names = ["updateGroup", "deleteGroup"] * len(teams) + ["updateApi", "deleteApi"] * len(targets)
    verdicts = [verdict(r, n) for r, n in zip(results, names, strict=True)]
    # The deletion always wins in the end; the edit came before it, found it gone, or lost to it.
    assert set(verdicts[1::2]) == {"ok"}
    assert set(verdicts[::2]) <= {"ok", "NOT_FOUND", "CONFLICT"}, verdicts
    assert await count(session, Group, Group.id.in_([t.id for t in teams])) == 0


EXPLAIN = """
query Explain($workspace: ID!, $member: ID!, $api: ID!) {
  workspace(id: $workspace) { explainAccess(memberId: $member, apiId: $api) { hasAccess } }
}
"""


async def test_a_conflict_outside_a_mutation_is_a_graphql_error_with_its_code(
    graphql, scenario: Scenario, monkeypatch
) -> None:
    world = await scenario.workspace()
    api = await scenario.api(world)

    async def lost(**_: Any) -> None:
        raise Conflict()

    monkeypatch.setattr(grants_service, "explain_access", lost)

    result = await graphql.as_principal(world.owner.principal).execute(
        EXPLAIN, workspace=world.id, member=world.owner.id, api=gid("Api", api.id)
    )

    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        ("A concurrent change won; nothing was written. Try again.", "CONFLICT")
    ]


DELETE_ROLE = """
mutation DeleteRole($input: DeleteRoleInput!) {
  deleteRole(input: $input) { deletedRoleId userErrors { field message code } }
}
"""
REMOVE_MEMBER = """
mutation RemoveMember($input: RemoveMemberInput!) {
  removeMember(input: $input) { removedMemberId userErrors { field message code } }
}
"""


async def test_identical_concurrent_deletions_delete_once(
    graphql, scenario: Scenario, session
) -> None:
    world = await scenario.workspace()
    caller = graphql.as_principal(world.owner.principal)
    team = await scenario.group(world)
    api = await scenario.api(world)
    role = await scenario.custom_role(world, "Temporary", [PermissionSpec("getApi")])
    person = await scenario.member(world)
    deletions = {
        ("deleteGroup", "Group"): (DELETE_GROUP, gid("Group", team.id)),
        ("deleteApi", "Api"): (DELETE_API, gid("Api", api.id)),
        ("deleteRole", "Role"): (DELETE_ROLE, gid("Role", role.id)),
        ("removeMember", "Member"): (REMOVE_MEMBER, person.id),
    }
    racers = RACERS // 5

    for (name, target), (mutation, target_id) in deletions.items():
        results = await asyncio.gather(
            *(caller.execute(mutation, input={"id": target_id}) for _ in range(racers))
        )

        # One request deletes it; the others find it gone, as if they had come after.
        assert sorted(verdict(r, name) for r in results) == ["NOT_FOUND"] * (racers - 1) + ["ok"], (
            name
        )
        events = await count(
            session, AuditEvent, AuditEvent.action == name, AuditEvent.target_type == target
        )
        assert events == 1, name


async def test_adding_no_one_to_a_group_adds_no_one(graphql, scenario: Scenario, session) -> None:
    world = await scenario.workspace()
    team = await scenario.group(world, "Alone")

    result = await graphql.as_principal(world.owner.principal).execute(
        ADD_GROUP_MEMBERS, input={"groupId": gid("Group", team.id), "memberIds": []}
    )

    assert result.payload("addGroupMembers")["group"] == {"name": "Alone"}
    assert await count(session, GroupMember) == 0
