"""Who reaches each API, and which APIs each member reaches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accessplane import access_rule
from accessplane.auth.principals import Principal
from accessplane.loaders.base import PageLoader
from accessplane.models import Api, ApiGrant, Group, Member, User
from accessplane.services.pagination import Column
from accessplane.services.scoping import accessible_api_clause


class PeopleByApiIdLoader(PageLoader[Member]):
    """Members granted each API directly, by email."""

    entity = Member

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(Member)
            .join(ApiGrant, col(ApiGrant.member_id) == col(Member.id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(ApiGrant.api_id).in_(parent_ids))
        )
        return query, col(ApiGrant.api_id)

    def sort(self) -> Sequence[Column]:
        return [col(User.email), col(Member.id)]


class GroupsByApiIdLoader(PageLoader[Group]):
    """Groups granted each API, by name."""

    entity = Group

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(Group)
            .join(ApiGrant, col(ApiGrant.group_id) == col(Group.id))
            .where(col(ApiGrant.api_id).in_(parent_ids))
        )
        return query, col(ApiGrant.api_id)

    def sort(self) -> Sequence[Column]:
        return [col(Group.name), col(Group.id)]


class ApisByMemberIdLoader(PageLoader[Api]):
    """Each member's effective APIs by the access rule (direct grants, group grants, a role
    with allApis), limited to the APIs the viewer can reach: seeing a member does not reveal
    APIs hidden from one."""

    entity = Api

    def __init__(self, session: AsyncSession, viewer: Principal) -> None:
        super().__init__(session)
        self.viewer = viewer

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        # The rule starts from the members' grants, not from the workspace's APIs: the cost
        # follows what the members reach, whatever the size of the workspace.
        reach = access_rule.reached(parent_ids).subquery("reach")
        visible = or_(
            false(),
            *(
                and_(
                    col(Api.workspace_id) == workspace_id,
                    accessible_api_clause(self.viewer, workspace_id),
                )
                for workspace_id in self.viewer.memberships
            ),
        )
        query = select(Api).join(reach, reach.c.api_id == col(Api.id)).where(visible)
        return query, reach.c.member_id

    def sort(self) -> Sequence[Column]:
        return [col(Api.name), col(Api.id)]
