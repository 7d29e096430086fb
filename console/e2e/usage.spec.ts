// Usage charts: real /v1/check calls with an app's token, flushed by the server (every half
// second in e2e/server.ts), then the client's page and the portal's My apps show them.
import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, signIn, test, type Api, type GraphQLRequests, type Server } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const CLIENT = `Usage client ${RUN}`;
const APP = `usage-app-${RUN}`;
const IDENTIFIER = `usage-${RUN}`;

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>, extra = ""): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } ${extra} userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], mutation).toEqual([]);
  return data[mutation] as T;
}

/** A client with one app (token, allowed from 10.0.0.0/8) on a product holding an API. */
async function seed(api: Api): Promise<{ workspaceId: string; clientId: string; profileId: string; token: string }> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  const made = <T>(mutation: string, field: string, input: Record<string, unknown>, extra = "") =>
    created<Record<string, T>>(api, mutation, field, { workspaceId, ...input }, extra);
  const apiId = (await made<{ id: string }>("createApi", "api", { name: `Usage API ${RUN}`, identifier: IDENTIFIER })).api?.id;
  const product = await made<{ id: string }>("createApiProduct", "apiProduct", {
    name: `Usage product ${RUN}`,
    authMethod: "AUTH_TOKEN",
    apiIds: [apiId],
    published: true,
  });
  const plan = await made<{ id: string }>("createPlan", "plan", { name: `Usage plan ${RUN}` });
  const clientId = (await made<{ id: string }>("createClient", "client", { name: CLIENT })).client?.id ?? "";
  const app = await created<{ accessProfile: { id: string }; token: string }>(
    api,
    "createAccessProfile",
    "accessProfile",
    { clientId, name: APP, authMethod: "AUTH_TOKEN", allowedIps: ["10.0.0.0/8"], productIds: [product.apiProduct?.id], planId: plan.plan?.id },
    "token",
  );
  return { workspaceId, clientId, profileId: app.accessProfile.id, token: app.token };
}

async function call(page: Page, server: Server, token: string, ip: string): Promise<string> {
  const response = await page.request.post(`${server.url}/v1/check`, { data: { credential: token, api: IDENTIFIER, ip } });
  return ((await response.json()) as { reason: string }).reason;
}

/** The app's allowed and denied calls today as the server has stored them. */
async function stored(api: Api, profileId: string): Promise<number[]> {
  const now = new Date();
  const from = new Date(now.getTime() - 86_400_000).toISOString();
  const data = await api.gql<{ node: { usageSeries: { allowed: number; denied: number }[] } }>(
    "query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on AccessProfile { usageSeries(from: $from, to: $to, bucket: DAY) { allowed denied } } } }",
    { id: profileId, from, to: new Date(now.getTime() + 3_600_000).toISOString() },
  );
  const points = data.node.usageSeries;
  return [points.reduce((n, p) => n + p.allowed, 0), points.reduce((n, p) => n + p.denied, 0)];
}

async function expectCounts(usage: Locator, unit: "hour" | "day"): Promise<void> {
  const table = usage.getByRole("table", { name: `Calls of ${APP} by ${unit}` });
  // The calls usually fall in one bucket, but may straddle an hour (or midnight UTC): add up
  // the busy rows rather than expect exactly one.
  const busy = table.getByRole("row").filter({ has: usage.page().getByRole("cell") });
  await expect
    .poll(async () => {
      let allowed = 0;
      let denied = 0;
      for (const row of await busy.all()) {
        const cells = await row.getByRole("cell").allTextContents();
        allowed += Number(cells[1]);
        denied += Number(cells[2]);
      }
      return [allowed, denied];
    })
    .toEqual([3, 2]);
  await expect(usage).toContainText("3 allowed, 2 denied. Top denial reasons: ip_not_allowed (2).");
  await expect(usage.getByRole("img", { name: `Chart of the calls of ${APP}; the table gives the same counts` })).toBeVisible();
}

async function pickRange(page: Page, requests: GraphQLRequests, label: string): Promise<void> {
  const count = await requests.during(page, async () => {
    await page.getByRole("radiogroup", { name: "Usage range" }).getByText(label).click();
  });
  expect(count, `GraphQL requests to show ${label}: ${requests.names(count)}`).toBe(1);
}

test("Usage: calls to /v1/check show on the client's page and in My apps, by hour and by day, with the top denial reason", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  const { workspaceId, clientId, profileId, token } = await seed(api);
  for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) expect(await call(page, server, token, ip)).toBe("ok");
  for (const ip of ["192.0.2.1", "192.0.2.2"]) expect(await call(page, server, token, ip)).toBe("ip_not_allowed");
  await expect.poll(() => stored(api, profileId), { timeout: 15_000 }).toEqual([3, 2]);

  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.goto(`/workspaces/${workspaceId}/clients/${clientId}`);
    await expect(page.getByRole("heading", { name: CLIENT })).toBeVisible();
  });
  expect(opened, `GraphQL requests to open the client: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(2); // the session's, and the page's one
  const usage = page.getByRole("region", { name: `Usage of ${APP}` });
  await expectCounts(usage, "hour");
  await checkScreen(page, "client-usage");
  await pickRange(page, graphqlRequests, "Last 7 days");
  await expectCounts(usage, "day");
  await pickRange(page, graphqlRequests, "Last 30 days");
  await expectCounts(usage, "day");

  // The portal's My apps (an admin sees every client's apps there).
  await page.goto(`/workspaces/${workspaceId}/portal/apps`);
  await expect(page.getByRole("heading", { name: "My apps" })).toBeVisible();
  const mine = page.getByRole("region", { name: `Usage of ${APP}` });
  await expectCounts(mine, "hour");
  await checkScreen(page, "portal-usage");
  await pickRange(page, graphqlRequests, "Last 7 days");
  await expectCounts(mine, "day");
});
