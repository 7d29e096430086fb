import type { Page } from "@playwright/test";
import { checkScreen, expect, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' keys) is shared by the whole run.
const RUN = Date.now().toString(36);
const LINKED = `zzz-linked-${RUN}`;
const FILLERS = Array.from({ length: 26 }, (_, i) => `zz-filler-${RUN}-${String(i).padStart(2, "0")}`);

async function workspaceOf(api: Api): Promise<{ workspaceId: string; viewerRole: string }> {
  const data = await api.gql<{
    viewer: { memberships: { workspace: { id: string; roles: { edges: { node: { id: string; name: string } }[] } } }[] };
  }>("{ viewer { memberships { workspace { id roles(first: 100) { edges { node { id name } } } } } } }");
  const workspace = data.viewer.memberships[0]?.workspace;
  const viewer = workspace?.roles.edges.find(({ node }) => node.name === "Viewer");
  if (!workspace || !viewer) throw new Error("the Owner key belongs to no workspace with a Viewer role");
  return { workspaceId: workspace.id, viewerRole: viewer.node.id };
}

async function createKey(api: Api, input: Record<string, unknown>): Promise<string> {
  const data = await api.gql<{ createApiAccess: { apiAccess: { id: string } } }>(
    `mutation($input: CreateApiAccessInput!) { createApiAccess(input: $input) { apiAccess { id } } }`,
    { input },
  );
  return data.createApiAccess.apiAccess.id;
}

function details(page: Page) {
  return page.getByRole("dialog", { name: LINKED });
}

test("A key's link (as in an expiry reminder) opens the Access keys screen with that key's details", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  const { workspaceId, viewerRole } = await workspaceOf(api);
  const expiresAt = new Date(Date.now() + 5 * 24 * 3600 * 1000).toISOString();
  // A full first page of keys sorted before it: the linked key is not among the table's rows.
  const fillers = await Promise.all(
    FILLERS.map((name) => createKey(api, { workspaceId, name, roleId: viewerRole, expiresAt })),
  );
  const linkedId = await createKey(api, {
    workspaceId,
    name: LINKED,
    roleId: viewerRole,
    expiresAt,
    description: "Expires in five days",
    tags: ["reminded"],
  });
  const link = `/workspaces/${workspaceId}/keys/${linkedId}`;

  // Signed out, the link comes back after the sign-in.
  await signIn(page, server.key, link);
  await expect(page).toHaveURL(link);
  const panel = details(page);
  await expect(panel).toBeVisible();
  const rows = panel.getByRole("table", { name: "Key details" });
  await expect(rows.getByRole("row", { name: /Access Name/ })).toContainText(LINKED);
  await expect(rows.getByRole("row", { name: /Description/ })).toContainText("Expires in five days");
  await expect(rows.getByRole("row", { name: /Tags/ })).toContainText("reminded");
  await expect(page.getByRole("table", { name: "API Access keys" }).getByRole("row").filter({ hasText: LINKED })).toHaveCount(0);
  await checkScreen(page, "keys-link");

  // Closing the panel leaves the link: the address is the screen's own.
  await panel.getByRole("button", { name: "Close the details" }).click();
  await expect(panel).toBeHidden();
  await expect(page).toHaveURL(`/workspaces/${workspaceId}/keys`);

  // Opened again in a signed-in browser: the table's request and the key's own.
  const reopened = await graphqlRequests.during(page, async () => {
    await page.goto(link);
    await expect(details(page)).toBeVisible();
  });
  expect(reopened, `GraphQL requests to open the link: ${graphqlRequests.names(reopened)}`).toBeLessThanOrEqual(3);

  // A link to a key that is gone says so.
  await api.gql(`mutation($input: DeleteApiAccessesInput!) { deleteApiAccesses(input: $input) { userErrors { message } } }`, {
    input: { ids: [linkedId, ...fillers] },
  });
  await page.goto(link);
  await expect(page.getByRole("alert").filter({ hasText: "does not exist" })).toBeVisible();
  await expect(details(page)).toHaveCount(0);
});
