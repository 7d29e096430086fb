"""Who reaches each API, and which APIs each member reaches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Principal
from accessplane.loaders.base import PageLoader
from accessplane.models import Api, ApiGrant, Group, GroupMember, Member, Role, User
from accessplane.services.scoping import accessible_api_clause


class PeopleByApiIdLoader(PageLoader[Member]):
    """Members granted each API directly, by email."""

    entity = Member

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], ColumnElement[Any]]:
        query = (
            select(Member)
            .join(ApiGrant, ApiGrant.member_id == Member.id)
            .join(User, User.id == Member.user_id)
            .where(ApiGrant.api_id.in_(parent_ids))
        )
        return query, ApiGrant.api_id

    def sort(self) -> Sequence[ColumnElement[Any]]:
        return [User.email, Member.id]


class GroupsByApiIdLoader(PageLoader[Group]):
    """Groups granted each API, by name."""

    entity = Group

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], ColumnElement[Any]]:
        query = (
            select(Group)
            .join(ApiGrant, ApiGrant.group_id == Group.id)
            .where(ApiGrant.api_id.in_(parent_ids))
        )
        return query, ApiGrant.api_id

    def sort(self) -> Sequence[ColumnElement[Any]]:
        return [Group.name, Group.id]


class ApisByMemberIdLoader(PageLoader[Api]):
    """Each member's effective APIs (role with allApis, direct grants, group grants), limited
    to the APIs the viewer can reach: seeing a member does not reveal APIs hidden from one."""

    entity = Api

    def __init__(self, session: AsyncSession, viewer: Principal) -> None:
        super().__init__(session)
        self.viewer = viewer

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], ColumnElement[Any]]:
        direct = exists().where(ApiGrant.api_id == Api.id, ApiGrant.member_id == Member.id)
        via_group = exists().where(
            ApiGrant.api_id == Api.id,
            ApiGrant.group_id == GroupMember.group_id,
            GroupMember.member_id == Member.id,
        )
        visible = or_(
            false(),
            *(
                and_(
                    Api.workspace_id == workspace_id,
                    accessible_api_clause(self.viewer, workspace_id),
                )
                for workspace_id in self.viewer.memberships
            ),
        )
        query = (
            select(Api)
            .join(Member, Member.workspace_id == Api.workspace_id)
            .join(Role, Role.id == Member.role_id)
            .where(Member.id.in_(parent_ids), or_(Role.all_apis, direct, via_group), visible)
        )
        return query, Member.id

    def sort(self) -> Sequence[ColumnElement[Any]]:
        return [Api.name, Api.id]
