import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const API = `Ledger API ${RUN}`;
const PRODUCT = `Ledger reads ${RUN}`;
const JOURNAL = `Journal API ${RUN}`;

// The document declares GET /invoices (new), GET /invoices/{id} under another name (changed);
// the hand-made DELETE /invoices/{id} is missing from it (removed, with prune only).
const YAML = `openapi: 3.0.3
info: { title: Ledger, version: "1" }
components:
  securitySchemes:
    oauth: { type: oauth2, flows: { clientCredentials: { tokenUrl: https://id.example.com/token, scopes: { invoices:read: read } } } }
paths:
  /invoices:
    get:
      operationId: listInvoices
      security: [{ oauth: [invoices:read] }]
      responses: { "200": { description: ok } }
  /invoices/{id}:
    get:
      operationId: fetchInvoice
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      security: [{ oauth: [invoices:read] }]
      responses: { "200": { description: ok } }
`;
// The same two operations as JSON: importing it after the YAML changes nothing.
const JSON_DOCUMENT = JSON.stringify({
  openapi: "3.1.0",
  info: { title: "Ledger", version: "1" },
  components: { securitySchemes: { oauth: { type: "oauth2", flows: { clientCredentials: { tokenUrl: "https://id.example.com/token", scopes: { "invoices:read": "read" } } } } } },
  security: [{ oauth: ["invoices:read"] }],
  paths: {
    "/invoices": { get: { operationId: "listInvoices", responses: { "200": { description: "ok" } } } },
    "/invoices/{id}": {
      get: { operationId: "fetchInvoice", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "ok" } } },
    },
  },
});
// An operation without its required responses: refused with the pointer to it.
const BROKEN = `openapi: 3.0.3
info: { title: Broken, version: "1" }
paths:
  /broken:
    get:
      operationId: broken
`;

// Declares POST /entries only: with prune it would delete GET /entries.
const ENTRIES_POST_ONLY = `openapi: 3.0.3
info: { title: Journal, version: "1" }
paths:
  /entries:
    post:
      operationId: addEntry
      responses: { "201": { description: created } }
`;

async function seed(api: Api, name = API): Promise<string> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  const data = await api.gql<{ createApi: { api: { id: string }; userErrors: unknown[] } }>(
    "mutation($input: CreateApiInput!) { createApi(input: $input) { api { id } userErrors { message } } }",
    { input: { workspaceId, name, identifier: name.toLowerCase().replaceAll(" ", "-") } },
  );
  expect(data.createApi.userErrors).toEqual([]);
  return `/workspaces/${workspaceId}/apis/${data.createApi.api.id}`;
}

function operationRow(page: Page, method: string, path: string): Locator {
  return page
    .getByRole("table", { name: "Operations" })
    .getByRole("row")
    .filter({ has: page.getByRole("cell", { name: path, exact: true }) })
    .filter({ has: page.getByText(method, { exact: true }) });
}

async function addOperation(page: Page, method: string, path: string, name: string, scope: string) {
  await page.getByRole("button", { name: "+ Add operation" }).click();
  const form = page.getByRole("dialog", { name: "Add operation" });
  await form.getByRole("textbox", { name: "Method" }).click();
  await page.getByRole("option", { name: method, exact: true }).click();
  await form.getByLabel("Path").fill(path);
  await form.getByLabel("Name").fill(name);
  await form.getByRole("textbox", { name: "Scopes" }).fill(scope);
  await form.getByRole("textbox", { name: "Scopes" }).press("Enter");
  await form.getByRole("button", { name: "Add operation" }).click();
  return form;
}

test("API operations: add, a bad path refused on its field, edit, delete; Import OpenAPI dry run, prune, apply, by paste and by file, a broken document's pointers", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  const apiPage = await seed(api);
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.goto(apiPage);
    await expect(page.getByRole("heading", { name: API })).toBeVisible();
  });
  // A fresh page load asks the shell's viewer once; the screen itself, one request.
  expect(opened, `GraphQL requests to open the API: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(2);
  await expect(page.getByRole("region", { name: "Operations (0)" })).toContainText("declares no operations");

  // A path without its leading / is refused on the Path field.
  const refused = await addOperation(page, "GET", "invoices", "", "invoices:read");
  await expect(refused.getByLabel("Path")).toHaveAttribute("aria-invalid", "true");
  await refused.getByLabel("Path").fill("/invoices/{id}");
  await refused.getByLabel("Name").fill("getInvoice");
  await refused.getByRole("button", { name: "Add operation" }).click();
  await expect(refused).toBeHidden();
  await expect(operationRow(page, "GET", "/invoices/{id}")).toContainText("getInvoice");
  await expect(operationRow(page, "GET", "/invoices/{id}")).toContainText("invoices:read");
  const second = await addOperation(page, "DELETE", "/invoices/{id}", "deleteInvoice", "invoices:write");
  await expect(second).toBeHidden();
  await expect(page.getByRole("region", { name: "Operations (2)" })).toBeVisible();

  // A duplicate (same method and path) is refused on the path.
  const duplicate = await addOperation(page, "DELETE", "/invoices/{id}", "", "x");
  await expect(duplicate.getByLabel("Path")).toHaveAttribute("aria-invalid", "true");
  await duplicate.getByRole("button", { name: "Cancel" }).click();

  // Edit the name.
  await page.getByRole("button", { name: "Actions for DELETE /invoices/{id}" }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit DELETE /invoices/{id}" });
  await edit.getByLabel("Name").fill("removeInvoice");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(operationRow(page, "DELETE", "/invoices/{id}")).toContainText("removeInvoice");
  await checkScreen(page, "api-operations");

  // Import: a broken document's problems carry their JSON pointer.
  await page.getByRole("button", { name: "Import OpenAPI" }).click();
  const dialog = page.getByRole("dialog", { name: `Import OpenAPI into ${API}` });
  const documentField = dialog.getByRole("textbox", { name: "OpenAPI document" });
  await documentField.fill(BROKEN);
  await dialog.getByRole("button", { name: "Dry run" }).click();
  await expect(documentField).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.locator("code").filter({ hasText: "/paths/~1broken/get" }).first()).toBeVisible();

  // Dry run: one added, one changed, one removed (kept without prune); nothing written.
  await documentField.fill(YAML);
  await dialog.getByRole("button", { name: "Dry run" }).click();
  await expect(dialog).toContainText("1 added · 1 changed · 1 removed (kept: not pruned) · 0 unchanged");
  const changes = dialog.getByRole("table", { name: "Changes" });
  await expect(changes.getByRole("row").filter({ hasText: "added" })).toContainText("/invoices");
  await expect(changes.getByRole("row").filter({ hasText: "changed" })).toContainText("name getInvoice → fetchInvoice");
  await expect(changes.getByRole("row").filter({ hasText: "removed" })).toContainText("DELETE");
  await dialog.getByLabel("Remove operations missing from the document").check();
  await expect(changes).toHaveCount(0); // the earlier dry run no longer holds
  await dialog.getByRole("button", { name: "Dry run" }).click();
  await expect(dialog).toContainText("1 added · 1 changed · 1 removed · 0 unchanged");
  await checkScreen(page, "api-import-openapi");
  await expect(operationRow(page, "DELETE", "/invoices/{id}")).toHaveCount(1);

  // Import applies it; the list reloads.
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("region", { name: "Operations (2)" })).toBeVisible();
  await expect(operationRow(page, "GET", "/invoices")).toContainText("listInvoices");
  await expect(operationRow(page, "GET", "/invoices/{id}")).toContainText("fetchInvoice");
  await expect(operationRow(page, "DELETE", "/invoices/{id}")).toHaveCount(0);

  // The same operations as a JSON file: nothing changes.
  await page.getByRole("button", { name: "Import OpenAPI" }).click();
  await dialog.getByText("Choose a file").click();
  await dialog.locator('input[type="file"]').setInputFiles({ name: "ledger.json", mimeType: "application/json", buffer: Buffer.from(JSON_DOCUMENT) });
  await dialog.getByRole("button", { name: "Dry run" }).click();
  await expect(dialog).toContainText("0 added · 0 changed · 0 removed · 2 unchanged");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Delete, after a confirmation.
  await page.getByRole("button", { name: "Actions for GET /invoices/{id}" }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const remove = page.getByRole("dialog", { name: "Delete GET /invoices/{id}?" });
  await remove.getByRole("button", { name: "Delete operation" }).click();
  await expect(remove).toBeHidden();
  await expect(page.getByRole("region", { name: "Operations (1)" })).toBeVisible();
});

test("Products: the editor grants chosen operations of an API, the list names them", async ({ page, server, api }) => {
  const apiPage = await seed(api, JOURNAL);
  await signIn(page, server.key, apiPage);
  await addOperation(page, "GET", "/entries", "listEntries", "ledger:read");
  await expect(operationRow(page, "GET", "/entries")).toBeVisible();
  await addOperation(page, "POST", "/entries", "addEntry", "ledger:write");
  await expect(operationRow(page, "POST", "/entries")).toBeVisible();

  await page.getByRole("link", { name: "Products", exact: true }).click();
  await page.getByRole("button", { name: "New product" }).click();
  const form = page.getByRole("dialog", { name: "New product" });
  await form.getByLabel("Name").fill(PRODUCT);
  await form.getByRole("textbox", { name: "APIs" }).click();
  await form.getByRole("textbox", { name: "APIs" }).fill(JOURNAL);
  await page.getByRole("option", { name: JOURNAL }).click();
  await form.getByRole("textbox", { name: "APIs" }).press("Tab");
  const grants = form.getByRole("radiogroup", { name: `What of ${JOURNAL} the product grants` });
  await expect(grants.getByRole("radio", { name: "Whole API" })).toBeChecked();
  await grants.getByRole("radio", { name: "Chosen operations" }).check();
  // None picked: asked for before sending.
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form).toContainText(`Pick operations of ${JOURNAL}, or choose Whole API.`);
  await form.getByRole("textbox", { name: `Operations of ${JOURNAL}` }).click();
  await page.getByRole("option", { name: "GET /entries (listEntries)" }).click();
  await form.getByRole("textbox", { name: `Operations of ${JOURNAL}` }).press("Tab");
  await checkScreen(page, "products-operations");
  await form.getByRole("button", { name: "Create product" }).click();
  await expect(form).toBeHidden();
  await page.getByLabel("Search").fill(RUN);
  const row = page.getByRole("table", { name: "Products" }).getByRole("row").filter({ hasText: PRODUCT });
  await expect(row).toContainText(`${JOURNAL} · GET /entries`);
  await expect(row).not.toContainText("POST /entries");

  // The product's last chosen operation of the API cannot go: neither deleted nor pruned.
  await page.goto(apiPage);
  await page.getByRole("button", { name: "Actions for GET /entries" }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const remove = page.getByRole("dialog", { name: "Delete GET /entries?" });
  await remove.getByRole("button", { name: "Delete operation" }).click();
  await expect(remove.getByRole("alert")).toContainText(PRODUCT);
  await remove.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Import OpenAPI" }).click();
  const importing = page.getByRole("dialog", { name: `Import OpenAPI into ${JOURNAL}` });
  await importing.getByRole("textbox", { name: "OpenAPI document" }).fill(ENTRIES_POST_ONLY);
  await importing.getByLabel("Remove operations missing from the document").check();
  await importing.getByRole("button", { name: "Dry run" }).click();
  await expect(importing.getByLabel("Remove operations missing from the document")).toHaveAttribute("aria-invalid", "true");
  await expect(importing).toContainText(PRODUCT);
  await importing.getByRole("button", { name: "Cancel" }).click();
  await expect(operationRow(page, "GET", "/entries")).toBeVisible();
  await page.getByRole("link", { name: "Products", exact: true }).click();
  await page.getByLabel("Search").fill(RUN);

  // Back to the whole API.
  await page.getByRole("button", { name: `Actions for ${PRODUCT}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${PRODUCT}` });
  await expect(edit.getByRole("radio", { name: "Chosen operations" })).toBeChecked();
  await edit.getByRole("radio", { name: "Whole API" }).check();
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(row).toContainText(`${JOURNAL} · whole API`);
});
