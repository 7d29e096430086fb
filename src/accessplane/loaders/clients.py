"""Each client's members and apps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from accessplane.loaders.base import PageLoader
from accessplane.models import AccessProfile, ClientMember, Member, User
from accessplane.services.pagination import Column


class MembersByClientIdLoader(PageLoader[Member]):
    """The consumer members of each client, by email."""

    entity = Member

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = (
            select(Member)
            .join(ClientMember, col(ClientMember.member_id) == col(Member.id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(ClientMember.client_id).in_(parent_ids))
        )
        return query, col(ClientMember.client_id)

    def sort(self) -> Sequence[Column]:
        return [col(User.email), col(Member.id)]


class AccessProfilesByClientIdLoader(PageLoader[AccessProfile]):
    """The apps of each client, by name."""

    entity = AccessProfile

    def children(self, parent_ids: Sequence[uuid.UUID]) -> tuple[Select[Any], Column]:
        query = select(AccessProfile).where(col(AccessProfile.client_id).in_(parent_ids))
        return query, col(AccessProfile.client_id)

    def sort(self) -> Sequence[Column]:
        return [col(AccessProfile.name), col(AccessProfile.id)]
