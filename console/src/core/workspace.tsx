import { createContext, useContext } from "react";
import { graphql } from "../gql";
import type { ViewerQuery } from "../gql/graphql";

export const ViewerDocument = graphql(`
  query Viewer {
    viewer {
      kind
      name
      memberships {
        workspace {
          id
          name
        }
        roleName
        permissions
        allApis
      }
    }
  }
`);

export type Membership = ViewerQuery["viewer"]["memberships"][number];

export interface WorkspaceContextValue {
  viewerName: string;
  membership: Membership;
  memberships: Membership[];
}

export const WorkspaceContext = createContext<WorkspaceContextValue | null>(null);

export function useWorkspace(): WorkspaceContextValue {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error("useWorkspace outside a workspace route");
  return value;
}

export interface Permission {
  allowed: boolean;
  /** Why not, for a disabled control's tooltip. */
  reason: string;
}

export function permissionOf(membership: Membership, name: string): Permission {
  const allowed = membership.permissions.includes(name);
  return {
    allowed,
    reason: allowed ? "" : `Your role (${membership.roleName}) lacks the ${name} permission.`,
  };
}

/** Whether the viewer's role in the current workspace holds a permission, and if not why. */
export function usePermission(name: string): Permission {
  return permissionOf(useWorkspace().membership, name);
}
