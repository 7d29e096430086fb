import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { checkScreen, expect, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' keys) is shared by the whole run.
const RUN = Date.now().toString(36);
const DEPLOY = `ci-deploy-${RUN}`;
const REPORT = `nightly-report-${RUN}`;
const SHORT = `short-lived-${RUN}`;

/** What GraphQL answers a request authenticated by `token` alone (no browser cookie). */
async function viewerWith(request: APIRequestContext, url: string, token: string) {
  const response = await request.post(`${url}/graphql`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { query: "{ viewer { name } }" },
  });
  const body = (await response.json()) as { data?: { viewer: { name: string } } | null; errors?: { extensions?: { code?: string } }[] };
  return { name: body.data?.viewer.name ?? null, code: body.errors?.[0]?.extensions?.code ?? null };
}

async function workspaceOf(api: Api): Promise<{ workspaceId: string; roles: Record<string, string> }> {
  const data = await api.gql<{
    viewer: { memberships: { workspace: { id: string; roles: { edges: { node: { id: string; name: string } }[] } } }[] };
  }>("{ viewer { memberships { workspace { id roles(first: 100) { edges { node { id name } } } } } } }");
  const workspace = data.viewer.memberships[0]?.workspace;
  if (!workspace) throw new Error("the Owner key belongs to no workspace");
  return {
    workspaceId: workspace.id,
    roles: Object.fromEntries(workspace.roles.edges.map(({ node }) => [node.name, node.id])),
  };
}

/** Picks `option` in the Mantine select labelled `label` inside `scope`. */
async function choose(page: Page, scope: Locator, label: string, option: string) {
  await scope.getByRole("textbox", { name: label }).click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

function row(page: Page, name: string): Locator {
  return page.getByRole("table", { name: "API Access keys" }).getByRole("row").filter({ hasText: name });
}

test("API Access keys: create, copy, filter, edit, regenerate and bulk delete through the console", async ({
  page,
  server,
  api,
  request,
  graphqlRequests,
}) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const { workspaceId, roles } = await workspaceOf(api);
  // A key that expires while the story runs, for the status filter (the UI only makes future expiries).
  const shortExpiry = Date.now() + 2_000;
  await api.gql(
    `mutation($input: CreateApiAccessInput!) { createApiAccess(input: $input) { userErrors { message } } }`,
    { input: { workspaceId, name: SHORT, roleId: roles.Viewer, expiresAt: new Date(shortExpiry).toISOString() } },
  );

  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Access keys", exact: true }).click();
    await expect(page.getByRole("heading", { name: "API Access keys" })).toBeVisible();
  });
  expect(opened, "GraphQL requests to open the screen").toBeLessThanOrEqual(1);

  // Create with tags, a role and an expiry; the token is shown once, with Copy and Hide.
  await page.getByRole("button", { name: "Create API Access" }).click();
  const form = page.getByRole("dialog", { name: "Create API Access" });
  await form.getByLabel("Access Name").fill(DEPLOY);
  await form.getByLabel("Description").fill("Deploys from CI");
  await form.getByRole("textbox", { name: "Tags" }).fill("ci");
  await form.getByRole("textbox", { name: "Tags" }).press("Enter");
  await form.getByRole("textbox", { name: "Tags" }).fill("prod");
  await form.getByRole("textbox", { name: "Tags" }).press("Enter");
  await choose(page, form, "Role", "Developer");
  await choose(page, form, "Expiration", "30 days");
  await checkScreen(page, "keys-create");
  await form.getByRole("button", { name: "Create" }).click();
  await expect(form).toBeHidden();
  const banner = page.getByRole("status", { name: `API Access “${DEPLOY}” created` });
  await expect(banner).toContainText("you will not see it again");
  const token = (await banner.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(token).toMatch(/^apk_/);
  await banner.getByRole("button", { name: "Copy" }).click();
  await expect(banner.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  expect(await viewerWith(request, server.url, token)).toEqual({ name: DEPLOY, code: null });
  await banner.getByRole("button", { name: "Hide" }).click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await expect(row(page, DEPLOY)).toContainText("Active");

  // A second key, with another role and tag.
  await page.getByRole("button", { name: "Create API Access" }).click();
  await form.getByLabel("Access Name").fill(REPORT);
  await form.getByRole("textbox", { name: "Tags" }).fill("batch");
  await form.getByRole("textbox", { name: "Tags" }).press("Enter");
  await choose(page, form, "Role", "Viewer");
  await form.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("status", { name: `API Access “${REPORT}” created` })).toBeVisible();
  await page.getByRole("button", { name: "Hide" }).click();

  await checkScreen(page, "keys");

  // Filters: status, role, tag; within this run's keys (the search), whatever else the server holds.
  const filters = page.getByRole("region", { name: "Filters" });
  await filters.getByRole("textbox", { name: "Search" }).fill(RUN);
  await expect(page.getByRole("table", { name: "API Access keys" })).not.toContainText("Bootstrap owner key");
  await expect.poll(() => Date.now()).toBeGreaterThan(shortExpiry);
  await choose(page, filters, "Status", "Expired");
  await expect(row(page, SHORT)).toContainText("Expired");
  await expect(row(page, DEPLOY)).toHaveCount(0);
  await choose(page, filters, "Status", "Active");
  await expect(row(page, DEPLOY)).toBeVisible();
  await expect(row(page, SHORT)).toHaveCount(0);
  await choose(page, filters, "Status", "All");

  await choose(page, filters, "Role", "Viewer");
  await expect(row(page, REPORT)).toBeVisible();
  await expect(row(page, SHORT)).toBeVisible();
  await expect(row(page, DEPLOY)).toHaveCount(0);
  await choose(page, filters, "Role", "Viewer"); // picked again: no longer a filter
  await page.keyboard.press("Escape");
  await expect(row(page, DEPLOY)).toBeVisible();

  await filters.getByRole("textbox", { name: "Tags" }).fill("prod");
  await filters.getByRole("textbox", { name: "Tags" }).press("Enter");
  await expect(row(page, DEPLOY)).toBeVisible();
  await expect(row(page, REPORT)).toHaveCount(0);
  await filters.getByRole("textbox", { name: "Tags" }).press("Backspace"); // removes the last tag
  await expect(row(page, REPORT)).toBeVisible();
  await expect(row(page, DEPLOY)).toBeVisible();

  // Edit from the row's menu.
  await page.getByRole("button", { name: `Actions for ${DEPLOY}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${DEPLOY}` });
  await edit.getByLabel("Description").fill("Deploys the web app from CI");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(row(page, DEPLOY)).toContainText("Deploys the web app from CI");

  // The detail panel, then regenerate: the new token is shown once, the old one is refused at once.
  await row(page, DEPLOY).getByRole("button", { name: DEPLOY, exact: true }).click();
  const detail = page.getByRole("dialog", { name: DEPLOY, exact: true });
  await expect(detail.getByRole("table", { name: "Key details" })).toContainText("Developer");
  await expect(detail).toContainText("Usage count");
  await checkScreen(page, "keys-detail");
  await detail.getByRole("button", { name: "Regenerate" }).click();
  const regenerate = page.getByRole("dialog", { name: `Regenerate ${DEPLOY}` });
  await choose(page, regenerate, "New expiration", "90 days");
  await checkScreen(page, "keys-regenerate");
  await regenerate.getByRole("button", { name: "Regenerate" }).click();
  const regenerated = page.getByRole("status", { name: `“${DEPLOY}” regenerated` });
  await expect(regenerated).toContainText("you will not see it again");
  const newToken = (await regenerated.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(newToken).toMatch(/^apk_/);
  expect(newToken).not.toBe(token);
  expect(await viewerWith(request, server.url, token)).toEqual({ name: null, code: "UNAUTHENTICATED" });
  expect(await viewerWith(request, server.url, newToken)).toEqual({ name: DEPLOY, code: null });
  await regenerated.getByRole("button", { name: "Hide" }).click();

  // Bulk delete with confirmation.
  await row(page, DEPLOY).getByRole("checkbox").check();
  await row(page, REPORT).getByRole("checkbox").check();
  await page.getByRole("button", { name: "Delete selected" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete 2 API Access keys?" });
  await expect(confirm.getByRole("list", { name: "Keys to delete" })).toContainText(DEPLOY);
  await confirm.getByRole("button", { name: "Delete 2 keys" }).click();
  await expect(confirm).toBeHidden();
  await expect(row(page, DEPLOY)).toHaveCount(0);
  await expect(row(page, REPORT)).toHaveCount(0);
  expect(await viewerWith(request, server.url, newToken)).toEqual({ name: null, code: "UNAUTHENTICATED" });
});

test("API Access keys: the role field says why it is disabled, and a name pattern shows on the name", async ({
  page,
  browser,
  server,
  api,
  graphqlRequests,
}) => {
  const { workspaceId, roles } = await workspaceOf(api);
  const createRole = `mutation($input: CreateRoleInput!) { createRole(input: $input) { role { id } userErrors { message } } }`;
  const createKey = `mutation($input: CreateApiAccessInput!) {
    createApiAccess(input: $input) { token userErrors { message } } }`;
  const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
  // A role that may create keys named ci-…, and one that may not read roles.
  const patterned = await api.gql<{ createRole: { role: { id: string } } }>(createRole, {
    input: {
      workspaceId,
      name: `ci-only-${RUN}`,
      permissions: [{ name: "getApiAccess" }, { name: "getRole" }, { name: "createApiAccess", namePattern: "ci-.*" }],
    },
  });
  const roleless = await api.gql<{ createRole: { role: { id: string } } }>(createRole, {
    input: { workspaceId, name: `no-roles-${RUN}`, permissions: [{ name: "getApiAccess" }, { name: "createApiAccess" }] },
  });
  const keyFor = async (name: string, roleId: string) =>
    (await api.gql<{ createApiAccess: { token: string } }>(createKey, { input: { workspaceId, name, roleId, expiresAt } }))
      .createApiAccess.token;
  const patternedKey = await keyFor(`ci-creator-${RUN}`, patterned.createRole.role.id);
  const rolelessKey = await keyFor(`no-roles-${RUN}`, roleless.createRole.role.id);
  expect(roles.Owner).toBeTruthy();

  await signIn(page, rolelessKey);
  await page.getByRole("link", { name: "Access keys", exact: true }).click();
  await expect(page.getByRole("textbox", { name: "Role" })).toBeDisabled();
  await page.getByRole("button", { name: "Create API Access" }).click();
  const form = page.getByRole("dialog", { name: "Create API Access" });
  await expect(form.getByRole("textbox", { name: "Role" })).toBeDisabled();
  await expect(form).toContainText("lacks the getRole permission. It is needed to assign a role.");
  await form.getByRole("button", { name: "Cancel" }).click();
  // A screen the role cannot read says why, without asking the server.
  const asked = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Audit log", exact: true }).click();
    await expect(page.getByText("Not available with your role")).toBeVisible();
  });
  expect(asked).toBe(0);
  await expect(page.getByText("lacks the getAuditLog permission")).toBeVisible();

  // Another person's browser: a key limited to names matching ci-.*.
  const context = await browser.newContext({ baseURL: server.url });
  const other = await context.newPage();
  await signIn(other, patternedKey);
  await other.getByRole("link", { name: "Access keys", exact: true }).click();
  await other.getByRole("button", { name: "Create API Access" }).click();
  const otherForm = other.getByRole("dialog", { name: "Create API Access" });
  await expect(otherForm).toContainText("Must match ci-.* (your createApiAccess permission).");
  await otherForm.getByLabel("Access Name").fill(`deploy-${RUN}`);
  // Said as the name is typed, and refused by the server on the same field.
  await expect(otherForm.getByLabel("Access Name")).toHaveAttribute("aria-invalid", "true");
  await choose(other, otherForm, "Role", `ci-only-${RUN}`);
  await otherForm.getByRole("button", { name: "Create" }).click();
  await expect(otherForm.getByLabel("Access Name")).toHaveAttribute("aria-invalid", "true");
  await expect(otherForm).toContainText("The name must match the pattern 'ci-.*'");
  await otherForm.getByLabel("Access Name").fill(`ci-${RUN}`);
  await otherForm.getByRole("button", { name: "Create" }).click();
  await expect(other.getByRole("status", { name: `API Access “ci-${RUN}” created` })).toBeVisible();
  await context.close();
});
