// Who the console is for in a workspace: a consumer (the built-in Consumer role: getProduct and
// requestAccess, nothing more) gets the developer portal only; everyone else the admin sections.

/** The permissions the developer portal needs; a role holding nothing else is a consumer's. */
export const PORTAL_PERMISSIONS = ["getProduct", "requestAccess"] as const;

/** Whether a role's permissions make it a consumer's: requestAccess and nothing beyond the portal. */
export function isConsumer(permissions: readonly string[]): boolean {
  const portal: readonly string[] = PORTAL_PERMISSIONS;
  return permissions.includes("requestAccess") && permissions.every((p) => portal.includes(p));
}

/** The section a workspace opens on: the catalogue for consumers, API access for the others. */
export function landingSection(permissions: readonly string[]): string {
  return isConsumer(permissions) ? "portal" : "apis";
}
