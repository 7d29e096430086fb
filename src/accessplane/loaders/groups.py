"""Groups' members and members' groups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from accessplane.loaders.base import PageLoader
from accessplane.models import Group, GroupMember, Member, User


class MembersByGroupIdLoader(PageLoader[Member]):
    """Each group's members, by email."""

    entity = Member

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], ColumnElement[Any]]:
        query = (
            select(Member)
            .join(GroupMember, GroupMember.member_id == Member.id)
            .join(User, User.id == Member.user_id)
            .where(GroupMember.group_id.in_(parent_ids))
        )
        return query, GroupMember.group_id

    def sort(self) -> Sequence[ColumnElement[Any]]:
        return [User.email, Member.id]


class GroupsByMemberIdLoader(PageLoader[Group]):
    """Each member's groups, by name."""

    entity = Group

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], ColumnElement[Any]]:
        query = (
            select(Group)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.member_id.in_(parent_ids))
        )
        return query, GroupMember.member_id

    def sort(self) -> Sequence[ColumnElement[Any]]:
        return [Group.name, Group.id]
