"""The call log: every decision of the gateways, as GraphQL reads it."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.calls import ReachableApiByIdLoader
from accessplane.loaders.entities import AccessProfileByIdLoader
from accessplane.schema.access_profiles import AccessProfile
from accessplane.schema.apis import Api
from accessplane.schema.permissions import requires
from accessplane.services.calls import ip_text

# The GraphQL type of each kind of gateway caller, for its global id.
_CALLER_TYPES = {"ACCESS_PROFILE": "AccessProfile", "MEMBER": "Member"}


@strawberry.type(description="One decision of the decision endpoint, allowed or denied.")
class Call:
    id: strawberry.ID
    at: datetime = strawberry.field(description="When the decision was made.")
    principal_type: str | None = strawberry.field(
        description="ACCESS_PROFILE or MEMBER; null for a credential nobody holds."
    )
    principal_id: relay.GlobalID | None = strawberry.field(
        description="The AccessProfile or Member the credential stands for."
    )
    api_identifier: str = strawberry.field(description="The API as the gateway named it.")
    operation_id: relay.GlobalID | None = strawberry.field(
        description="The API operation the request matched, when the API declares operations."
    )
    method: str
    path: str = strawberry.field(description="The request's path (its first 512 characters).")
    ip: str | None = strawberry.field(description="The client's address, when known.")
    reason: str
    allowed: bool
    latency_microseconds: int = strawberry.field(description="How long the decision took.")
    request_id: str | None = strawberry.field(
        description="The gateway's X-Request-ID, or an id of AccessPlane's own."
    )
    workspace_id: strawberry.Private[uuid.UUID]
    access_profile_pk: strawberry.Private[uuid.UUID | None]
    api_pk: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, call: models.Call) -> Call:
        assert call.workspace_id is not None  # a workspace's log holds its own rows only
        caller = _CALLER_TYPES.get(call.principal_type or "")
        return cls(
            id=strawberry.ID(str(call.id)),
            at=call.at,
            principal_type=call.principal_type,
            principal_id=(
                relay.GlobalID(caller, str(call.principal_id))
                if caller and call.principal_id
                else None
            ),
            api_identifier=call.api_identifier,
            operation_id=(
                relay.GlobalID("ApiOperation", str(call.operation_id))
                if call.operation_id
                else None
            ),
            method=call.method,
            path=call.path,
            ip=ip_text(call.ip),
            reason=call.reason,
            allowed=call.allowed,
            latency_microseconds=call.latency_us,
            request_id=call.request_id,
            workspace_id=call.workspace_id,
            access_profile_pk=call.principal_id if caller == "AccessProfile" else None,
            api_pk=call.api_id,
        )

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT),
        description="The app that called; null for a member or once the app was deleted.",
    )
    async def access_profile(self, info: Info) -> AccessProfile | None:
        if self.access_profile_pk is None:
            return None
        profile = await info.context.loaders.get(AccessProfileByIdLoader).load(
            self.access_profile_pk
        )
        return AccessProfile.from_model(profile) if profile is not None else None

    @strawberry.field(
        extensions=requires(Permission.GET_API),
        description="The API called; null when no API has that identifier, or the viewer "
        "cannot reach it.",
    )
    async def api(self, info: Info) -> Api | None:
        if self.api_pk is None:
            return None
        api = await info.context.loaders.get(ReachableApiByIdLoader).load(
            (self.workspace_id, self.api_pk)
        )
        return Api.from_model(api) if api is not None else None


@strawberry.input(
    description="Narrow the call log; every field given must match. from is inclusive, to "
    "exclusive."
)
class CallFilter:
    access_profile_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Calls of these apps."
    )
    api_ids: list[relay.GlobalID] | None = None
    reasons: list[str] | None = strawberry.field(
        default=None, description="Decision reasons, e.g. ok, ip_not_allowed."
    )
    allowed: bool | None = None
    ip: str | None = strawberry.field(
        default=None, description="A client address, or a CIDR range (203.0.113.0/24)."
    )
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None
