import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, outsideWindow, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const BILLING = `Billing ${RUN}`;
const HELD = `Held ${RUN}`;
const API = `Invoices API ${RUN}`;

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], mutation).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** An API to bundle, and a product an app holds (which cannot be deleted). */
async function seed(api: Api): Promise<void> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  await created(api, "createApi", "api", { workspaceId, name: API, identifier: `invoices-${RUN}` });
  const held = await created<{ id: string }>(api, "createApiProduct", "apiProduct", { workspaceId, name: HELD, authMethod: "AUTH_TOKEN" });
  const client = await created<{ id: string }>(api, "createClient", "client", { workspaceId, name: `Holder ${RUN}` });
  await created(api, "createAccessProfile", "accessProfile", { clientId: client.id, name: `holder-${RUN}`, authMethod: "AUTH_TOKEN", productIds: [held.id] });
}

function row(page: Page, name: string): Locator {
  return page.getByRole("table", { name: "Products" }).getByRole("row").filter({ hasText: name });
}

test("Products: create with APIs, edit and publish, a taken name refused on its field, delete with confirmation", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  await seed(api);
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Products", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();
  });
  expect(opened, `GraphQL requests to open Products: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(1);
  await page.getByLabel("Search").fill(RUN);
  await expect(row(page, HELD)).toContainText("Draft");

  // Create: APIs searched on the server, the method, a draft.
  await page.getByRole("button", { name: "New product" }).click();
  const form = page.getByRole("dialog", { name: "New product" });
  await form.getByLabel("Name").fill(BILLING);
  await form.getByLabel("Description").fill("Invoices and receipts");
  await form.getByRole("textbox", { name: "APIs" }).click();
  await form.getByRole("textbox", { name: "APIs" }).fill(`Invoices API ${RUN}`);
  await page.getByRole("option", { name: API }).click();
  await form.getByRole("textbox", { name: "APIs" }).press("Tab"); // a multi-select stays open until focus leaves
  await form.getByRole("textbox", { name: "Authentication method" }).click();
  await page.getByRole("option", { name: "OpenID Connect (OIDC)" }).click();
  await checkScreen(page, "products-edit");
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form).toBeHidden();
  await expect(row(page, BILLING)).toContainText(API);
  await expect(row(page, BILLING)).toContainText("OIDC");
  await expect(row(page, BILLING)).toContainText("Draft");

  // Edit: a name another product has is refused on the name field; then publish.
  await page.getByRole("button", { name: `Actions for ${BILLING}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${BILLING}` });
  await edit.getByLabel("Name").fill(HELD);
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(edit).toContainText(`An API product with name '${HELD}' exists already.`);
  await edit.getByLabel("Name").fill(BILLING);
  await edit.getByLabel("Published").check();
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(row(page, BILLING)).toContainText("Published");
  await checkScreen(page, "products");

  // Delete: a product an app holds is refused with the server's reason; a free one goes.
  await page.getByRole("button", { name: `Actions for ${HELD}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const refuse = page.getByRole("dialog", { name: `Delete ${HELD}?` });
  await refuse.getByRole("button", { name: "Delete product" }).click();
  await expect(refuse.getByRole("alert")).toBeVisible();
  await refuse.getByRole("button", { name: "Cancel" }).click();
  await expect(row(page, HELD)).toBeVisible();
  await page.getByRole("button", { name: `Actions for ${BILLING}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const remove = page.getByRole("dialog", { name: `Delete ${BILLING}?` });
  await remove.getByRole("button", { name: "Delete product" }).click();
  await expect(remove).toBeHidden();
  await expect(row(page, BILLING)).toHaveCount(0);

  // A phone-sized window: nothing of the screen sticks out (the table scrolls in its own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(await outsideWindow(page), "Products: outside a narrow window").toEqual([]);
});
