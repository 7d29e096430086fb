"""Group sync rules, on the service: only mapped groups move, every workspace of the person,
nothing written when nothing changes."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import AuditEvent, GroupMember
from accessplane.services import group_sync, groups
from accessplane.services.group_sync import claim_values, sync_actor, sync_user_groups
from tests.support.scenario import Scenario, World

ISSUER = "https://idp.example"


async def groups_of(session: AsyncSession, member_id: uuid.UUID) -> set[uuid.UUID]:
    session.expire_all()
    rows = await session.scalars(
        select(GroupMember.group_id).where(GroupMember.member_id == member_id)
    )
    return set(rows)


async def map_group(session: AsyncSession, world: World, group_id: uuid.UUID, *values: str) -> None:
    await group_sync.set_group_claim_mapping(
        session=session,
        actor=world.owner.principal,
        group_id=group_id,
        issuer=ISSUER,
        claim_values=list(values),
        known_issuers=[ISSUER],
    )


async def test_sync_moves_only_mapped_groups_in_every_workspace(
    session: AsyncSession, scenario: Scenario
) -> None:
    acme, globex = await scenario.workspace(), await scenario.workspace()
    email = "sam@example.com"
    at_acme = await scenario.member(acme, email=email)
    at_globex = await scenario.member(globex, email=email)
    acme_ops, acme_manual = await scenario.group(acme, "Ops"), await scenario.group(acme, "Manual")
    globex_ops = await scenario.group(globex, "Ops", [at_globex])
    await map_group(session, acme, acme_ops.id, "ops")
    await map_group(session, globex, globex_ops.id, "ops", "sre")
    await groups.add_group_members(
        session=session,
        actor=acme.owner.principal,
        group_id=acme_manual.id,
        member_ids=[at_acme.member.id],
    )
    ids = (at_acme.member.id, at_globex.member.id, acme_ops.id, acme_manual.id, globex_ops.id)
    user_id = at_acme.user.id

    added = await sync_user_groups(
        session=session, user_id=user_id, issuer=ISSUER, values=["ops"], actor=sync_actor(ISSUER)
    )

    assert [(c.group_id, c.added) for c in added] == [(ids[2], True)]
    assert await groups_of(session, ids[0]) == {ids[2], ids[3]}
    assert await groups_of(session, ids[1]) == {ids[4]}

    removed = await sync_user_groups(
        session=session, user_id=user_id, issuer=ISSUER, values=[], actor=sync_actor(ISSUER)
    )

    assert {(c.group_id, c.added) for c in removed} == {(ids[2], False), (ids[4], False)}
    assert await groups_of(session, ids[0]) == {ids[3]}  # the hand-made group stays
    assert await groups_of(session, ids[1]) == set()


async def test_sync_writes_nothing_when_nothing_changes(
    session: AsyncSession, scenario: Scenario
) -> None:
    world = await scenario.workspace()
    person = await scenario.member(world)
    group = await scenario.group(world, "Ops", [person])
    await map_group(session, world, group.id, "ops")
    user_id = person.user.id

    async def events() -> int:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "syncGroupMembers")
            )
            or 0
        )

    changes = await sync_user_groups(
        session=session, user_id=user_id, issuer=ISSUER, values=["ops"], actor=sync_actor(ISSUER)
    )
    other_issuer = await sync_user_groups(
        session=session,
        user_id=user_id,
        issuer="https://other.example",
        values=[],
        actor=sync_actor("https://other.example"),
    )

    assert changes == []
    assert other_issuer == []
    assert await events() == 0


def test_claim_values_reads_lists_and_space_separated_strings() -> None:
    assert claim_values({"groups": ["a", "b", 3]}, "groups") == ["a", "b"]
    assert claim_values({"groups": "a b"}, "groups") == ["a", "b"]
    assert claim_values({"groups": {"a": 1}}, "groups") == []
    assert claim_values({}, "groups") is None  # absent: no sync at all
