"""Groups' members and members' groups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.loaders.base import PageLoader
from accessplane.models import Group, GroupMember, Member, User
from accessplane.services.pagination import Column


class MembersByGroupIdLoader(PageLoader[Member]):
    """Each group's members, by email."""

    entity = Member

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(Member)
            .join(GroupMember, col(GroupMember.member_id) == col(Member.id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(GroupMember.group_id).in_(parent_ids))
        )
        return query, col(GroupMember.group_id)

    def sort(self) -> Sequence[Column]:
        return [col(User.email), col(Member.id)]


class GroupsByMemberIdLoader(PageLoader[Group]):
    """Each member's groups, by name."""

    entity = Group

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(Group)
            .join(GroupMember, col(GroupMember.group_id) == col(Group.id))
            .where(col(GroupMember.member_id).in_(parent_ids))
        )
        return query, col(GroupMember.member_id)

    def sort(self) -> Sequence[Column]:
        return [col(Group.name), col(Group.id)]
