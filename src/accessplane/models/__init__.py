"""SQLModel tables; importing this module registers them all on ``SQLModel.metadata``."""

from accessplane.models.access_profiles import (
    AccessProfile,
    AccessProfileProduct,
    AccessProfileRevocation,
)
from accessplane.models.access_requests import (
    AccessRequest,
    AccessRequestProduct,
    AccessRequestStatus,
)
from accessplane.models.alerts import Alert, AlertRule, AlertRuleKind
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
from accessplane.models.calls import Call
from accessplane.models.certificates import AccessProfileCertificate, CertificateReminder
from accessplane.models.clients import Client, ClientLogo, ClientMember
from accessplane.models.console_sessions import ConsoleSession, ConsoleSessionMethod
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
from accessplane.models.operations import ApiOperation, ApiProductOperation
from accessplane.models.plans import Plan, QuotaPeriod, RateLimitPeriod, Weekday
from accessplane.models.products import ApiProduct, ApiProductApi, AuthMethod
from accessplane.models.roles import Role
from accessplane.models.service_accounts import ServiceAccount
from accessplane.models.usage import CredentialUsage, CredentialUsageHour
from accessplane.models.users import User
from accessplane.models.webhooks import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from accessplane.models.workspaces import Workspace

__all__ = [
    "AccessProfile",
    "AccessProfileCertificate",
    "AccessProfileProduct",
    "AccessProfileRevocation",
    "AccessRequest",
    "AccessRequestProduct",
    "AccessRequestStatus",
    "Alert",
    "AlertRule",
    "AlertRuleKind",
    "Api",
    "ApiAccess",
    "ApiAccessReminder",
    "ApiAccessRevocation",
    "ApiAccessStatus",
    "ApiAccessType",
    "ApiGrant",
    "ApiOperation",
    "ApiProduct",
    "ApiProductApi",
    "ApiProductOperation",
    "AuditEvent",
    "AuthMethod",
    "Call",
    "CertificateReminder",
    "Client",
    "ClientLogo",
    "ClientMember",
    "ConsoleSession",
    "ConsoleSessionMethod",
    "CredentialUsage",
    "CredentialUsageHour",
    "Group",
    "GroupClaimMapping",
    "GroupMember",
    "Member",
    "MemberKind",
    "Notification",
    "NotificationKind",
    "NotificationSettings",
    "NotificationStatus",
    "Plan",
    "QuotaPeriod",
    "RateLimitPeriod",
    "RevocationReason",
    "Role",
    "ServiceAccount",
    "User",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "Weekday",
    "Workspace",
]
