"""Reading and arranging rows directly, for the assertions and bulk arrangements of tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.models import Group, GroupMember, Member, User
from tests.support.scenario import World


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    """The number of ``model`` rows matching ``where``; the read transaction ends at once, so
    the next count sees what requests committed meanwhile."""
    total = await session.scalar(select(func.count()).select_from(model).where(*where))
    await session.commit()
    return int(total or 0)


async def populate(
    session: AsyncSession, world: World, *, people: int, groups: int, role: str
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """``people`` members with ``role``, each in every one of ``groups`` groups, inserted at
    once (the arrangement of a statement-count test, far faster than the services); returns
    the member ids and the group ids. Emails are ``bulk000@example.com`` on, groups are named
    ``Team 000`` on."""
    users = [User(email=f"bulk{i:03}@example.com", name=f"Bulk {i}") for i in range(people)]
    session.add_all(users)
    await session.flush()
    role_id = world.roles[role].id
    members = [
        Member(workspace_id=world.workspace.id, user_id=u.id, role_id=role_id) for u in users
    ]
    teams = [Group(workspace_id=world.workspace.id, name=f"Team {i:03}") for i in range(groups)]
    session.add_all([*members, *teams])
    await session.flush()
    session.add_all(GroupMember(group_id=t.id, member_id=m.id) for m in members for t in teams)
    await session.commit()
    return [m.id for m in members], [t.id for t in teams]
