import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, forgotten, outsideWindow, signIn, test, type Api, type Server } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const CLIENT = `Acme ${RUN}`;
const APP = `mobile-${RUN}`;
const RENAMED = `mobile-app-${RUN}`;
const PRODUCT = `Orders ${RUN}`;
const PLAN = `Gold ${RUN}`;
const IDENTIFIER = `orders-${RUN}`;
const DANA = `dana-${RUN}@example.com`;
// A real 1x1 PNG, and an SVG named like one (the server judges a logo by its bytes).
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], mutation).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** A consumer to add as a member, an API in a product, and a plan. */
async function seed(api: Api): Promise<void> {
  const data = await api.gql<{
    viewer: { memberships: { workspace: { id: string; roles: { edges: { node: { id: string; name: string } }[] } } }[] };
  }>("{ viewer { memberships { workspace { id roles(first: 100) { edges { node { id name } } } } } } }");
  const workspace = data.viewer.memberships[0]?.workspace;
  const workspaceId = workspace?.id ?? "";
  const consumer = workspace?.roles.edges.find(({ node }) => node.name === "Consumer")?.node.id;
  await created(api, "addMember", "member", { workspaceId, email: DANA, name: `Dana ${RUN}`, roleId: consumer });
  const orders = await created<{ id: string }>(api, "createApi", "api", { workspaceId, name: `Orders API ${RUN}`, identifier: IDENTIFIER });
  await created(api, "createApiProduct", "apiProduct", { workspaceId, name: PRODUCT, authMethod: "AUTH_TOKEN", apiIds: [orders.id], published: true });
  await created(api, "createPlan", "plan", { workspaceId, name: PLAN });
}

/** What the gateway's decision endpoint answers a call of the app from 10.0.0.1. */
async function decide(page: Page, server: Server, token: string): Promise<{ allowed: boolean; reason: string }> {
  const response = await page.request.post(`${server.url}/v1/check`, { data: { credential: token, api: IDENTIFIER, ip: "10.0.0.1" } });
  return (await response.json()) as { allowed: boolean; reason: string };
}

/** Picks `option` in a server-searched select labelled `label`, typing `search` first. */
async function pick(page: Page, scope: Locator, label: string, search: string, option: string) {
  await scope.getByRole("textbox", { name: label }).click();
  await scope.getByRole("textbox", { name: label }).fill(search);
  await page.getByRole("option", { name: option }).click();
  await scope.getByRole("textbox", { name: label }).press("Tab"); // a multi-select stays open until focus leaves
}

function appRow(page: Page, name: string): Locator {
  return page.getByRole("table", { name: "Access profiles" }).getByRole("row").filter({ hasText: name });
}

test("Clients: a search typed just before a deactivation from the list still shows the client inactive", async ({ page, server, api }) => {
  const data = await api.gql<{ viewer: { memberships: { workspace: { id: string } }[] } }>("{ viewer { memberships { workspace { id } } } }");
  const workspaceId = data.viewer.memberships[0]?.workspace.id ?? "";
  const racer = `Racer ${RUN}`;
  await created(api, "createClient", "client", { workspaceId, name: racer });
  await signIn(page, server.key);
  await page.getByRole("link", { name: "Clients", exact: true }).click();
  const row = page.getByRole("table", { name: "Clients" }).getByRole("row").filter({ hasText: racer });
  await page.getByLabel("Search").fill(RUN);
  await expect(row).toContainText("Active");
  // The narrower search is answered as it stood before, and only after the deactivation and the
  // list's reload have been (or a second, when the list waits for it before reloading).
  let reloaded: () => void = () => {};
  const later = new Promise<void>((resolve) => (reloaded = resolve));
  let searches = 0;
  await page.route("**/graphql", async (route) => {
    const body = route.request().postData() ?? "";
    const search = body.includes(`"search":"${racer}"`) ? ++searches : 0;
    const response = await route.fetch();
    if (search === 1) await Promise.race([later, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (search === 2) reloaded();
    await route.fulfill({ response });
  });
  await page.getByLabel("Search").fill(racer);
  await page.getByRole("button", { name: `Actions for ${racer}` }).click();
  await page.getByRole("menuitem", { name: "Deactivate" }).click();
  const dialog = page.getByRole("dialog", { name: `Deactivate ${racer}?` });
  await dialog.getByRole("button", { name: "Deactivate" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Inactive");
});

test("Clients: new client with a logo and a member, an app created in steps with its token shown once, refresh, edit, deactivate, delete", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await seed(api);
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Clients", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Clients" })).toBeVisible();
  });
  expect(opened, `GraphQL requests to open Clients: ${graphqlRequests.names(opened)}`).toBe(1);

  // New client: an SVG renamed .png is refused on the logo field, a PNG is previewed and kept.
  await page.getByRole("button", { name: "New client" }).click();
  const form = page.getByRole("dialog", { name: "New client" });
  await form.getByLabel("Name").fill(CLIENT);
  await form.getByLabel("Description").fill("Resells our orders API");
  const logo = form.locator('input[type="file"]');
  await logo.setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: SVG });
  await form.getByRole("button", { name: "Create client" }).click();
  await expect(form).toContainText("The logo must be a PNG or JPEG image.");
  await logo.setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
  await expect(form.getByRole("img", { name: "Preview of the new logo" })).toBeVisible();
  await form.getByRole("button", { name: "Add members" }).click();
  const picker = page.getByRole("dialog", { name: "Add members" });
  await picker.getByRole("textbox", { name: "People" }).fill(`dana-${RUN}`);
  await page.getByRole("option", { name: `Dana ${RUN} <${DANA}>` }).click();
  await picker.getByRole("textbox", { name: "People" }).press("Tab"); // a multi-select stays open until focus leaves
  await picker.getByRole("button", { name: "Add", exact: true }).click();
  await expect(picker).toBeHidden();
  await expect(form).toContainText(`Dana ${RUN} <${DANA}>`);
  await checkScreen(page, "clients-create");
  await form.getByRole("button", { name: "Create client" }).click();
  await expect(form).toBeHidden();
  const listRow = page.getByRole("table", { name: "Clients" }).getByRole("row").filter({ hasText: CLIENT });
  await expect(listRow).toContainText("Active");
  await expect(listRow.getByRole("cell").nth(4)).toHaveText("0");
  await expect(listRow.getByRole("img", { name: `Logo of ${CLIENT}` })).toHaveAttribute("src", /^\/logos\//);
  await checkScreen(page, "clients");

  // The client's page, in one request.
  const detail = await graphqlRequests.during(page, async () => {
    await listRow.getByRole("link", { name: CLIENT }).click();
    await expect(page.getByRole("heading", { name: CLIENT })).toBeVisible();
  });
  expect(detail, `GraphQL requests to open a client: ${graphqlRequests.names(detail)}`).toBe(1);
  await expect(page.getByRole("region", { name: "Members" })).toContainText(DANA);

  // Edit the client: its member stays unless removed; a new description shows at once.
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  const editClient = page.getByRole("dialog", { name: `Edit ${CLIENT}` });
  await expect(editClient).toContainText(DANA);
  await editClient.getByLabel("Description").fill("Resells our orders API in Europe");
  await editClient.getByRole("button", { name: "Save" }).click();
  await expect(editClient).toBeHidden();
  await expect(page.getByText("Resells our orders API in Europe")).toBeVisible();
  await expect(page.getByRole("region", { name: "Members" })).toContainText(DANA);

  // Create new access profile, step by step.
  await page.getByRole("button", { name: "Create new access profile" }).click();
  const wizard = page.getByRole("dialog", { name: `Create new access profile for ${CLIENT}` });
  await wizard.getByLabel("Profile name").fill(APP);
  await wizard.getByRole("button", { name: "Next" }).click();
  await pick(page, wizard, "Products to include", PRODUCT, `${PRODUCT} (AUTH_TOKEN)`);
  await wizard.getByRole("button", { name: "Next" }).click();
  // A token method asks for the issuer before going on.
  await wizard.getByRole("radio", { name: "JWT (JWT)" }).check();
  await expect(wizard.getByLabel("Trusted issuer")).toBeVisible();
  await wizard.getByRole("button", { name: "Next" }).click();
  await expect(wizard).toContainText("The issuer of the app's tokens is required for this method.");
  await wizard.getByRole("radio", { name: "Auth token (AUTH_TOKEN)" }).check();
  await expect(wizard.getByLabel("Trusted issuer")).toHaveCount(0);
  await wizard.getByRole("button", { name: "Next" }).click();
  await pick(page, wizard, "Policy (plan)", PLAN, PLAN);
  // Allowed IPs are checked as typed.
  const ips = wizard.getByLabel("Allowed IPs");
  await ips.fill("10.0.0.1, 10.0.0.300");
  await expect(wizard).toContainText("10.0.0.300 is not an IP address or CIDR range.");
  await expect(ips).toHaveAttribute("aria-invalid", "true");
  await wizard.getByRole("button", { name: "Next" }).click();
  await expect(wizard.getByRole("table", { name: "New access profile" })).toHaveCount(0);
  await ips.fill("10.0.0.1, 192.168.0.0/16\n2001:db8::/32");
  await expect(ips).not.toHaveAttribute("aria-invalid", "true");
  await wizard.getByRole("button", { name: "Next" }).click();
  const summary = wizard.getByRole("table", { name: "New access profile" });
  await expect(summary).toContainText(APP);
  await expect(summary).toContainText(PLAN);
  await expect(summary).toContainText("10.0.0.1, 192.168.0.0/16, 2001:db8::/32");
  await checkScreen(page, "client-profile-confirm");
  await wizard.getByRole("button", { name: "Create access profile" }).click();
  await expect(wizard).toContainText("you will not see it again");
  const token = (await wizard.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(token).toMatch(/^apt_/);
  await wizard.getByRole("button", { name: "Copy" }).click();
  await expect(wizard.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  expect(await decide(page, server, token)).toMatchObject({ allowed: true, reason: "ok" });
  await checkScreen(page, "client-profile-token");
  await wizard.getByRole("button", { name: "Done" }).click();
  await expect(wizard).toBeHidden();
  await forgotten(page, token);
  await expect(appRow(page, APP)).toContainText(PRODUCT);
  await expect(appRow(page, APP)).toContainText(PLAN);
  await expect(appRow(page, APP)).toContainText(`…${token.slice(-4)}`);

  // Refresh token: asked first; the new token shown once, the old one refused.
  await page.getByRole("button", { name: `Actions for ${APP}` }).click();
  await page.getByRole("menuitem", { name: "Refresh token" }).click();
  const ask = page.getByRole("dialog", { name: `Refresh the token of ${APP}?` });
  await expect(ask).toContainText("stops working");
  await ask.getByRole("button", { name: "Refresh token" }).click();
  const shown = page.getByRole("dialog", { name: `New token for ${APP}` });
  await expect(shown).toContainText("you will not see it again");
  const fresh = (await shown.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(fresh).toMatch(/^apt_/);
  expect(fresh).not.toBe(token);
  expect((await decide(page, server, token)).allowed).toBe(false);
  expect(await decide(page, server, fresh)).toMatchObject({ allowed: true });
  await shown.getByRole("button", { name: "Done" }).click();
  await forgotten(page, fresh);

  // Edit the app.
  await page.getByRole("button", { name: `Actions for ${APP}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${APP}` });
  await edit.getByLabel("Profile name").fill(RENAMED);
  await edit.getByLabel("Allowed IPs").fill("10.0.0.0/8");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(appRow(page, RENAMED)).toContainText("10.0.0.0/8");

  // Deactivate: the confirmation says what happens, and the app's next call is refused.
  await page.getByRole("button", { name: "Deactivate" }).click();
  const deactivate = page.getByRole("dialog", { name: `Deactivate ${CLIENT}?` });
  await expect(deactivate).toContainText(`Every app of ${CLIENT} stops on its next call`);
  await deactivate.getByRole("button", { name: "Deactivate" }).click();
  await expect(deactivate).toBeHidden();
  await expect(page.getByText("Inactive", { exact: true })).toBeVisible();
  expect(await decide(page, server, fresh)).toMatchObject({ allowed: false, reason: "inactive_client" });

  // Delete the app, then the client from the list.
  await page.getByRole("button", { name: `Actions for ${RENAMED}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const removeApp = page.getByRole("dialog", { name: `Delete ${RENAMED}?` });
  await removeApp.getByRole("button", { name: "Delete access profile" }).click();
  await expect(removeApp).toBeHidden();
  await expect(appRow(page, RENAMED)).toHaveCount(0);
  await page.getByRole("link", { name: "← Clients" }).click();
  await expect(listRow).toContainText("Inactive");
  await page.getByRole("button", { name: `Actions for ${CLIENT}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const removeClient = page.getByRole("dialog", { name: `Delete ${CLIENT}?` });
  await removeClient.getByRole("button", { name: "Delete client" }).click();
  await expect(removeClient).toBeHidden();
  await expect(listRow).toHaveCount(0);

  // A phone-sized window: nothing of the screen sticks out (the table scrolls in its own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByRole("heading", { name: "Clients" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(await outsideWindow(page), "Clients: outside a narrow window").toEqual([]);
});
