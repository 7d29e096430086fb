// Every screen of the console: SECTIONS feed the navigation, ROUTES the router. A new screen is
// a folder under src/ named like the back end's aggregate, and one entry in each list here.
import { lazy, Suspense, type ComponentType, type ReactElement } from "react";
import { ApiDetailPage } from "./apis/ApiDetailPage";
import { ApiListPage } from "./apis/ApiListPage";
import { ExplainPage } from "./access/ExplainPage";
import { GroupDetailPage } from "./groups/GroupDetailPage";
import { GroupListPage } from "./groups/GroupListPage";
import { MemberListPage } from "./members/MemberListPage";
import { RoleListPage } from "./roles/RoleListPage";
import { AuditLogPage } from "./audit/AuditLogPage";
import { ApiAccessListPage } from "./keys/ApiAccessListPage";
import { AccessRequestListPage } from "./access-requests/AccessRequestListPage";
import { NotificationSettingsPage } from "./notifications/NotificationSettingsPage";
import { Loading } from "./core/states";

/** A screen whose code loads when first opened, keeping the first screen's JavaScript small. */
function later(load: () => Promise<ComponentType>): ReactElement {
  const Page = lazy(async () => ({ default: await load() }));
  return (
    <Suspense fallback={<Loading />}>
      <Page />
    </Suspense>
  );
}

const clientList = later(async () => (await import("./clients/ClientListPage")).ClientListPage);
const clientDetail = later(async () => (await import("./clients/ClientDetailPage")).ClientDetailPage);
const productList = later(async () => (await import("./products/ProductListPage")).ProductListPage);
const planList = later(async () => (await import("./plans/PlanListPage")).PlanListPage);

export interface Section {
  path: string; // below /workspaces/:workspaceId/
  label: string;
  permission?: string; // shown only to roles holding it
}

export const SECTIONS: Section[] = [
  { path: "apis", label: "API access" },
  { path: "explain", label: "Explain access", permission: "getApiGrants" },
  { path: "members", label: "Members", permission: "getMember" },
  { path: "groups", label: "Groups", permission: "getGroup" },
  { path: "roles", label: "Roles", permission: "getRole" },
  { path: "keys", label: "Access keys" }, // not "API access…": that is the grants screen
  { path: "audit", label: "Audit log" },
  { path: "notifications", label: "Notification settings" },
  { path: "access-requests", label: "Access requests", permission: "getAccessRequest" },
  { path: "clients", label: "Clients", permission: "getClient" },
  { path: "products", label: "Products", permission: "getProduct" },
  { path: "plans", label: "Plans", permission: "getProduct" }, // plans are read with getProduct
];

export const ROUTES: { path: string; element: ReactElement }[] = [
  { path: "apis", element: <ApiListPage /> },
  { path: "apis/:apiId", element: <ApiDetailPage /> },
  { path: "explain", element: <ExplainPage /> },
  { path: "groups", element: <GroupListPage /> },
  { path: "groups/:groupId", element: <GroupDetailPage /> },
  { path: "members", element: <MemberListPage /> },
  { path: "roles", element: <RoleListPage /> },
  { path: "keys", element: <ApiAccessListPage /> },
  { path: "keys/:apiAccessId", element: <ApiAccessListPage /> }, // a key's detail: the reminders' links
  { path: "audit", element: <AuditLogPage /> },
  { path: "notifications", element: <NotificationSettingsPage /> },
  { path: "access-requests", element: <AccessRequestListPage /> },
  { path: "access-requests/:requestId", element: <AccessRequestListPage /> }, // the mails' links
  { path: "clients", element: clientList },
  { path: "clients/:clientId", element: clientDetail },
  { path: "products", element: productList },
  { path: "plans", element: planList },
];
