// The vocabulary of the audit log: an event's action is the name of the mutation (or server
// step) that wrote it, its target type the GraphQL type it changed. The filters offer these,
// plus whatever else the events on screen carry, so a newer server's actions still show.

export const ACTIONS = [
  "addGroupMembers",
  "addMember",
  "approveAccessRequest",
  "bootstrapOwner",
  "cancelAccessRequest",
  "createApi",
  "createApiAccess",
  "createApiProduct",
  "createClient",
  "createGroup",
  "createPlan",
  "createRole",
  "createWorkspace",
  "deleteApi",
  "deleteApiAccesses",
  "deleteApiProduct",
  "deleteClient",
  "deleteGroup",
  "deletePlan",
  "deleteRole",
  "grantApiAccess",
  "linkServiceAccount",
  "regenerateApiAccess",
  "rejectAccessRequest",
  "removeGroupMembers",
  "removeMember",
  "revokeAllApiAccess",
  "revokeApiAccess",
  "setClientActive",
  "setGroupClaimMapping",
  "submitAccessRequest",
  "syncGroupMembers",
  "updateApi",
  "updateApiAccess",
  "updateApiProduct",
  "updateClient",
  "updateGroup",
  "updateMemberRole",
  "updateNotificationSettings",
  "updatePlan",
  "updateRole",
];

export const TARGET_TYPES: { value: string; label: string }[] = [
  { value: "Api", label: "API" },
  { value: "ApiAccess", label: "API Access key" },
  { value: "AccessProfile", label: "Access profile" },
  { value: "AccessRequest", label: "Access request" },
  { value: "ApiProduct", label: "API product" },
  { value: "Client", label: "Client" },
  { value: "Group", label: "Group" },
  { value: "Member", label: "Member" },
  { value: "Plan", label: "Plan" },
  { value: "Role", label: "Role" },
  { value: "Workspace", label: "Workspace" },
];

export function targetTypeLabel(type: string): string {
  return TARGET_TYPES.find((t) => t.value === type)?.label ?? type;
}

/** Known values first, then unseen ones from the data, without duplicates. */
export function withSeen(known: readonly string[], seen: Iterable<string>): string[] {
  const extra = [...new Set(seen)].filter((value) => !known.includes(value)).sort();
  return [...known, ...extra];
}

const ACTOR_KINDS: Record<string, string> = {
  MEMBER: "Person",
  SERVICE: "Service",
  API_ACCESS: "API Access key",
  SYSTEM: "AccessPlane itself",
};

export function actorKindLabel(kind: string): string {
  return ACTOR_KINDS[kind] ?? kind;
}
