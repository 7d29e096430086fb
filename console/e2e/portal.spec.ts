// The developer portal as a consumer signs in to it (a person of the built-in Consumer role, a
// member of a client, through the test OpenID Provider), and its link for admins.
import type { Browser, Locator, Page } from "@playwright/test";
import { checkScreen, expect, forgotten, outsideWindow, signIn, test, throughProvider, type Api, type GraphQLRequests } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const LOGIN = `consumer-${RUN}`;
const NAMES = {
  client: `Acme ${RUN}`,
  payments: `Payments ${RUN}`,
  refunds: `Refunds ${RUN}`,
  ledger: `Ledger ${RUN}`,
  free: `Free ${RUN}`,
  gold: `Gold ${RUN}`,
  app: `sandbox-${RUN}`,
};
const ADMIN_LINKS = ["API access", "Members", "Roles", "Access keys", "Audit log", "Clients", "Products", "Plans", "Access requests", "GraphiQL", "Developer portal"];

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], `${mutation} ${JSON.stringify(input)}`).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** A consumer member of a client; three published products (two AUTH_TOKEN, one JWT); an
 * auto-approve and a manual plan. */
async function seed(api: Api): Promise<string> {
  const data = await api.gql<{
    viewer: { memberships: { workspace: { id: string; roles: { edges: { node: { id: string; name: string } }[] } } }[] };
  }>("{ viewer { memberships { workspace { id roles(first: 100) { edges { node { id name } } } } } } }");
  const workspace = data.viewer.memberships[0]?.workspace;
  const workspaceId = workspace?.id ?? "";
  const roleId = workspace?.roles.edges.find(({ node }) => node.name === "Consumer")?.node.id;
  const member = await created<{ id: string }>(api, "addMember", "member", { workspaceId, email: `${LOGIN}@example.com`, name: `Casey ${RUN}`, roleId });
  await created(api, "createClient", "client", { workspaceId, name: NAMES.client, memberIds: [member.id] });
  const pay = await created<{ id: string }>(api, "createApi", "api", {
    workspaceId,
    name: `Pay API ${RUN}`,
    identifier: `pay-${RUN}`,
    baseUrl: `https://api.example.com/pay-${RUN}`,
  });
  const products: [string, string, string[]][] = [
    [NAMES.payments, "AUTH_TOKEN", [pay.id]],
    [NAMES.refunds, "AUTH_TOKEN", []],
    [NAMES.ledger, "JWT", []],
  ];
  for (const [name, authMethod, apiIds] of products) {
    await created(api, "createApiProduct", "apiProduct", { workspaceId, name, authMethod, apiIds, published: true, description: `${name} for partners.` });
  }
  await created(api, "createPlan", "plan", { workspaceId, name: NAMES.free, autoApprove: true, rateLimit: { requests: 10, period: "SECOND" } });
  await created(api, "createPlan", "plan", { workspaceId, name: NAMES.gold, quota: { requests: 100000, period: "MONTH" } });
  return workspaceId;
}

/** The provider's first person becomes Owner (bootstrap_owner): that is ada, as in oidc.spec.ts,
 * whichever spec runs first, so the consumer is never the first. */
async function bootstrapOwner(browser: Browser): Promise<void> {
  const context = await browser.newContext();
  await throughProvider(await context.newPage(), "ada");
  await context.close();
}

function nav(page: Page): Locator {
  return page.getByRole("navigation", { name: "Sections" });
}

/** Opens a section from the navigation and says how many GraphQL requests that took. */
async function open(page: Page, requests: GraphQLRequests, link: string, heading: string): Promise<void> {
  const count = await requests.during(page, async () => {
    await nav(page).getByRole("link", { name: link, exact: true }).click();
    await expect(page.getByRole("heading", { name: heading, level: 2 })).toBeVisible();
  });
  // At most: a screen seen before in this session may answer from urql's cache.
  expect(count, `GraphQL requests to open ${heading}: ${requests.names(count)}`).toBeLessThanOrEqual(1);
}

async function addToCart(page: Page, requests: GraphQLRequests, product: string, plan: string): Promise<void> {
  await open(page, requests, "API catalogue", "API catalogue");
  const count = await requests.during(page, async () => {
    await page.getByRole("link", { name: product, exact: true }).click();
    await expect(page.getByRole("heading", { name: product, level: 2 })).toBeVisible();
  });
  expect(count, `GraphQL requests to open ${product}: ${requests.names(count)}`).toBe(1);
  await page.getByRole("table", { name: "Plans" }).getByRole("row").filter({ hasText: plan }).getByRole("button", { name: "Access with this Plan" }).click();
  await expect(page.getByRole("status").filter({ hasText: "In your cart" })).toContainText(`${product} with the plan ${plan}`);
}

/** The token is nowhere the browser keeps things: the page, its storage, its address. */
async function takeToken(page: Page): Promise<string> {
  const token = (await page.getByTestId("new-token").textContent()) ?? "";
  expect(token).toMatch(/^apt_/);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await forgotten(page, token);
  return token;
}

test("Developer portal as a consumer: catalogue, cart rules, an auto-approved new app's token once, a pending request cancelled, a token refreshed, no admin screen", async ({
  page,
  browser,
  api,
  graphqlRequests,
}) => {
  const missing = "tests/oidc/provider is not installed (npm ci --prefix tests/oidc/provider)";
  if (!process.env.ACCESSPLANE_E2E_OIDC && process.env.CI === "true") throw new Error(missing);
  test.skip(!process.env.ACCESSPLANE_E2E_OIDC, missing);
  const workspaceId = await seed(api);
  await bootstrapOwner(browser);
  await throughProvider(page, LOGIN);

  // The landing page is the catalogue; the navigation holds the portal's sections only.
  await expect(page).toHaveURL(new RegExp(`/workspaces/${workspaceId.replace(/[=+/]/g, ".")}/portal$`));
  await expect(page.getByRole("heading", { name: "API catalogue", level: 2 })).toBeVisible();
  await expect(nav(page).getByRole("link")).toHaveText(["API catalogue", "Cart", "My apps", "My requests"]);
  for (const name of ADMIN_LINKS) await expect(page.getByRole("link", { name, exact: true })).toHaveCount(0);

  // The catalogue: a product's description, APIs with base URLs and authentication method.
  await open(page, graphqlRequests, "My requests", "My requests");
  await open(page, graphqlRequests, "API catalogue", "API catalogue");
  const payments = page.getByRole("article", { name: NAMES.payments });
  await expect(payments).toContainText(`${NAMES.payments} for partners.`);
  await expect(payments).toContainText(`Pay API ${RUN}`);
  await expect(payments).toContainText(`https://api.example.com/pay-${RUN}`);
  await expect(payments).toContainText("Auth token");
  await expect(page.getByRole("article", { name: NAMES.ledger })).toContainText("JWT");
  await checkScreen(page, "portal-catalogue");

  // A product's plans: limits and approval; Access with this Plan fills the cart.
  await addToCart(page, graphqlRequests, NAMES.payments, NAMES.free);
  const plans = page.getByRole("table", { name: "Plans" });
  await expect(plans.getByRole("row").filter({ hasText: NAMES.free })).toContainText("10 per second");
  await expect(plans.getByRole("row").filter({ hasText: NAMES.free })).toContainText("Automatic");
  await expect(plans.getByRole("row").filter({ hasText: NAMES.gold })).toContainText("100,000 per month");
  await expect(plans.getByRole("row").filter({ hasText: NAMES.gold })).toContainText("Manual");
  await checkScreen(page, "portal-product");

  // Two authentication methods, then two plans: refused before anything is sent.
  await addToCart(page, graphqlRequests, NAMES.ledger, NAMES.free);
  await open(page, graphqlRequests, "Cart", "Cart");
  const refused = page.getByRole("alert").filter({ hasText: "This cart cannot be submitted yet" });
  await expect(refused).toContainText("All products must use the same authentication method; this cart mixes Auth token, JWT.");
  await page.getByLabel("App name").fill(NAMES.app);
  await page.getByRole("textbox", { name: "Client" }).click();
  await page.getByRole("option", { name: NAMES.client }).click();
  const submit = page.getByRole("button", { name: "Submit request" });
  await expect(submit).toBeDisabled();
  await page.getByRole("button", { name: `Remove ${NAMES.ledger}` }).click();
  await expect(refused).toHaveCount(0);
  await expect(submit).toBeEnabled();

  await addToCart(page, graphqlRequests, NAMES.refunds, NAMES.gold);
  await open(page, graphqlRequests, "Cart", "Cart");
  await expect(refused).toContainText(`A request has a single plan; this cart has ${NAMES.free}, ${NAMES.gold}.`);
  await page.getByRole("textbox", { name: "One plan for the whole request" }).click();
  await page.getByRole("option", { name: NAMES.free }).click();
  await expect(refused).toHaveCount(0);
  await page.getByRole("button", { name: `Remove ${NAMES.refunds}` }).click();

  // A new app on the auto-approve plan: approved at once, its token shown once.
  await page.getByLabel("App name").fill(NAMES.app);
  await page.getByRole("textbox", { name: "Client" }).click();
  await page.getByRole("option", { name: NAMES.client }).click();
  await page.getByLabel("Allowed IPs").fill("10.0.0.1/24");
  await expect(page.getByText("10.0.0.1/24 has host bits set")).toBeVisible();
  await page.getByLabel("Allowed IPs").fill("10.0.0.0/24");
  await checkScreen(page, "portal-cart");
  await submit.click();
  await expect(page.getByRole("status").filter({ hasText: "Approved" })).toBeVisible();
  await expect(page.getByTestId("new-token")).toBeVisible();
  const token = await takeToken(page);
  await expect(nav(page).getByRole("link", { name: "Cart" })).toBeVisible();

  // The manual plan, first for a new app of a name already taken: the server's userError on its
  // field; then for the app just made: waiting for approval.
  await addToCart(page, graphqlRequests, NAMES.refunds, NAMES.gold);
  await open(page, graphqlRequests, "Cart", "Cart");
  await page.getByLabel("App name").fill(NAMES.app);
  await page.getByRole("textbox", { name: "Client" }).click();
  await page.getByRole("option", { name: NAMES.client }).click();
  await submit.click();
  await expect(page.getByLabel("App name")).toHaveAccessibleDescription(new RegExp(`'${NAMES.app}' exists already`));
  await page.getByText("An existing app", { exact: true }).click();
  await page.getByRole("textbox", { name: "App", exact: true }).click();
  await page.getByRole("option", { name: NAMES.app }).click();
  await submit.click();
  const waiting = page.getByRole("status").filter({ hasText: "Waiting for approval" });
  await expect(waiting).toContainText("You will be mailed when it is approved or rejected");
  await expect(page.getByTestId("new-token")).toHaveCount(0);

  // My requests: the pending one is cancelled; the approved one says who decided.
  await open(page, graphqlRequests, "My requests", "My requests");
  const requests = page.getByRole("table", { name: "My requests" });
  const pending = requests.getByRole("row").filter({ hasText: NAMES.gold });
  await expect(pending).toContainText("Pending");
  await expect(requests.getByRole("row").filter({ hasText: NAMES.free })).toContainText(`Approved by auto-approve (plan ${NAMES.free})`);
  await checkScreen(page, "portal-requests");
  await pending.getByRole("button", { name: `Cancel request for ${NAMES.app}` }).click();
  const dialog = page.getByRole("dialog", { name: `Cancel the request for ${NAMES.app}?` });
  await dialog.getByRole("button", { name: "Cancel request" }).click();
  await expect(dialog).toBeHidden();
  await expect(pending).toContainText("Cancelled");
  await expect(pending.getByRole("button", { name: /Cancel request/ })).toHaveCount(0);

  // My apps: products, plan, allowed IPs and token hint; Refresh token asks, then shows it once.
  await open(page, graphqlRequests, "My apps", "My apps");
  const app = page.getByRole("table", { name: `Apps of ${NAMES.client}` }).getByRole("row").filter({ hasText: NAMES.app });
  await expect(app).toContainText(NAMES.payments);
  await expect(app).not.toContainText(NAMES.refunds);
  await expect(app).toContainText(NAMES.free);
  await expect(app).toContainText("10.0.0.0/24");
  await expect(app).toContainText(`…${token.slice(-4)}`);
  await checkScreen(page, "portal-apps");
  await app.getByRole("button", { name: `Refresh token of ${NAMES.app}` }).click();
  await page.getByRole("dialog", { name: `Refresh the token of ${NAMES.app}?` }).getByRole("button", { name: "Refresh token" }).click();
  const refreshed = await takeToken(page);
  expect(refreshed).not.toBe(token);
  await expect(app).toContainText(`…${refreshed.slice(-4)}`);

  // Admin screens are out of reach, even by their address: ForAdmins' notice, and the screen
  // asks nothing (a full load asks only for the viewer, which the shell needs).
  for (const section of ["apis", "clients", "members", "access-requests", "products"]) {
    const before = graphqlRequests.seen.length;
    await page.goto(`/workspaces/${workspaceId}/${section}`);
    await expect(page.getByText("Not available", { exact: true })).toBeVisible();
    await expect(page.getByText("This page is for the workspace's administrators. Go to the API catalogue.")).toBeVisible();
    await page.waitForLoadState("networkidle");
    const asked = graphqlRequests.seen.slice(before).map((r) => (r.postDataJSON() as { operationName?: string }).operationName);
    expect(asked, `GraphQL requests of the ${section} screen for a consumer`).toEqual(["Viewer"]);
  }
  await checkScreen(page, "portal-not-available");
});

test("Developer portal for admins: a link in the navigation to the same catalogue", async ({ page, server }) => {
  await signIn(page, server.key);
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Developer portal" }).click();
  await expect(page.getByRole("heading", { name: "API catalogue", level: 2 })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Developer portal" }).getByRole("link", { name: "My apps" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Clients", exact: true })).toBeVisible();
});

test.describe("in a phone-sized window", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("Developer portal: the catalogue, a product, the cart, My apps and My requests fit a narrow window", async ({ page, server, api }) => {
    const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
    const workspaceId = workspaces[0]?.id ?? "";
    const name = `Narrow Product ${RUN}`;
    const pay = await created<{ id: string }>(api, "createApi", "api", {
      workspaceId,
      name: `Narrow API ${RUN}`,
      identifier: `narrow-${RUN}`,
      baseUrl: `https://api.example.com/a/rather/long/path/for/a/phone/narrow-${RUN}`,
    });
    await created(api, "createApiProduct", "apiProduct", { workspaceId, name, authMethod: "AUTH_TOKEN", apiIds: [pay.id], published: true });
    await created(api, "createPlan", "plan", { workspaceId, name: `Narrow Plan ${RUN}`, rateLimit: { requests: 5, period: "MINUTE" } });
    await signIn(page, server.key);
    const fits = async (what: string) => {
      await page.waitForLoadState("networkidle");
      expect(await outsideWindow(page), `${what}: outside the window`).toEqual([]);
    };
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Developer portal" }).click();
    await expect(page.getByRole("heading", { name: "API catalogue", level: 2 })).toBeVisible();
    await fits("API catalogue");
    await page.getByRole("link", { name, exact: true }).click();
    await expect(page.getByRole("heading", { name, level: 2 })).toBeVisible();
    await fits("a product");
    await page.getByRole("table", { name: "Plans" }).getByRole("row").filter({ hasText: `Narrow Plan ${RUN}` }).getByRole("button", { name: "Access with this Plan" }).click();
    for (const [link, heading] of [
      ["Cart (1)", "Cart"],
      ["My apps", "My apps"],
      ["My requests", "My requests"],
    ] as const) {
      await page.getByRole("navigation", { name: "Developer portal" }).getByRole("link", { name: link }).click();
      await expect(page.getByRole("heading", { name: heading, level: 2 })).toBeVisible();
      await fits(heading);
    }
  });
});
