"""Access requests: a consumer's cart of products and a plan for one app, and its decision."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.entities import AccessProfileByIdLoader, PlanByIdLoader
from accessplane.loaders.products import ProductsByAccessRequestIdLoader
from accessplane.models import AccessRequestStatus
from accessplane.schema.access_profiles import AccessProfile
from accessplane.schema.base import UserError
from accessplane.schema.permissions import requires
from accessplane.schema.plans import Plan
from accessplane.schema.products import ApiProduct, AuthMethodEnum

AccessRequestStatusEnum = strawberry.enum(AccessRequestStatus, name="AccessRequestStatus")

_SEE = requires(Permission.GET_ACCESS_REQUEST, Permission.REQUEST_ACCESS)


@strawberry.type
class AccessRequest(relay.Node):
    """A request for products and a plan for one app; decided exactly once."""

    id: relay.NodeID[str]
    status: AccessRequestStatusEnum  # type: ignore[valid-type]
    created_app: bool = strawberry.field(description="The app was created with this request.")
    requester: str = strawberry.field(description="Who asked (name or email, as it was).")
    requester_email: str | None
    plan_name: str = strawberry.field(description="The plan's name when it was requested.")
    decided_by: str | None = strawberry.field(
        description="Who decided (or cancelled), or 'auto-approve (plan …)'."
    )
    decided_at: datetime | None
    reason: str = strawberry.field(description="The rejection's reason, or the approval's note.")
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    access_profile_id: strawberry.Private[uuid.UUID]
    plan_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, request: models.AccessRequest) -> AccessRequest:
        return cls(
            id=str(request.id),
            status=request.status,
            created_app=request.created_access_profile,
            requester=request.requester_name,
            requester_email=request.requester_email,
            plan_name=request.plan_name,
            decided_by=request.decided_by_name or None,
            decided_at=request.decided_at,
            reason=request.reason,
            created_at=request.created_at,
            pk=request.id,
            workspace_id=request.workspace_id,
            access_profile_id=request.access_profile_id,
            plan_id=request.plan_id,
        )

    @strawberry.field(extensions=_SEE)
    async def access_profile(self, info: Info) -> AccessProfile:
        profile = await info.context.loaders.get(AccessProfileByIdLoader).load(
            self.access_profile_id
        )
        assert profile is not None  # requests are deleted with their app
        return AccessProfile.from_model(profile)

    @strawberry.field(extensions=_SEE, description="Null once the plan was deleted.")
    async def plan(self, info: Info) -> Plan | None:
        if self.plan_id is None:
            return None
        plan = await info.context.loaders.get(PlanByIdLoader).load(self.plan_id)
        return Plan.from_model(plan) if plan is not None else None

    @strawberry.field(extensions=_SEE, description="The products requested, by name.")
    async def products(self, info: Info) -> list[ApiProduct]:
        rows = await info.context.loaders.get(ProductsByAccessRequestIdLoader).load(self.pk)
        return [ApiProduct.from_model(p) for p in rows]


@strawberry.input
class AccessRequestFilter:
    """``status``; ``clientId``: requests for that client's apps; ``productId``: requests
    naming that product."""

    status: AccessRequestStatusEnum | None = None  # type: ignore[valid-type]
    client_id: relay.GlobalID | None = None
    product_id: relay.GlobalID | None = None


@strawberry.input(description="An app created together with the request.")
class NewAccessProfileInput:
    client_id: relay.GlobalID
    name: str
    auth_method: AuthMethodEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Defaults to the products' method."
    )
    allowed_ips: list[str] = strawberry.field(default_factory=list)
    trusted_issuer: str = ""
    audience: str = ""
    token_client_id: str = ""
    required_scopes: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="A cart of products and one plan, for an existing or a new app.")
class SubmitAccessRequestInput:
    product_ids: list[relay.GlobalID]
    plan_id: relay.GlobalID
    access_profile_id: relay.GlobalID | None = None
    new_access_profile: NewAccessProfileInput | None = None


@strawberry.input
class ApproveAccessRequestInput:
    id: relay.GlobalID
    reason: str = strawberry.field(default="", description="An optional note to the requester.")


@strawberry.input
class RejectAccessRequestInput:
    id: relay.GlobalID
    reason: str


@strawberry.input
class CancelAccessRequestInput:
    id: relay.GlobalID


@strawberry.type
class AccessRequestPayload:
    access_request: AccessRequest | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitAccessRequestPayload:
    """The request and, for an AUTH_TOKEN app created with it, the app's token: shown this
    once only. It reaches nothing until a request for the app is approved."""

    access_request: AccessRequest | None = None
    token: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
