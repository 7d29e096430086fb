"""Access request mutations."""

from __future__ import annotations

import strawberry

from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.notify.links import ConsoleLinks
from accessplane.schema.access_requests import (
    AccessRequest,
    AccessRequestPayload,
    ApproveAccessRequestInput,
    CancelAccessRequestInput,
    RejectAccessRequestInput,
    SubmitAccessRequestInput,
    SubmitAccessRequestPayload,
)
from accessplane.schema.base import decode_id, decode_ids, user_errors_as_payload
from accessplane.schema.permissions import requires
from accessplane.services import access_requests
from accessplane.services.access_profiles import TokenSettings

# The token's client id is refused on the app's clientId (the field of the Client's ID).


@strawberry.type
class AccessRequestMutations:
    @strawberry.mutation(
        extensions=requires(Permission.REQUEST_ACCESS),
        description="Request products with one plan for an app of one's client, existing or "
        "new; a plan with autoApprove approves at once.",
    )
    @user_errors_as_payload
    async def submit_access_request(
        self, info: Info, input: SubmitAccessRequestInput
    ) -> SubmitAccessRequestPayload:
        ctx = info.context
        new = input.new_access_profile
        submitted = await access_requests.submit_access_request(
            session=ctx.session,
            actor=ctx.principal,
            secret=ctx.settings.secret_key.get_secret_value().encode(),
            product_ids=decode_ids(input.product_ids, "ApiProduct", field="productIds"),
            plan_id=decode_id(input.plan_id, "Plan", field="planId"),
            access_profile_id=decode_id(
                input.access_profile_id, "AccessProfile", field="accessProfileId"
            )
            if input.access_profile_id
            else None,
            new_access_profile=access_requests.NewAccessProfile(
                client_id=decode_id(new.client_id, "Client", field="newAccessProfile.clientId"),
                name=new.name,
                auth_method=new.auth_method,
                allowed_ips=new.allowed_ips,
                token=TokenSettings(
                    trusted_issuer=new.trusted_issuer,
                    audience=new.audience,
                    client_id=new.token_client_id,
                    required_scopes=new.required_scopes,
                ),
            )
            if new is not None
            else None,
            links=ConsoleLinks.from_settings(ctx.settings),
        )
        return SubmitAccessRequestPayload(
            access_request=AccessRequest.from_model(submitted.access_request),
            token=submitted.token,
        )

    @strawberry.mutation(
        extensions=requires(Permission.DECIDE_ACCESS_REQUEST),
        description="Approve a pending request: the app gets its products and plan.",
    )
    @user_errors_as_payload
    async def approve_access_request(
        self, info: Info, input: ApproveAccessRequestInput
    ) -> AccessRequestPayload:
        ctx = info.context
        request = await access_requests.approve_access_request(
            session=ctx.session,
            actor=ctx.principal,
            access_request_id=decode_id(input.id, "AccessRequest", field="id"),
            reason=input.reason,
        )
        return AccessRequestPayload(access_request=AccessRequest.from_model(request))

    @strawberry.mutation(
        extensions=requires(Permission.DECIDE_ACCESS_REQUEST),
        description="Reject a pending request with a reason (mailed to the requester).",
    )
    @user_errors_as_payload
    async def reject_access_request(
        self, info: Info, input: RejectAccessRequestInput
    ) -> AccessRequestPayload:
        ctx = info.context
        request = await access_requests.reject_access_request(
            session=ctx.session,
            actor=ctx.principal,
            access_request_id=decode_id(input.id, "AccessRequest", field="id"),
            reason=input.reason,
        )
        return AccessRequestPayload(access_request=AccessRequest.from_model(request))

    @strawberry.mutation(
        extensions=requires(Permission.REQUEST_ACCESS),
        description="Withdraw one's own pending request.",
    )
    @user_errors_as_payload
    async def cancel_access_request(
        self, info: Info, input: CancelAccessRequestInput
    ) -> AccessRequestPayload:
        ctx = info.context
        request = await access_requests.cancel_access_request(
            session=ctx.session,
            actor=ctx.principal,
            access_request_id=decode_id(input.id, "AccessRequest", field="id"),
        )
        return AccessRequestPayload(access_request=AccessRequest.from_model(request))
