"""Who is calling: one principal per request, whatever authenticated it.

A principal carries its memberships (workspace -> role permissions), loaded once per request, so
permission checks are dictionary look-ups. A member authenticated by an API key, an OIDC session
or a bearer JWT is the same kind of principal; only ``kind`` and ``credential_id`` differ.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from accessplane.auth.patterns import matches_whole
from accessplane.auth.permissions import Permission
from accessplane.errors import Forbidden, NotFound


class PrincipalKind(StrEnum):
    """How the caller authenticated; also the audit log's actor type."""

    MEMBER = "MEMBER"
    SERVICE = "SERVICE"  # an OIDC client (client credentials) linked as a service member
    API_ACCESS = "API_ACCESS"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True, slots=True)
class Grant:
    """A permission held through a role, with its constraints (e.g. ``namePattern``)."""

    permission: Permission
    constraints: Mapping[str, str] = field(default_factory=dict)

    def allows_name(self, name: str) -> bool:
        """Whether ``name`` satisfies the grant's ``namePattern`` (RE2: linear in the name)."""
        pattern = self.constraints.get("namePattern")
        return pattern is None or matches_whole(pattern, name)


def grants_from_role(permissions: Iterable[Mapping[str, Any]]) -> dict[Permission, Grant]:
    """Read a role's stored permission list; unknown names (from newer versions) are ignored."""
    result: dict[Permission, Grant] = {}
    for entry in permissions:
        try:
            permission = Permission(entry["name"])
        except (KeyError, ValueError):
            continue
        constraints = {k: str(v) for k, v in entry.items() if k != "name" and v is not None}
        result[permission] = Grant(permission, constraints)
    return result


@dataclass(frozen=True, slots=True)
class Membership:
    """What the principal may do in one workspace."""

    workspace_id: uuid.UUID
    role_id: uuid.UUID
    role_name: str
    grants: Mapping[Permission, Grant]
    all_apis: bool
    member_id: uuid.UUID | None = None  # None for API Access keys: they are not members


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, and where the request came from (for the audit log)."""

    kind: PrincipalKind
    id: uuid.UUID | None  # user id for members, key id for API Access, None for the system
    name: str
    memberships: Mapping[uuid.UUID, Membership]
    credential_id: uuid.UUID | None = None  # the API Access used, if any
    ip: str | None = None
    request_id: str | None = None

    def membership(self, workspace_id: uuid.UUID) -> Membership:
        """The principal's membership; another workspace is indistinguishable from none."""
        membership = self.memberships.get(workspace_id)
        if membership is None:
            raise NotFound("Workspace not found.")
        return membership

    def require(self, workspace_id: uuid.UUID, permission: Permission) -> Grant:
        """The grant of ``permission`` in the workspace, or NOT_FOUND / FORBIDDEN."""
        grant = self.membership(workspace_id).grants.get(permission)
        if grant is None:
            raise Forbidden(
                f"The permission '{permission.value}' is needed.", permission=permission.value
            )
        return grant

    def holds(self, workspace_id: uuid.UUID, permission: Permission) -> bool:
        membership = self.memberships.get(workspace_id)
        return membership is not None and permission in membership.grants

    def holds_anywhere(self, permission: Permission) -> bool:
        return any(permission in m.grants for m in self.memberships.values())

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.id if self.kind is PrincipalKind.MEMBER else None


SYSTEM = Principal(kind=PrincipalKind.SYSTEM, id=None, name="system", memberships={})
