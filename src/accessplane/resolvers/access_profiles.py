"""Access profile (app) mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.schema.access_profiles import (
    AccessProfile,
    AccessProfilePayload,
    AccessProfileTokenPayload,
    CreateAccessProfileInput,
    DeleteAccessProfileInput,
    DeleteAccessProfilePayload,
    RefreshAccessProfileTokenInput,
    UpdateAccessProfileInput,
)
from accessplane.schema.base import decode_id, decode_ids, to_global_id, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.services import access_profiles
from accessplane.services.access_profiles import TokenSettings

# The token's client id is refused on clientId (the field of the Client's ID, on create).


@strawberry.type
class AccessProfileMutations:
    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Create an app of a client; an AUTH_TOKEN app's token is returned this "
        "once only.",
    )
    @user_errors_as_payload
    async def create_access_profile(
        self, info: Info, input: CreateAccessProfileInput
    ) -> AccessProfileTokenPayload:
        ctx = info.context
        issued = await access_profiles.create_access_profile(
            session=ctx.session,
            actor=ctx.principal,
            secret=ctx.settings.secret_key.get_secret_value().encode(),
            client_id=decode_id(input.client_id, "Client", field="clientId"),
            name=input.name,
            auth_method=input.auth_method,
            allowed_ips=input.allowed_ips,
            token=TokenSettings(
                trusted_issuer=input.trusted_issuer,
                audience=input.audience,
                client_id=input.token_client_id,
                required_scopes=input.required_scopes,
                certificate_bound=input.certificate_bound_tokens,
            ),
            product_ids=decode_ids(input.product_ids, "ApiProduct", field="productIds"),
            plan_id=decode_id(input.plan_id, "Plan", field="planId") if input.plan_id else None,
        )
        return AccessProfileTokenPayload(
            access_profile=AccessProfile.from_model(issued.access_profile), token=issued.token
        )

    @strawberry.mutation(extensions=requires(Permission.MANAGE_CLIENTS))
    @user_errors_as_payload
    async def update_access_profile(
        self, info: Info, input: UpdateAccessProfileInput
    ) -> AccessProfilePayload:
        ctx = info.context
        profile = await access_profiles.update_access_profile(
            session=ctx.session,
            actor=ctx.principal,
            access_profile_id=decode_id(input.id, "AccessProfile", field="id"),
            name=input.name,
            allowed_ips=input.allowed_ips,
            trusted_issuer=input.trusted_issuer,
            audience=input.audience,
            token_client_id=input.token_client_id,
            required_scopes=input.required_scopes,
            certificate_bound_tokens=input.certificate_bound_tokens,
            product_ids=decode_ids(input.product_ids, "ApiProduct", field="productIds")
            if input.product_ids is not None
            else None,
            plan_id=decode_id(input.plan_id, "Plan", field="planId") if input.plan_id else None,
        )
        return AccessProfilePayload(access_profile=AccessProfile.from_model(profile))

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS, Permission.REQUEST_ACCESS),
        description="Revoke an AUTH_TOKEN app's token and return a new one, this once only. "
        "Admins (manageClients) and the client's own members (requestAccess) may refresh.",
    )
    @user_errors_as_payload
    async def refresh_access_profile_token(
        self, info: Info, input: RefreshAccessProfileTokenInput
    ) -> AccessProfileTokenPayload:
        ctx = info.context
        issued = await access_profiles.refresh_access_profile_token(
            session=ctx.session,
            actor=ctx.principal,
            secret=ctx.settings.secret_key.get_secret_value().encode(),
            access_profile_id=decode_id(input.id, "AccessProfile", field="id"),
        )
        return AccessProfileTokenPayload(
            access_profile=AccessProfile.from_model(issued.access_profile), token=issued.token
        )

    @strawberry.mutation(
        extensions=requires(Permission.MANAGE_CLIENTS),
        description="Delete an app with its requests; its token stops at once.",
    )
    @user_errors_as_payload
    async def delete_access_profile(
        self, info: Info, input: DeleteAccessProfileInput
    ) -> DeleteAccessProfilePayload:
        ctx = info.context
        profile = await access_profiles.delete_access_profile(
            session=ctx.session,
            actor=ctx.principal,
            access_profile_id=decode_id(input.id, "AccessProfile", field="id"),
        )
        return DeleteAccessProfilePayload(
            deleted_access_profile_id=to_global_id("AccessProfile", profile.id)
        )
