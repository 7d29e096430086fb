import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, signIn, test } from "./fixtures";

const RUN = Date.now().toString(36);
const KEY = `audited-${RUN}`;

async function choose(page: Page, scope: Locator, label: string, option: string) {
  await scope.getByRole("textbox", { name: label }).click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

test("Audit log: filter by action, actor, target and time; before and after side by side", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  // Changes made by an integration with the Owner key; the log is then read in the console.
  const { viewer } = await api.gql<{ viewer: { memberships: { workspace: { id: string } }[] } }>(
    "{ viewer { memberships { workspace { id } } } }",
  );
  const workspaceId = viewer.memberships[0]?.workspace.id;
  const { workspace } = await api.gql<{ workspace: { roles: { edges: { node: { id: string; name: string } }[] } } }>(
    "query($id: ID!) { workspace(id: $id) { roles(first: 100) { edges { node { id name } } } } }",
    { id: workspaceId },
  );
  const viewerRole = workspace.roles.edges.find(({ node }) => node.name === "Viewer")?.node.id;
  const created = await api.gql<{ createApiAccess: { apiAccess: { id: string } } }>(
    `mutation($input: CreateApiAccessInput!) { createApiAccess(input: $input) { apiAccess { id } } }`,
    {
      input: {
        workspaceId,
        name: KEY,
        description: "before the change",
        roleId: viewerRole,
        expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      },
    },
  );
  await api.gql(`mutation($input: UpdateApiAccessInput!) { updateApiAccess(input: $input) { userErrors { message } } }`, {
    input: { id: created.createApiAccess.apiAccess.id, description: "after the change", tags: ["audited"] },
  });

  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  });
  expect(opened, "GraphQL requests to open the screen").toBeLessThanOrEqual(1);
  const table = page.getByRole("table", { name: "Audit events" });
  const events = table.getByRole("row").filter({ hasText: KEY });
  await expect(events).toHaveCount(2);

  const filters = page.getByRole("region", { name: "Filters" });
  await choose(page, filters, "Action", "updateApiAccess");
  await expect(events).toHaveCount(1);
  await expect(table.getByRole("row").filter({ hasText: "createApiAccess" })).toHaveCount(0);

  // Before and after, side by side, the changed fields marked.
  await events.getByRole("button", { name: `Show changes of updateApiAccess on ${KEY}` }).click();
  const before = page.getByRole("region", { name: "Before" });
  const after = page.getByRole("region", { name: "After" });
  await expect(before.getByRole("row", { name: /description \(changed\)/ })).toContainText("before the change");
  await expect(after.getByRole("row", { name: /description \(changed\)/ })).toContainText("after the change");
  await expect(after.getByRole("row", { name: /^tags/ })).toContainText('["audited"]');
  const beforeBox = await before.boundingBox();
  const afterBox = await after.boundingBox();
  expect(afterBox?.x ?? 0, "After sits to the right of Before").toBeGreaterThan((beforeBox?.x ?? 0) + (beforeBox?.width ?? 0) - 1);
  await checkScreen(page, "audit");

  // Actor: the Owner key made both changes.
  await filters.getByRole("button", { name: "Clear filters" }).click();
  await choose(page, filters, "Actor", "Bootstrap owner key (API Access key)");
  await expect(events).toHaveCount(2);

  // Target: one object's history, then a type.
  await filters.getByRole("button", { name: "Clear filters" }).click();
  await events.first().getByRole("button", { name: KEY, exact: true }).click();
  await expect(filters).toContainText(`Only events on API Access key ${KEY}`);
  await expect(table.getByRole("row")).toHaveCount(3); // the header and its two events
  await filters.getByRole("button", { name: "Show all targets" }).click();
  await choose(page, filters, "Target", "Workspace");
  await expect(events).toHaveCount(0);
  await choose(page, filters, "Target", "API Access key");
  await expect(events).toHaveCount(2);

  // Time range: nothing from tomorrow on; everything since yesterday.
  const local = (date: Date) => {
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  };
  await filters.getByLabel("From").fill(local(new Date(Date.now() + 86_400_000)));
  await expect(page.getByText("No events match")).toBeVisible();
  await filters.getByLabel("From").fill(local(new Date(Date.now() - 86_400_000)));
  await expect(events).toHaveCount(2);
});
