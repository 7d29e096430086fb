"""Per-request dataloaders: every relation and count is batched, never queried per row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from accessplane.auth.principals import Principal
from accessplane.loaders.base import ChildCountLoader
from accessplane.loaders.clients import AccessProfilesByClientIdLoader, MembersByClientIdLoader
from accessplane.loaders.entities import (
    AccessProfileByIdLoader,
    ClientByIdLoader,
    PlanByIdLoader,
    RoleByIdLoader,
    UserByIdLoader,
    WorkspaceByIdLoader,
)
from accessplane.loaders.grants import (
    ApisByMemberIdLoader,
    GroupsByApiIdLoader,
    PeopleByApiIdLoader,
)
from accessplane.loaders.groups import GroupsByMemberIdLoader, MembersByGroupIdLoader
from accessplane.loaders.products import (
    ApisByProductIdLoader,
    ProductsByAccessProfileIdLoader,
    ProductsByAccessRequestIdLoader,
)
from accessplane.loaders.usage import UsageByAccessProfileIdLoader


@dataclass
class Loaders:
    """One set per request, so nothing cached outlives it. Each page loader has a count loader
    that groups the same query by parent."""

    workspace_by_id: WorkspaceByIdLoader
    user_by_id: UserByIdLoader
    role_by_id: RoleByIdLoader
    people_by_api_id: PeopleByApiIdLoader
    people_count_by_api_id: ChildCountLoader
    groups_by_api_id: GroupsByApiIdLoader
    groups_count_by_api_id: ChildCountLoader
    apis_by_member_id: ApisByMemberIdLoader
    apis_count_by_member_id: ChildCountLoader
    members_by_group_id: MembersByGroupIdLoader
    members_count_by_group_id: ChildCountLoader
    groups_by_member_id: GroupsByMemberIdLoader
    groups_count_by_member_id: ChildCountLoader
    client_by_id: ClientByIdLoader
    access_profile_by_id: AccessProfileByIdLoader
    plan_by_id: PlanByIdLoader
    members_by_client_id: MembersByClientIdLoader
    members_count_by_client_id: ChildCountLoader
    access_profiles_by_client_id: AccessProfilesByClientIdLoader
    access_profiles_count_by_client_id: ChildCountLoader
    apis_by_product_id: ApisByProductIdLoader
    products_by_access_profile_id: ProductsByAccessProfileIdLoader
    products_by_access_request_id: ProductsByAccessRequestIdLoader
    usage_by_access_profile_id: UsageByAccessProfileIdLoader

    @classmethod
    def build(cls, session: AsyncSession, viewer: Principal) -> Loaders:
        people_by_api_id = PeopleByApiIdLoader(session)
        groups_by_api_id = GroupsByApiIdLoader(session)
        apis_by_member_id = ApisByMemberIdLoader(session, viewer)
        members_by_group_id = MembersByGroupIdLoader(session)
        groups_by_member_id = GroupsByMemberIdLoader(session)
        members_by_client_id = MembersByClientIdLoader(session)
        access_profiles_by_client_id = AccessProfilesByClientIdLoader(session)
        return cls(
            workspace_by_id=WorkspaceByIdLoader(session),
            user_by_id=UserByIdLoader(session),
            role_by_id=RoleByIdLoader(session),
            people_by_api_id=people_by_api_id,
            people_count_by_api_id=ChildCountLoader(people_by_api_id),
            groups_by_api_id=groups_by_api_id,
            groups_count_by_api_id=ChildCountLoader(groups_by_api_id),
            apis_by_member_id=apis_by_member_id,
            apis_count_by_member_id=ChildCountLoader(apis_by_member_id),
            members_by_group_id=members_by_group_id,
            members_count_by_group_id=ChildCountLoader(members_by_group_id),
            groups_by_member_id=groups_by_member_id,
            groups_count_by_member_id=ChildCountLoader(groups_by_member_id),
            client_by_id=ClientByIdLoader(session),
            access_profile_by_id=AccessProfileByIdLoader(session),
            plan_by_id=PlanByIdLoader(session),
            members_by_client_id=members_by_client_id,
            members_count_by_client_id=ChildCountLoader(members_by_client_id),
            access_profiles_by_client_id=access_profiles_by_client_id,
            access_profiles_count_by_client_id=ChildCountLoader(access_profiles_by_client_id),
            apis_by_product_id=ApisByProductIdLoader(session),
            products_by_access_profile_id=ProductsByAccessProfileIdLoader(session),
            products_by_access_request_id=ProductsByAccessRequestIdLoader(session),
            usage_by_access_profile_id=UsageByAccessProfileIdLoader(session),
        )
