// The access-request story end to end, through the console: an owner onboards a consumer and
// publishes a product and two plans; the consumer (signed in at the real OpenID Provider) asks
// for access; the owner is mailed (a real SMTP server, see server.ts) and approves from the
// mail's link; the consumer is mailed; and the app's token is checked by a real nginx running
// deploy/nginx/accessplane.conf.
import type { Browser, Locator, Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { checkScreen, expect, GraphQLRequests, test, throughProvider, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const LOGIN = `story-${RUN}`;
const CONSUMER = `${LOGIN}@example.com`;
const OWNER = "ada@example.com";
const NAMES = {
  api: `Orders API ${RUN}`,
  identifier: `orders-${RUN}`,
  client: `Northwind ${RUN}`,
  orders: `Orders ${RUN}`,
  ledger: `Ledger ${RUN}`,
  gold: `Gold ${RUN}`,
  free: `Free ${RUN}`,
  app: `shop-${RUN}`,
};
const PYTHON = process.env.ACCESSPLANE_PYTHON ?? resolve(import.meta.dirname, "../../.venv/bin/python");
const MAIL_WAIT = 20_000;

interface Mail {
  to: string[];
  subject: string;
  text: string;
}

/** Skips with `reason` when `missing`, but fails under CI (as the other specs do). */
function needs(missing: boolean, reason: string): void {
  if (missing && process.env.CI === "true") throw new Error(reason);
  test.skip(missing, reason);
}

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], `${mutation} ${JSON.stringify(input)}`).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** What the console has no screen for: the API itself (as an integration would register it with
 * the Owner key). */
async function seed(api: Api): Promise<string> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  await created(api, "createApi", "api", { workspaceId, name: NAMES.api, identifier: NAMES.identifier, baseUrl: `https://api.example.com/${NAMES.identifier}` });
  return workspaceId;
}

/** A signed-in page of its own for `login` (ada is the provider's first person, the Owner,
 * whichever spec signs her in first). */
async function personPage(browser: Browser, baseURL: string, login: string, start?: string): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await throughProvider(page, login, start);
  return page;
}

/** The mails received so far (server.ts's sink writes each as a JSON file). */
function mails(): Mail[] {
  const dir = process.env.ACCESSPLANE_E2E_MAIL ?? "";
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(readFileSync(join(dir, name), "utf8")) as Mail);
}

/** The one mail to `to` whose subject is `subject`, waited for (bounded) as the worker sends it. */
async function mailTo(to: string, subject: string | RegExp): Promise<Mail> {
  const matches = (said: string) => (typeof subject === "string" ? said === subject : subject.test(said));
  const matching = () => mails().filter((mail) => mail.to.includes(to) && matches(mail.subject));
  await expect.poll(() => matching().length, { message: `a mail "${subject}" to ${to}`, timeout: MAIL_WAIT }).toBe(1);
  return matching()[0] as Mail;
}

/** nginx with the documented gateway configuration in front of the e2e server. */
class Gateway {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** Started by console/e2e/gateway.py; a string is the reason it cannot run here. */
  static async start(serverUrl: string, api: string): Promise<Gateway | string> {
    const dir = mkdtempSync(join(tmpdir(), "accessplane-e2e-nginx-"));
    const child = spawn(PYTHON, [join(import.meta.dirname, "gateway.py"), dir, new URL(serverUrl).port, api], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let said = "";
    child.stderr?.on("data", (chunk: Buffer) => (said += chunk.toString()));
    const line = await new Promise<string>((done) => {
      child.stdout?.once("data", (chunk: Buffer) => done(chunk.toString()));
      child.once("exit", () => done(""));
    });
    if (!line) throw new Error(`console/e2e/gateway.py failed:\n${said}`);
    const answer = JSON.parse(line) as { port?: number; skip?: string };
    if (answer.skip) {
      rmSync(dir, { recursive: true, force: true });
      return answer.skip;
    }
    return new Gateway(child, dir, answer.port ?? 0);
  }

  /** The status of a call to the protected API with `token`. */
  async call(token: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${this.port}/orders/42`, { headers: { Authorization: `Bearer ${token}` } });
    return response.status;
  }

  async stop(): Promise<void> {
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill("SIGTERM");
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Opens a section from the navigation and says how many GraphQL requests that took. */
async function open(page: Page, requests: GraphQLRequests, link: string, heading: string): Promise<void> {
  const count = await requests.during(page, async () => {
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: link, exact: true }).click();
    await expect(page.getByRole("heading", { name: heading, level: 2 })).toBeVisible();
  });
  // At most: a screen seen before in this session may answer from urql's cache.
  expect(count, `GraphQL requests to open ${heading}: ${requests.names(count)}`).toBeLessThanOrEqual(1);
}

async function choose(page: Page, scope: Locator, label: string, option: string): Promise<void> {
  await scope.getByRole("textbox", { name: label }).click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

/** Products screen: a published product, with the API when given. */
async function publishProduct(page: Page, name: string, method: string, api?: string): Promise<void> {
  await page.getByRole("button", { name: "New product" }).click();
  const form = page.getByRole("dialog", { name: "New product" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Description").fill(`${name} for partners.`);
  if (api) {
    await form.getByRole("textbox", { name: "APIs" }).fill(api);
    await page.getByRole("option", { name: api }).click();
    await form.getByRole("textbox", { name: "APIs" }).press("Tab"); // a multi-select stays open until focus leaves
  }
  await choose(page, form, "Authentication method", method);
  await form.getByLabel("Published").check();
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form).toBeHidden();
  const row = page.getByRole("table", { name: "Products" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("Published");
  if (api) await expect(row).toContainText(api);
}

/** Plans screen: a plan of 100 calls a minute, approved by hand or automatically. */
async function createPlan(page: Page, name: string, autoApprove: boolean): Promise<void> {
  await page.getByRole("button", { name: "New plan" }).click();
  const form = page.getByRole("dialog", { name: "New plan" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Rate limit").check();
  await form.getByLabel("Requests", { exact: true }).fill("100");
  await choose(page, form, "Rate period", "per minute");
  if (autoApprove) await form.getByLabel("Auto approve access request").check();
  await form.getByRole("button", { name: "Create plan" }).click();
  await expect(form).toBeHidden();
  const row = page.getByRole("table", { name: "Plans" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("100 per minute");
  await expect(row.getByRole("cell").nth(4)).toHaveText(autoApprove ? "Yes" : "No");
}

/** The owner invites the consumer (role Consumer) and makes them a member of a new client. */
async function ownerOnboards(page: Page, requests: GraphQLRequests): Promise<void> {
  await open(page, requests, "Members", "Members");
  await page.getByRole("button", { name: "Invite member" }).click();
  const invite = page.getByRole("dialog", { name: "Invite member" });
  await invite.getByLabel("Email").fill(CONSUMER);
  await invite.getByLabel("Name").fill(`Sam ${RUN}`);
  await choose(page, invite, "Role", "Consumer");
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(invite).toBeHidden();
  await expect(page.getByText(`${CONSUMER} added.`)).toBeVisible();

  await open(page, requests, "Clients", "Clients");
  await page.getByRole("button", { name: "New client" }).click();
  const form = page.getByRole("dialog", { name: "New client" });
  await form.getByLabel("Name").fill(NAMES.client);
  await form.getByRole("button", { name: "Add members" }).click();
  const picker = page.getByRole("dialog", { name: "Add members" });
  await picker.getByRole("textbox", { name: "People" }).fill(LOGIN);
  await page.getByRole("option", { name: `Sam ${RUN} <${CONSUMER}>` }).click();
  await picker.getByRole("textbox", { name: "People" }).press("Tab"); // a multi-select stays open until focus leaves
  await picker.getByRole("button", { name: "Add", exact: true }).click();
  await expect(picker).toBeHidden();
  await form.getByRole("button", { name: "Create client" }).click();
  await expect(form).toBeHidden();
  // The debounced search is let finish here, so it is not counted as the next screen's request.
  const searched = page.waitForResponse((r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes(`"search":"${NAMES.client}"`));
  await page.getByLabel("Search").fill(NAMES.client);
  await searched;
  await expect(page.getByRole("table", { name: "Clients" }).getByRole("row").filter({ hasText: NAMES.client })).toContainText("Active");
}

/** The owner, on the admin screens: the product the story is about, a JWT one, two plans. */
async function ownerPublishes(page: Page, requests: GraphQLRequests): Promise<void> {
  await open(page, requests, "Products", "Products");
  await page.getByLabel("Search").fill(RUN);
  await publishProduct(page, NAMES.orders, "Auth token (AUTH_TOKEN)", NAMES.api);
  await publishProduct(page, NAMES.ledger, "JWT (JWT)");
  await open(page, requests, "Plans", "Plans");
  await page.getByLabel("Search").fill(RUN);
  await createPlan(page, NAMES.gold, false);
  await createPlan(page, NAMES.free, true);
}

async function addToCart(page: Page, requests: GraphQLRequests, product: string, plan: string): Promise<void> {
  await open(page, requests, "API catalogue", "API catalogue");
  const count = await requests.during(page, async () => {
    await page.getByRole("link", { name: product, exact: true }).click();
    await expect(page.getByRole("heading", { name: product, level: 2 })).toBeVisible();
  });
  expect(count, `GraphQL requests to open ${product}: ${requests.names(count)}`).toBe(1);
  const plans = page.getByRole("table", { name: "Plans" });
  await expect(plans.getByRole("row").filter({ hasText: NAMES.gold })).toContainText("Manual");
  await expect(plans.getByRole("row").filter({ hasText: NAMES.free })).toContainText("Automatic");
  await plans.getByRole("row").filter({ hasText: plan }).getByRole("button", { name: "Access with this Plan" }).click();
  await expect(page.getByRole("status").filter({ hasText: "In your cart" })).toContainText(`${product} with the plan ${plan}`);
}

/** The same submitAccessRequest the cart would send (its items as stored, a new app), sent
 * through the page's session with the console's CSRF header: the server's userErrors. */
async function submitBehindTheForm(page: Page, workspaceId: string): Promise<string[]> {
  return page.evaluate(
    async ({ workspaceId, client, app }) => {
      const session = (await (await fetch("/auth/session")).json()) as { csrfToken: string };
      const post = async <T,>(query: string, variables: Record<string, unknown>): Promise<T> => {
        const response = await fetch("/graphql", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrfToken },
          body: JSON.stringify({ query, variables }),
        });
        return ((await response.json()) as { data: T }).data;
      };
      const cart = JSON.parse(sessionStorage.getItem(`accessplane.cart.${workspaceId}`) ?? "[]") as { product: { id: string }; plan: { id: string } }[];
      const clients = await post<{ workspace: { clients: { edges: { node: { id: string; name: string } }[] } } }>(
        "query($id: ID!) { workspace(id: $id) { clients(first: 100) { edges { node { id name } } } } }",
        { id: workspaceId },
      );
      const clientId = clients.workspace.clients.edges.find(({ node }) => node.name === client)?.node.id;
      const input = { productIds: cart.map((item) => item.product.id), planId: cart[0]?.plan.id, newAccessProfile: { clientId, name: app } };
      const data = await post<{ submitAccessRequest: { accessRequest: unknown; userErrors: { message: string }[] } }>(
        "mutation($input: SubmitAccessRequestInput!) { submitAccessRequest(input: $input) { accessRequest { id } userErrors { message } } }",
        { input },
      );
      if (cart.length !== 2 || !clientId || data.submitAccessRequest.accessRequest) return ["the cart was not refused"];
      return data.submitAccessRequest.userErrors.map((error) => error.message);
    },
    { workspaceId, client: NAMES.client, app: NAMES.app },
  );
}

/** The token shown once after the submission or a refresh, then put away with Done. */
async function takeToken(page: Page): Promise<string> {
  const token = (await page.getByTestId("new-token").textContent())?.trim() ?? "";
  expect(token).toMatch(/^apt_/);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  return token;
}

/** The consumer: the catalogue, a cart of two methods refused (by the console and by the
 * server), then the manual plan for a new app: pending, its token shown once. */
async function consumerRequests(page: Page, requests: GraphQLRequests, workspaceId: string): Promise<string> {
  await expect(page.getByRole("heading", { name: "API catalogue", level: 2 })).toBeVisible();
  const orders = page.getByRole("article", { name: NAMES.orders });
  await expect(orders).toContainText(`${NAMES.orders} for partners.`);
  await expect(orders).toContainText(NAMES.api);
  await expect(orders).toContainText(`https://api.example.com/${NAMES.identifier}`);
  await expect(orders).toContainText("Auth token");
  await expect(page.getByRole("article", { name: NAMES.ledger })).toContainText("JWT");

  await addToCart(page, requests, NAMES.orders, NAMES.gold);
  await addToCart(page, requests, NAMES.ledger, NAMES.gold);
  await open(page, requests, "Cart", "Cart");
  const refused = page.getByRole("alert").filter({ hasText: "This cart cannot be submitted yet" });
  await expect(refused).toContainText("All products must use the same authentication method; this cart mixes Auth token, JWT.");
  await page.getByLabel("App name").fill(NAMES.app);
  await page.getByRole("textbox", { name: "Client" }).click();
  await page.getByRole("option", { name: NAMES.client }).click();
  const submit = page.getByRole("button", { name: "Submit request" });
  await expect(submit).toBeDisabled();
  const errors = await submitBehindTheForm(page, workspaceId);
  expect(errors.join(" ")).toContain("All products must use the same authentication method");

  await page.getByRole("button", { name: `Remove ${NAMES.ledger}` }).click();
  await expect(refused).toHaveCount(0);
  await submit.click();
  await expect(page.getByRole("status").filter({ hasText: "Waiting for approval" })).toContainText(`The request for ${NAMES.app} waits for an API owner`);
  return takeToken(page);
}

/** The owner follows the mail's link to the request, checks it and approves it there. */
async function ownerApproves(page: Page, requests: GraphQLRequests, link: string): Promise<void> {
  const opened = await requests.during(page, async () => {
    await page.goto(link);
    await expect(page.getByRole("dialog", { name: `Request for ${NAMES.app}` })).toBeVisible();
  });
  expect(opened, `GraphQL requests for the mail's link: ${requests.names(opened)}`).toBeLessThanOrEqual(2);
  const detail = page.getByRole("dialog", { name: `Request for ${NAMES.app}` });
  const details = detail.getByRole("table", { name: "Request details" });
  for (const text of [NAMES.orders, NAMES.gold, NAMES.client, "Pending"]) await expect(details).toContainText(text);
  await expect(details).not.toContainText(NAMES.ledger);
  await checkScreen(page, "access-request-review");
  await detail.getByRole("button", { name: "Approve" }).click();
  const approve = page.getByRole("dialog", { name: `Approve the request for ${NAMES.app}?` });
  await approve.getByLabel("Note to the requester").fill("Welcome to the orders API");
  await approve.getByRole("button", { name: "Approve" }).click();
  await expect(approve).toBeHidden();
  await expect(details).toContainText("Approved");
  await expect(details).toContainText("Welcome to the orders API");
  await detail.getByRole("button", { name: "Close the request" }).click();
  await expect(detail).toBeHidden();
}

/** Clients screen: deactivates or activates the consumer's client. */
async function setClientActive(page: Page, active: boolean): Promise<void> {
  const row = page.getByRole("table", { name: "Clients" }).getByRole("row").filter({ hasText: NAMES.client });
  await page.getByRole("button", { name: `Actions for ${NAMES.client}` }).click();
  const action = active ? "Activate" : "Deactivate";
  await page.getByRole("menuitem", { name: action }).click();
  const dialog = page.getByRole("dialog", { name: `${action} ${NAMES.client}?` });
  await dialog.getByRole("button", { name: action }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText(active ? "Active" : "Inactive");
}

/** My apps: the approved app with its product and plan; Refresh token shows the new one once. */
async function consumerRefreshes(page: Page, requests: GraphQLRequests, token: string): Promise<string> {
  await open(page, requests, "My apps", "My apps");
  const app = page.getByRole("table", { name: `Apps of ${NAMES.client}` }).getByRole("row").filter({ hasText: NAMES.app });
  await expect(app).toContainText(NAMES.orders);
  await expect(app).toContainText(NAMES.gold);
  await expect(app).toContainText(`…${token.slice(-4)}`);
  await app.getByRole("button", { name: `Refresh token of ${NAMES.app}` }).click();
  await page.getByRole("dialog", { name: `Refresh the token of ${NAMES.app}?` }).getByRole("button", { name: "Refresh token" }).click();
  const fresh = await takeToken(page);
  expect(fresh).not.toBe(token);
  await expect(app).toContainText(`…${fresh.slice(-4)}`);
  return fresh;
}

test("The access-request story: invited by mail, published, requested, mailed, approved from the mail, mailed back, called through nginx, deactivated, refreshed", async ({
  browser,
  server,
  api,
}) => {
  test.setTimeout(120_000);
  needs(!process.env.ACCESSPLANE_E2E_OIDC, "tests/oidc/provider is not installed (npm ci --prefix tests/oidc/provider)");
  needs(!process.env.ACCESSPLANE_E2E_MAIL, `no SMTP server for the mails: ${process.env.ACCESSPLANE_E2E_MAIL_MISSING}`);
  const gateway = await Gateway.start(server.url, NAMES.identifier);
  needs(typeof gateway === "string", `no nginx gateway: ${String(gateway)}`);
  if (typeof gateway === "string") return;
  let owner: Page | undefined, consumer: Page | undefined;
  try {
    const workspaceId = await seed(api);
    owner = await personPage(browser, server.url, "ada");
    const ownerRequests = new GraphQLRequests(owner);
    await owner.goto(`/workspaces/${workspaceId}/apis`);
    await owner.waitForLoadState("networkidle");
    await ownerOnboards(owner, ownerRequests);
    await ownerPublishes(owner, ownerRequests);

    // The consumer starts from the invitation: its link opens the sign-in page, then the
    // workspace, where a consumer lands on the API catalogue.
    const invited = await mailTo(CONSUMER, /^You have been added to .+ on AccessPlane$/);
    expect(invited.text).toContain("the API catalogue");
    const invitation = invited.text.match(/https?:\/\/\S+\/sign-in\?next=\S+/)?.[0] ?? "";
    expect(invitation.startsWith(`${server.url}/sign-in?next=`), `the invitation's link: ${invited.text}`).toBe(true);
    consumer = await personPage(browser, server.url, LOGIN, invitation);
    const consumerCalls = new GraphQLRequests(consumer);
    const token = await consumerRequests(consumer, consumerCalls, workspaceId);
    expect(await gateway.call(token), "a pending app's token").toBe(403);

    // The owner's mail names the app and who asked; its link opens the request in the console.
    const asked = await mailTo(OWNER, `Access requested: ${NAMES.app} by ${CONSUMER}`);
    expect(asked.text).toContain(`Products: ${NAMES.orders}`);
    const link = asked.text.match(/https?:\/\/\S+\/access-requests\/\S+/)?.[0] ?? "";
    expect(link.startsWith(`${server.url}/workspaces/`), `the mail's link: ${asked.text}`).toBe(true);
    await ownerApproves(owner, ownerRequests, link);

    const approved = await mailTo(CONSUMER, `Access approved: ${NAMES.app}`);
    expect(approved.text).toContain(NAMES.orders);
    expect(await gateway.call(token), "the approved app's token").toBe(200);

    // The owner deactivates the client: refused through nginx; active again: allowed.
    await open(owner, ownerRequests, "Clients", "Clients");
    await owner.getByLabel("Search").fill(RUN);
    await setClientActive(owner, false);
    expect(await gateway.call(token), "a token of an inactive client").toBe(403);
    await setClientActive(owner, true);
    expect(await gateway.call(token), "the client active again").toBe(200);

    const fresh = await consumerRefreshes(consumer, consumerCalls, token);
    expect(await gateway.call(token), "the replaced token").toBe(401);
    expect(await gateway.call(fresh), "the refreshed token").toBe(200);
  } finally {
    for (const page of [owner, consumer]) await page?.context().close();
    await gateway.stop();
  }
});
