"""The permission catalogue and the built-in roles.

Permission names are the contract of the product (camelCase, verb + noun); they are stored in
roles as plain strings, so renaming one here needs a data migration.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Every permission a role can hold."""

    GET_WORKSPACE = "getWorkspace"
    UPDATE_WORKSPACE = "updateWorkspace"
    GET_MEMBER = "getMember"
    MANAGE_MEMBERS = "manageMembers"
    GET_ROLE = "getRole"
    CREATE_ROLE = "createRole"
    UPDATE_ROLE = "updateRole"
    DELETE_ROLE = "deleteRole"
    GET_GROUP = "getGroup"
    MANAGE_GROUPS = "manageGroups"
    GET_API = "getApi"
    CREATE_API = "createApi"
    UPDATE_API = "updateApi"
    DELETE_API = "deleteApi"
    GET_API_GRANTS = "getApiGrants"
    GRANT_API_ACCESS = "grantApiAccess"
    REVOKE_API_ACCESS = "revokeApiAccess"
    GET_API_ACCESS = "getApiAccess"
    CREATE_API_ACCESS = "createApiAccess"
    UPDATE_API_ACCESS = "updateApiAccess"
    REGENERATE_API_ACCESS = "regenerateApiAccess"
    DELETE_API_ACCESS = "deleteApiAccess"
    GET_CLIENT = "getClient"
    MANAGE_CLIENTS = "manageClients"
    GET_PRODUCT = "getProduct"
    MANAGE_PRODUCTS = "manageProducts"
    MANAGE_PLANS = "managePlans"
    REQUEST_ACCESS = "requestAccess"
    GET_ACCESS_REQUEST = "getAccessRequest"
    DECIDE_ACCESS_REQUEST = "decideAccessRequest"
    GET_AUDIT_LOG = "getAuditLog"
    GET_CALL_LOG = "getCallLog"
    MANAGE_NOTIFICATIONS = "manageNotifications"
    MANAGE_WEBHOOKS = "manageWebhooks"
    MANAGE_ALERTS = "manageAlerts"


# Permissions that may carry a constraint, and the constraint's name.
CONSTRAINABLE: dict[Permission, str] = {Permission.CREATE_API_ACCESS: "namePattern"}

DESCRIPTIONS: dict[Permission, str] = {
    Permission.GET_WORKSPACE: "Read the workspace and its settings.",
    Permission.UPDATE_WORKSPACE: "Rename the workspace and change its settings.",
    Permission.GET_MEMBER: "List members and see their roles and groups.",
    Permission.MANAGE_MEMBERS: "Add and remove members and change their roles.",
    Permission.GET_ROLE: "List roles; needed to assign a role to a member or an API Access.",
    Permission.CREATE_ROLE: "Create custom roles.",
    Permission.UPDATE_ROLE: "Edit custom roles.",
    Permission.DELETE_ROLE: "Delete custom roles that nobody holds.",
    Permission.GET_GROUP: "List groups and their members.",
    Permission.MANAGE_GROUPS: "Create, edit and delete groups and change their members.",
    Permission.GET_API: "See the APIs one has access to.",
    Permission.CREATE_API: "Register APIs.",
    Permission.UPDATE_API: "Edit APIs one has access to.",
    Permission.DELETE_API: "Delete APIs one has access to.",
    Permission.GET_API_GRANTS: "See who has access to an API and why.",
    Permission.GRANT_API_ACCESS: "Grant members and groups access to an API.",
    Permission.REVOKE_API_ACCESS: "Revoke members' and groups' access to an API.",
    Permission.GET_API_ACCESS: "List platform API keys (API Access).",
    Permission.CREATE_API_ACCESS: "Create platform API keys; may be limited by a name pattern.",
    Permission.UPDATE_API_ACCESS: "Edit platform API keys.",
    Permission.REGENERATE_API_ACCESS: "Regenerate the token of a platform API key.",
    Permission.DELETE_API_ACCESS: "Delete platform API keys.",
    Permission.GET_CLIENT: "See consumer clients and their apps.",
    Permission.MANAGE_CLIENTS: "Create, edit, deactivate and delete clients and their apps.",
    Permission.GET_PRODUCT: "See API products and plans.",
    Permission.MANAGE_PRODUCTS: "Create, edit and delete API products.",
    Permission.MANAGE_PLANS: "Create, edit and delete plans.",
    Permission.REQUEST_ACCESS: "Request access to API products.",
    Permission.GET_ACCESS_REQUEST: "See access requests.",
    Permission.DECIDE_ACCESS_REQUEST: "Approve or reject access requests.",
    Permission.GET_AUDIT_LOG: "Read the audit log.",
    Permission.GET_CALL_LOG: "Read and export the call log (every decision of the gateways).",
    Permission.MANAGE_NOTIFICATIONS: "Change email notification settings.",
    Permission.MANAGE_WEBHOOKS: "See and manage webhook endpoints and their deliveries.",
    Permission.MANAGE_ALERTS: "Create, edit and delete alert rules (their automatic responses).",
}

_ALL = frozenset(Permission)
_READ = frozenset(p for p in Permission if p.value.startswith("get"))

# Built-in roles, created in every workspace; name -> (description, permissions, allApis).
BUILT_IN_ROLES: dict[str, tuple[str, frozenset[Permission], bool]] = {
    "Owner": ("Everything, on every API of the workspace.", _ALL, True),
    "Admin": (
        "Manages people, roles, groups, APIs, credentials and consumers; "
        "reaches APIs through grants.",
        _ALL - {Permission.UPDATE_WORKSPACE},
        False,
    ),
    "Developer": (
        "Works on the APIs granted to them and creates credentials.",
        _READ
        | {
            Permission.CREATE_API,
            Permission.UPDATE_API,
            Permission.CREATE_API_ACCESS,
            Permission.UPDATE_API_ACCESS,
            Permission.REGENERATE_API_ACCESS,
            Permission.DELETE_API_ACCESS,
        },
        False,
    ),
    # The call log goes with the audit log: the roles holding one hold the other.
    "Viewer": (
        "Reads what is granted to them.",
        _READ - {Permission.GET_AUDIT_LOG, Permission.GET_CALL_LOG},
        False,
    ),
    "Consumer": (
        "Browses published products and requests access for their apps.",
        frozenset({Permission.GET_PRODUCT, Permission.REQUEST_ACCESS}),
        False,
    ),
}
OWNER_ROLE = "Owner"
