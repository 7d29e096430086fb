import type { Locator, Page } from "@playwright/test";
import { checkScreen, expect, outsideWindow, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const GOLD = `Gold ${RUN}`;
const USED = `Used ${RUN}`;

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], mutation).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** A plan an app is on (which cannot be deleted). */
async function seed(api: Api): Promise<void> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  const used = await created<{ id: string }>(api, "createPlan", "plan", { workspaceId, name: USED });
  const client = await created<{ id: string }>(api, "createClient", "client", { workspaceId, name: `Planned ${RUN}` });
  await created(api, "createAccessProfile", "accessProfile", { clientId: client.id, name: `planned-${RUN}`, authMethod: "AUTH_TOKEN", planId: used.id });
}

function row(page: Page, name: string): Locator {
  return page.getByRole("table", { name: "Plans" }).getByRole("row").filter({ hasText: name });
}

async function choose(page: Page, scope: Locator, label: string, option: string, search?: string) {
  await scope.getByRole("textbox", { name: label }).click();
  if (search) await scope.getByRole("textbox", { name: label }).fill(search);
  await page.getByRole("option", { name: option, exact: true }).click();
}

test("Plans: create with rate limit, quota, time window and auto approve; the server's refusals on their fields; edit; delete", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  await seed(api);
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Plans", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
  });
  expect(opened, `GraphQL requests to open Plans: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(1);
  await page.getByLabel("Search").fill(RUN);
  await expect(row(page, USED)).toContainText("No limit");

  await page.getByRole("button", { name: "New plan" }).click();
  const form = page.getByRole("dialog", { name: "New plan" });
  await form.getByLabel("Name").fill(USED);
  await form.getByLabel("Description").fill("For partners in production");
  await form.getByLabel("Rate limit").check();
  await form.getByLabel("Requests", { exact: true }).fill("600");
  await choose(page, form, "Rate period", "per minute");
  await form.getByLabel("Quota", { exact: true }).check();
  await form.getByLabel("Quota requests").fill("50000");
  await choose(page, form, "Quota period", "per month");
  await form.getByLabel("Only at certain times").check();
  await form.getByLabel("Sat").check();
  await form.getByLabel("Start").fill("08:00");
  await form.getByLabel("End").fill("08:00");
  await choose(page, form, "Time zone", "Europe/Berlin", "Europe/Berl");
  await form.getByLabel("Auto approve access request").check();
  await form.getByRole("button", { name: "Create plan" }).click();
  // The server's refusals, each on its field: a taken name and an empty window.
  await expect(form.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(form).toContainText(`A plan with name '${USED}' exists already.`);
  await expect(form.getByLabel("End")).toHaveAttribute("aria-invalid", "true");
  await expect(form).toContainText("The window is empty: end equals start");
  await form.getByLabel("Name").fill(GOLD);
  await form.getByLabel("End").fill("18:00");
  await checkScreen(page, "plans-edit");
  await form.getByRole("button", { name: "Create plan" }).click();
  await expect(form).toBeHidden();
  await expect(row(page, GOLD)).toContainText("600 per minute");
  await expect(row(page, GOLD)).toContainText("50,000 per month");
  await expect(row(page, GOLD)).toContainText("Mon–Sat 08:00–18:00 (Europe/Berlin)");
  await expect(row(page, GOLD).getByRole("cell").nth(4)).toHaveText("Yes");
  await checkScreen(page, "plans");

  // Edit: the quota and auto approve go; the rest stays.
  await page.getByRole("button", { name: `Actions for ${GOLD}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${GOLD}` });
  await expect(edit.getByLabel("Requests", { exact: true })).toHaveValue("600");
  await edit.getByLabel("Quota", { exact: true }).uncheck();
  await edit.getByLabel("Auto approve access request").uncheck();
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(row(page, GOLD)).toContainText("No quota");
  await expect(row(page, GOLD)).toContainText("600 per minute");
  await expect(row(page, GOLD).getByRole("cell").nth(4)).toHaveText("No");

  // Delete: a plan an app is on is refused with the server's reason; a free one goes.
  await page.getByRole("button", { name: `Actions for ${USED}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const refuse = page.getByRole("dialog", { name: `Delete ${USED}?` });
  await refuse.getByRole("button", { name: "Delete plan" }).click();
  await expect(refuse.getByRole("alert")).toContainText("Apps are on this plan");
  await refuse.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: `Actions for ${GOLD}` }).click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const remove = page.getByRole("dialog", { name: `Delete ${GOLD}?` });
  await remove.getByRole("button", { name: "Delete plan" }).click();
  await expect(remove).toBeHidden();
  await expect(row(page, GOLD)).toHaveCount(0);
  await expect(row(page, USED)).toBeVisible();

  // A phone-sized window: nothing of the screen sticks out (the table scrolls in its own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(await outsideWindow(page), "Plans: outside a narrow window").toEqual([]);
});
