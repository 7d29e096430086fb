"""Access profiles: the apps of clients, with their credentials and what they may call."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from accessplane import models
from accessplane.auth.permissions import Permission
from accessplane.context import Info
from accessplane.loaders.certificates import CertificatesByAccessProfileIdLoader
from accessplane.loaders.entities import ClientByIdLoader, PlanByIdLoader
from accessplane.loaders.products import ProductsByAccessProfileIdLoader
from accessplane.loaders.usage import UsageBucket, UsageByAccessProfileIdLoader
from accessplane.schema.base import UserError
from accessplane.schema.certificates import AccessProfileCertificate
from accessplane.schema.clients import Client
from accessplane.schema.permissions import requires
from accessplane.schema.plans import Plan
from accessplane.schema.products import ApiProduct, AuthMethodEnum
from accessplane.schema.usage import (
    CredentialUsage,
    UsageBucketEnum,
    UsageBucketPoint,
    usage_series,
)


@strawberry.type
class AccessProfile(relay.Node):
    """An app of a client. The token of an AUTH_TOKEN app is never readable: it is returned
    once by createAccessProfile, submitAccessRequest (for a new app) and
    refreshAccessProfileToken."""

    id: relay.NodeID[str]
    name: str
    auth_method: AuthMethodEnum  # type: ignore[valid-type]
    allowed_ips: list[str] = strawberry.field(
        description="Addresses and CIDR ranges calls may come from; empty: any."
    )
    trusted_issuer: str = strawberry.field(description="Token methods: the tokens' issuer.")
    audience: str = strawberry.field(description="Token methods: the tokens' audience.")
    token_client_id: str = strawberry.field(
        description="Token methods: the client_id/azp (or sub) that names this app."
    )
    required_scopes: list[str]
    certificate_bound_tokens: bool = strawberry.field(
        description="Token methods: tokens must be bound (RFC 8705 cnf.x5t#S256) to the client "
        "certificate presented with them."
    )
    token_hint: str | None = strawberry.field(description="AUTH_TOKEN: the last 4 characters.")
    suspended_at: datetime | None = strawberry.field(
        default=None,
        description="Set when an alert rule suspended the app: its calls answer suspended "
        "until resumeAccessProfile.",
    )
    suspended_reason: str = strawberry.field(default="", description="Why it was suspended.")
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    client_id: strawberry.Private[uuid.UUID]
    plan_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, profile: models.AccessProfile) -> AccessProfile:
        return cls(
            id=str(profile.id),
            name=profile.name,
            auth_method=profile.auth_method,
            allowed_ips=list(profile.allowed_ips),
            trusted_issuer=profile.trusted_issuer,
            audience=profile.audience,
            token_client_id=profile.token_client_id,
            required_scopes=list(profile.required_scopes),
            certificate_bound_tokens=profile.certificate_bound_tokens,
            token_hint=profile.token_hint or None,
            suspended_at=profile.suspended_at,
            suspended_reason=profile.suspended_reason,
            created_at=profile.created_at,
            updated_at=profile.updated_at,
            pk=profile.id,
            workspace_id=profile.workspace_id,
            client_id=profile.client_id,
            plan_id=profile.plan_id,
        )

    @strawberry.field(extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS))
    async def client(self, info: Info) -> Client:
        client = await info.context.loaders.get(ClientByIdLoader).load(self.client_id)
        assert client is not None  # apps are deleted with their client
        return Client.from_model(client)

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="The plan granted by the last approval (or set by an admin).",
    )
    async def plan(self, info: Info) -> Plan | None:
        if self.plan_id is None:
            return None
        plan = await info.context.loaders.get(PlanByIdLoader).load(self.plan_id)
        return Plan.from_model(plan) if plan is not None else None

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="The products the app may call, by name.",
    )
    async def products(self, info: Info) -> list[ApiProduct]:
        rows = await info.context.loaders.get(ProductsByAccessProfileIdLoader).load(self.pk)
        return [ApiProduct.from_model(p) for p in rows]

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="MTLS: the registered client certificates, the soonest to expire first.",
    )
    async def certificates(self, info: Info) -> list[AccessProfileCertificate]:
        loader = info.context.loaders.get(CertificatesByAccessProfileIdLoader)
        return [AccessProfileCertificate.from_model(c) for c in await loader.load(self.pk)]

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="What the decision endpoint answered this app's credential, by reason.",
    )
    async def usage(self, info: Info) -> CredentialUsage:
        rows = await info.context.loaders.get(UsageByAccessProfileIdLoader).load(self.pk)
        return CredentialUsage.from_rows(rows)

    @strawberry.field(
        extensions=requires(Permission.GET_CLIENT, Permission.REQUEST_ACCESS),
        description="Allowed and denied decisions on this app's credential per UTC hour or day "
        "(days summed from hours), every bucket that overlaps [from, to) present, zero when "
        "empty: at most 31 days of HOUR buckets or 366 days of DAY buckets. Hours older than "
        "ACCESSPLANE_DECISION_USAGE_HOUR_RETENTION_DAYS (default 90) are pruned and count zero; "
        "the latest decisions show after the next flush, within seconds.",
    )
    async def usage_series(
        self,
        info: Info,
        start: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        bucket: UsageBucketEnum = UsageBucket.HOUR,  # type: ignore[valid-type]
    ) -> list[UsageBucketPoint]:
        return await usage_series(info, self.pk, start=start, end=to, bucket=bucket)


@strawberry.input
class CreateAccessProfileInput:
    client_id: relay.GlobalID
    name: str
    auth_method: AuthMethodEnum  # type: ignore[valid-type]
    allowed_ips: list[str] = strawberry.field(
        default_factory=list,
        description="IPv4/IPv6 addresses and CIDR ranges; each item may be comma-separated.",
    )
    trusted_issuer: str = ""
    audience: str = ""
    token_client_id: str = ""
    required_scopes: list[str] = strawberry.field(default_factory=list)
    certificate_bound_tokens: bool = strawberry.field(
        default=False,
        description="Token methods: require tokens bound to the client certificate (RFC 8705).",
    )
    product_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    plan_id: relay.GlobalID | None = None


@strawberry.input(description="Fields left out keep their value.")
class UpdateAccessProfileInput:
    id: relay.GlobalID
    name: str | None = None
    allowed_ips: list[str] | None = None
    trusted_issuer: str | None = None
    audience: str | None = None
    token_client_id: str | None = None
    required_scopes: list[str] | None = None
    certificate_bound_tokens: bool | None = None
    product_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Replaces the app's products."
    )
    plan_id: relay.GlobalID | None = None


@strawberry.input
class RefreshAccessProfileTokenInput:
    id: relay.GlobalID


@strawberry.input
class DeleteAccessProfileInput:
    id: relay.GlobalID


@strawberry.type
class AccessProfilePayload:
    access_profile: AccessProfile | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccessProfileTokenPayload:
    """The app and, for AUTH_TOKEN, its new token: shown this once only, store it now."""

    access_profile: AccessProfile | None = None
    token: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteAccessProfilePayload:
    deleted_access_profile_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
