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
import { ForAdmins } from "./core/ForAdmins";
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
const catalogue = later(async () => (await import("./portal/CataloguePage")).CataloguePage);
const product = later(async () => (await import("./portal/ProductPage")).ProductPage);
const cart = later(async () => (await import("./portal/CartPage")).CartPage);
const myApps = later(async () => (await import("./portal/MyAppsPage")).MyAppsPage);
const myRequests = later(async () => (await import("./portal/MyRequestsPage")).MyRequestsPage);

export interface Section {
  path: string; // below /workspaces/:workspaceId/
  label: string;
  permission?: string; // shown only to roles holding it
  // "consumer": the developer portal's sections, the only ones a consumer sees (core/audience.ts);
  // the others are the admins'.
  audience?: "consumer";
  end?: boolean; // active on its own path only (not on the paths below it)
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
  { path: "portal", label: "Developer portal", permission: "getProduct" },
  { path: "portal", label: "API catalogue", audience: "consumer", end: true },
  { path: "portal/cart", label: "Cart", audience: "consumer" },
  { path: "portal/apps", label: "My apps", audience: "consumer" },
  { path: "portal/requests", label: "My requests", audience: "consumer" },
];

const ADMIN_ROUTES: { path: string; element: ReactElement }[] = [
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

// The developer portal, for consumers and admins alike; admin screens show "Not available" to
// consumers.
export const ROUTES: { path: string; element: ReactElement }[] = [
  ...ADMIN_ROUTES.map(({ path, element }) => ({ path, element: <ForAdmins>{element}</ForAdmins> })),
  { path: "portal", element: catalogue },
  { path: "portal/products/:productId", element: product },
  { path: "portal/cart", element: cart },
  { path: "portal/apps", element: myApps },
  { path: "portal/requests", element: myRequests },
];
