import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, outsideWindow, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const PARTNER = `partner-portal-${RUN}`;
const APPS = {
  approve: `mobile-${RUN}`,
  reject: `web-${RUN}`,
  conflict: `batch-${RUN}`,
  linked: `kiosk-${RUN}`,
  auto: `sandbox-${RUN}`,
  waiting: `reports-${RUN}`,
};

interface Seeded {
  workspaceId: string;
  requests: Record<keyof typeof APPS, string>;
  readerKey: string;
}

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  const payload = data[mutation];
  expect(payload?.userErrors ?? [], `${mutation} ${JSON.stringify(input)}`).toEqual([]);
  return payload?.[field] as T;
}

async function keyFor(api: Api, workspaceId: string, name: string, permissions: string[]): Promise<string> {
  const role = await created<{ id: string }>(api, "createRole", "role", {
    workspaceId,
    name: `${name}-role`,
    permissions: permissions.map((permission) => ({ name: permission })),
  });
  const data = await api.gql<{ createApiAccess: { token: string } }>(
    `mutation($input: CreateApiAccessInput!) { createApiAccess(input: $input) { token userErrors { message } } }`,
    { input: { workspaceId, name, roleId: role.id, expiresAt: new Date(Date.now() + 86_400_000).toISOString() } },
  );
  return data.createApiAccess.token;
}

/** GraphQL as another key (the fixtures' Api speaks as the Owner). */
async function gqlAs<T>(page: Page, url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await page.request.post(`${url}/graphql`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { query, variables },
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

/** A client, two products, a manual and an auto-approve plan, and a partner's requests for five apps. */
async function seed(api: Api, page: Page, url: string): Promise<Seeded> {
  const viewer = await api.gql<{ viewer: { memberships: { workspace: { id: string } }[] } }>(
    "{ viewer { memberships { workspace { id } } } }",
  );
  const workspaceId = viewer.viewer.memberships[0]?.workspace.id ?? "";
  const client = await created<{ id: string }>(api, "createClient", "client", { workspaceId, name: `Acme ${RUN}` });
  const products = await Promise.all(
    ["Payments", "Refunds"].map((name) =>
      created<{ id: string }>(api, "createApiProduct", "apiProduct", {
        workspaceId,
        name: `${name} ${RUN}`,
        authMethod: "AUTH_TOKEN",
        published: true,
      }),
    ),
  );
  const gold = await created<{ id: string }>(api, "createPlan", "plan", { workspaceId, name: `Gold ${RUN}` });
  const free = await created<{ id: string }>(api, "createPlan", "plan", {
    workspaceId,
    name: `Free ${RUN}`,
    autoApprove: true,
  });
  // The partner's integration asks for its client's apps (a key acts as no person, so it manages clients).
  const partnerKey = await keyFor(api, workspaceId, PARTNER, ["getProduct", "requestAccess", "manageClients"]);
  const readerKey = await keyFor(api, workspaceId, `request-reader-${RUN}`, ["getAccessRequest"]);
  const requests = {} as Record<keyof typeof APPS, string>;
  for (const [which, app] of Object.entries(APPS) as [keyof typeof APPS, string][]) {
    const response = await gqlAs<{
      submitAccessRequest: { accessRequest: { id: string } | null; userErrors: { message: string }[] };
    }>(
      page,
      url,
      partnerKey,
      `mutation($input: SubmitAccessRequestInput!) {
        submitAccessRequest(input: $input) { accessRequest { id } userErrors { message } } }`,
      {
        input: {
          productIds: which === "reject" ? [products[1]?.id] : products.map((p) => p.id),
          planId: which === "auto" ? free.id : gold.id,
          newAccessProfile: { clientId: client.id, name: app },
        },
      },
    );
    expect(response.submitAccessRequest.userErrors).toEqual([]);
    requests[which] = response.submitAccessRequest.accessRequest?.id ?? "";
  }
  return { workspaceId, requests, readerKey };
}

function table(page: Page): Locator {
  return page.getByRole("table", { name: "Access requests" });
}

function row(page: Page, app: string): Locator {
  return table(page).getByRole("row").filter({ hasText: app });
}

async function menu(page: Page, app: string): Promise<void> {
  await page.getByRole("button", { name: `Actions for ${PARTNER} for ${app}` }).click();
}

async function chooseStatus(page: Page, status: string): Promise<void> {
  await page.getByRole("region", { name: "Filters" }).getByRole("textbox", { name: "Status" }).click();
  await page.getByRole("option", { name: status, exact: true }).click();
}

test("Access requests: list, filter, approve, reject with a reason, a conflict, a deep link, and a read-only role", async ({
  page,
  browser,
  server,
  api,
  graphqlRequests,
}) => {
  const { workspaceId, requests, readerKey } = await seed(api, page, server.url);

  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Access requests", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Access requests" })).toBeVisible();
    await expect(row(page, APPS.approve)).toBeVisible();
  });
  expect(opened, `GraphQL requests to open the screen: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(1);

  // The columns, and a pending row with its user, app, client, products and plan.
  const headers = await table(page).getByRole("columnheader").allTextContents();
  expect(headers.slice(0, 7)).toEqual([
    "User",
    "Developer app",
    "Requested products",
    "Selected plan",
    "Status",
    "Requested",
    "Decision",
  ]);
  await expect(row(page, APPS.approve)).toContainText(PARTNER);
  await expect(row(page, APPS.approve)).toContainText(`Acme ${RUN}`);
  await expect(row(page, APPS.approve)).toContainText(`Payments ${RUN}`);
  await expect(row(page, APPS.approve)).toContainText(`Refunds ${RUN}`);
  await expect(row(page, APPS.approve)).toContainText(`Gold ${RUN}`);
  await expect(row(page, APPS.approve)).toContainText("Pending");
  await expect(row(page, APPS.reject)).not.toContainText(`Payments ${RUN}`);
  // The auto-approved request is listed as approved, with its record.
  await expect(row(page, APPS.auto)).toContainText("Approved");
  await expect(row(page, APPS.auto)).toContainText(`Approved by auto-approve (plan Free ${RUN})`);
  await expect(row(page, APPS.auto)).toContainText(`Free ${RUN}`);
  await checkScreen(page, "access-requests");

  // Filter by status.
  await chooseStatus(page, "Approved");
  await expect(row(page, APPS.auto)).toBeVisible();
  await expect(row(page, APPS.approve)).toHaveCount(0);
  await chooseStatus(page, "Pending");
  await expect(row(page, APPS.approve)).toBeVisible();
  await expect(row(page, APPS.auto)).toHaveCount(0);
  await chooseStatus(page, "All");
  await expect(row(page, APPS.auto)).toBeVisible();

  // Approve from the three-dot menu: the status changes and the decision is shown.
  await menu(page, APPS.approve);
  await page.getByRole("menuitem", { name: "Approve" }).click();
  const approve = page.getByRole("dialog", { name: `Approve the request for ${APPS.approve}?` });
  await approve.getByLabel("Note to the requester").fill("Welcome aboard");
  await approve.getByRole("button", { name: "Approve" }).click();
  await expect(approve).toBeHidden();
  await expect(row(page, APPS.approve)).toContainText("Approved");
  await expect(row(page, APPS.approve)).toContainText("Approved by ");
  await expect(row(page, APPS.approve)).toContainText("Welcome aboard");

  // Reject needs a reason: the button stays disabled until one is typed.
  await menu(page, APPS.reject);
  await page.getByRole("menuitem", { name: "Reject" }).click();
  const reject = page.getByRole("dialog", { name: `Reject the request for ${APPS.reject}?` });
  const rejectButton = reject.getByRole("button", { name: "Reject" });
  await expect(rejectButton).toBeDisabled();
  await reject.getByRole("textbox", { name: "Reason" }).fill("   ");
  await expect(rejectButton).toBeDisabled();
  await reject.getByRole("textbox", { name: "Reason" }).fill("No budget this quarter");
  await expect(rejectButton).toBeEnabled();
  await rejectButton.click();
  await expect(reject).toBeHidden();
  await expect(row(page, APPS.reject)).toContainText("Rejected");
  await expect(row(page, APPS.reject)).toContainText("No budget this quarter");

  // Decided elsewhere meanwhile: the server's CONFLICT message, and the refreshed status.
  await menu(page, APPS.conflict);
  await page.getByRole("menuitem", { name: "Approve" }).click();
  const late = page.getByRole("dialog", { name: `Approve the request for ${APPS.conflict}?` });
  await api.gql(
    `mutation($input: RejectAccessRequestInput!) { rejectAccessRequest(input: $input) { userErrors { message } } }`,
    { input: { id: requests.conflict, reason: "Decided by a colleague" } },
  );
  await late.getByRole("button", { name: "Approve" }).click();
  await expect(late).toBeHidden();
  await expect(page.getByRole("alert", { name: "Decided elsewhere" })).toContainText(
    "The request is rejected already; only pending requests can be decided.",
  );
  await expect(row(page, APPS.conflict)).toContainText("Rejected");
  await expect(row(page, APPS.conflict)).toContainText("Decided by a colleague");

  // The deep link (the decision mail's link) opens that request beside the list, in one request.
  const linked = await graphqlRequests.during(page, async () => {
    await page.goto(`/workspaces/${workspaceId}/access-requests/${requests.linked}`);
    await expect(page.getByRole("dialog", { name: `Request for ${APPS.linked}` })).toBeVisible();
  });
  expect(linked, `GraphQL requests for the deep link: ${graphqlRequests.names(linked)}`).toBeLessThanOrEqual(2);
  const detail = page.getByRole("dialog", { name: `Request for ${APPS.linked}` });
  await expect(detail.getByRole("table", { name: "Request details" })).toContainText(`Gold ${RUN}`);
  await expect(detail.getByRole("table", { name: "Request details" })).toContainText("Pending");
  await checkScreen(page, "access-requests-detail");
  await detail.getByRole("button", { name: "Reject" }).click();
  const rejectLinked = page.getByRole("dialog", { name: `Reject the request for ${APPS.linked}?` });
  await rejectLinked.getByRole("textbox", { name: "Reason" }).fill("Use the sandbox first");
  await rejectLinked.getByRole("button", { name: "Reject" }).click();
  await expect(detail.getByRole("table", { name: "Request details" })).toContainText("Rejected");
  await expect(detail.getByRole("table", { name: "Request details" })).toContainText("Use the sandbox first");
  await detail.getByRole("button", { name: "Close the request" }).click();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${workspaceId}/access-requests$`));

  // A link to a request that does not exist says so, and leads back to the list.
  const gone = Buffer.from("AccessRequest:00000000-0000-4000-8000-000000000000").toString("base64");
  await page.goto(`/workspaces/${workspaceId}/access-requests/${gone}`);
  await expect(page.getByRole("alert", { name: "Request not found" })).toContainText("does not exist");
  await page.getByRole("button", { name: "Show all requests" }).click();
  await expect(row(page, APPS.approve)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${workspaceId}/access-requests$`));

  // A phone-sized window: the table scrolls in its own box, nothing else sticks out.
  await page.setViewportSize({ width: 390, height: 800 });
  await expect(row(page, APPS.approve)).toBeVisible();
  expect(await outsideWindow(page)).toEqual([]);

  // A role that may read requests but not decide them sees the actions disabled, with the reason.
  const context = await browser.newContext({ baseURL: server.url });
  const reader = await context.newPage();
  // Signed out, the mail's link leads through sign-in to the request itself.
  await signIn(reader, readerKey, `/workspaces/${workspaceId}/access-requests/${requests.waiting}`);
  const readOnly = reader.getByRole("dialog", { name: `Request for ${APPS.waiting}` });
  await expect(readOnly.getByRole("table", { name: "Request details" })).toContainText("Pending");
  await expect(readOnly.getByRole("button", { name: "Approve" })).toBeDisabled();
  await expect(readOnly.getByRole("button", { name: "Reject" })).toBeDisabled();
  const reason = `Your role (request-reader-${RUN}-role) lacks the decideAccessRequest permission.`;
  await readOnly.getByRole("button", { name: "Approve" }).hover({ force: true });
  await expect(reader.getByRole("tooltip")).toHaveText(reason);
  await readOnly.getByRole("button", { name: "Close the request" }).click();

  await chooseStatus(reader, "Pending");
  await expect(row(reader, APPS.waiting)).toContainText("Pending");
  await expect(row(reader, APPS.approve)).toHaveCount(0);
  await menu(reader, APPS.waiting);
  await expect(reader.getByRole("menuitem", { name: "Approve" })).toBeDisabled();
  await expect(reader.getByRole("menuitem", { name: "Reject" })).toBeDisabled();
  await expect(reader.getByRole("menu")).toContainText(reason);
  await context.close();
});
