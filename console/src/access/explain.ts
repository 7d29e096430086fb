// The sentences of the Explain access screen.
import { formatDate } from "../core/dates";

export interface Path {
  kind: "DIRECT" | "GROUP" | "ROLE";
  group?: { name: string } | null;
  role?: { name: string } | null;
  grantedBy?: string | null;
  grantedAt?: string | null;
}

export function personName(user: { name: string; email: string }): string {
  return user.name || user.email;
}

export function headline(person: string, api: string, hasAccess: boolean): string {
  return hasAccess ? `${person} can see ${api} because:` : `${person} cannot see ${api}.`;
}

export function describePath(path: Path, format: (iso: string) => string = formatDate): string {
  const by = path.grantedBy ? ` by ${path.grantedBy}` : "";
  const on = path.grantedAt ? ` on ${format(path.grantedAt)}` : "";
  switch (path.kind) {
    case "DIRECT":
      return `direct grant${by}${on}`;
    case "GROUP":
      return `via group ${path.group?.name ?? "(deleted group)"}${by ? ` (granted${by}${on})` : ""}`;
    case "ROLE":
      return `role ${path.role?.name ?? ""} reaches every API`;
  }
}

export const NO_ACCESS_REASON =
  "No direct grant, no group with a grant, and a role that does not reach every API.";
