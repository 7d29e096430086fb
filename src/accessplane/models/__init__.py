"""SQLModel tables; importing this module registers them all on ``SQLModel.metadata``."""

from accessplane.models.api_access import ApiAccess, ApiAccessType
from accessplane.models.apis import Api
from accessplane.models.audit import AuditEvent
from accessplane.models.grants import ApiGrant
from accessplane.models.groups import Group, GroupMember
from accessplane.models.members import Member, MemberKind
from accessplane.models.roles import Role
from accessplane.models.users import User
from accessplane.models.workspaces import Workspace

__all__ = [
    "Api",
    "ApiAccess",
    "ApiAccessType",
    "ApiGrant",
    "AuditEvent",
    "Group",
    "GroupMember",
    "Member",
    "MemberKind",
    "Role",
    "User",
    "Workspace",
]
