"""SQLModel tables; importing this module registers them all on ``SQLModel.metadata``."""

from accessplane.models.api_access import (
    ApiAccess,
    ApiAccessReminder,
    ApiAccessRevocation,
    ApiAccessStatus,
    ApiAccessType,
    RevocationReason,
)
from accessplane.models.apis import Api
from accessplane.models.audit import AuditEvent
from accessplane.models.grants import ApiGrant
from accessplane.models.group_sync import GroupClaimMapping
from accessplane.models.groups import Group, GroupMember
from accessplane.models.members import Member, MemberKind
from accessplane.models.notifications import (
    Notification,
    NotificationKind,
    NotificationSettings,
    NotificationStatus,
)
from accessplane.models.roles import Role
from accessplane.models.service_accounts import ServiceAccount
from accessplane.models.users import User
from accessplane.models.workspaces import Workspace

__all__ = [
    "Api",
    "ApiAccess",
    "ApiAccessReminder",
    "ApiAccessRevocation",
    "ApiAccessStatus",
    "ApiAccessType",
    "ApiGrant",
    "AuditEvent",
    "Group",
    "GroupClaimMapping",
    "GroupMember",
    "Member",
    "MemberKind",
    "Notification",
    "NotificationKind",
    "NotificationSettings",
    "NotificationStatus",
    "RevocationReason",
    "Role",
    "ServiceAccount",
    "User",
    "Workspace",
]
