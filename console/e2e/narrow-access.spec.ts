import { expect, outsideWindow, signIn, test } from "./fixtures";

// A phone-sized window: the navigation folds behind the menu button; tables scroll in their
// own box instead of widening the page.
test.use({ viewport: { width: 390, height: 844 } });

test("API access, an API's page, Explain access, Members, Groups and Roles fit a narrow window", async ({
  page,
  server,
  api,
}) => {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const { createApi } = await api.gql<{ createApi: { api: { id: string } } }>(
    "mutation($input: CreateApiInput!) { createApi(input: $input) { api { id } userErrors { message } } }",
    { input: { workspaceId: workspaces[0]?.id, name: "Narrow Window API", identifier: "narrow-window" } },
  );
  await signIn(page, server.key);
  for (const [link, heading] of [
    ["API access", "API access"],
    ["Explain access", "Explain access"],
    ["Members", "Members"],
    ["Groups", "Groups"],
    ["Roles", "Roles"],
  ] as const) {
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation").getByRole("link", { name: link, exact: true }).click();
    await expect(page.getByRole("heading", { name: heading, exact: true })).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect(await outsideWindow(page), `${heading}: outside the window`).toEqual([]);
  }
  await page.goto(page.url().replace(/roles$/, `apis/${encodeURIComponent(createApi.api.id)}`));
  await expect(page.getByRole("heading", { name: "Narrow Window API" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(await outsideWindow(page), "an API's page: outside the window").toEqual([]);
});
