"""Service account and group-sync mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.base import decode_id, user_errors_as_payload
from accessplane.schema.groups import Group
from accessplane.schema.members import Member
from accessplane.schema.permissions import requires
from accessplane.schema.service_accounts import (
    LinkServiceAccountInput,
    LinkServiceAccountPayload,
    SetGroupClaimMappingInput,
    SetGroupClaimMappingPayload,
)
from accessplane.services import group_sync, service_accounts


@strawberry.type
class ServiceAccountMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_MEMBERS),
        description="Let an OIDC client's client-credentials tokens act as a SERVICE member "
        "with a role. Needs getRole too; the role may not exceed the caller's.",
    )
    @user_errors_as_payload
    async def link_service_account(
        self, info: Info, input: LinkServiceAccountInput
    ) -> LinkServiceAccountPayload:
        member = await service_accounts.link_service_account(
            session=info.context.session,
            actor=info.context.principal,
            workspace_id=decode_id(input.workspace_id, "Workspace", field="workspaceId"),
            issuer=input.issuer,
            client_id=input.client_id,
            role_id=decode_id(input.role_id, "Role", field="roleId"),
            name=input.name,
            known_issuers=[i.issuer for i in info.context.settings.oidc_issuers],
        )
        return LinkServiceAccountPayload(member=Member.from_model(member))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_GROUPS),
        description="Map values of an issuer's groups claim to a group: members are added "
        "and removed at login and token use as the identity provider says.",
    )
    @user_errors_as_payload
    async def set_group_claim_mapping(
        self, info: Info, input: SetGroupClaimMappingInput
    ) -> SetGroupClaimMappingPayload:
        group, values = await group_sync.set_group_claim_mapping(
            session=info.context.session,
            actor=info.context.principal,
            group_id=decode_id(input.group_id, "Group", field="groupId"),
            issuer=input.issuer,
            claim_values=input.claim_values,
            known_issuers=[i.issuer for i in info.context.settings.oidc_issuers],
        )
        return SetGroupClaimMappingPayload(
            group=Group.from_model(group), issuer=input.issuer.strip(), claim_values=values
        )
