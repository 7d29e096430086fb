"""Service accounts and group sync: how OIDC clients and IdP groups enter a workspace."""

from __future__ import annotations

import strawberry
from strawberry import relay

from accessplane.schema.base import UserError
from accessplane.schema.groups import Group
from accessplane.schema.members import Member


@strawberry.input
class LinkServiceAccountInput:
    """An OIDC client of a configured issuer, acting by itself with client credentials."""

    workspace_id: relay.GlobalID
    issuer: str = strawberry.field(description="A configured issuer URL.")
    client_id: str = strawberry.field(description="The token's client_id (or azp).")
    role_id: relay.GlobalID
    name: str


@strawberry.type
class LinkServiceAccountPayload:
    """The SERVICE member now standing for the client, or why not."""

    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetGroupClaimMappingInput:
    """Which values of an issuer's groups claim make a member part of the group."""

    group_id: relay.GlobalID
    issuer: str
    claim_values: list[str] = strawberry.field(
        description="Replaces the group's values for this issuer; empty removes the mapping."
    )


@strawberry.type
class SetGroupClaimMappingPayload:
    group: Group | None = None
    issuer: str | None = None
    claim_values: list[str] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
