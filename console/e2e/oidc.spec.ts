// Sign-in with the real OpenID Provider of the Python suite (tests/oidc/provider), when its npm
// packages are installed (`make test` installs them before the console checks).
import type { Page } from "@playwright/test";
import { checkScreen, expect, test } from "./fixtures";

/** The provider's development login and consent pages (any login is accepted), as they come. */
async function throughProvider(page: Page, appUrl: RegExp) {
  for (let step = 0; step < 4 && !appUrl.test(page.url()); step++) {
    const login = page.locator('input[name="login"]');
    const consent = page.getByRole("button", { name: "Continue" });
    await expect(login.or(consent).or(page.getByRole("button", { name: "Sign out" }))).toBeVisible();
    if (await login.isVisible()) {
      await login.fill("ada");
      await page.locator('input[name="password"]').fill("any");
      await page.getByRole("button", { name: "Sign-in" }).click();
    } else if (await consent.isVisible()) {
      await consent.click();
    }
    await page.waitForLoadState();
  }
  await expect(page).toHaveURL(appUrl);
}

test("Sign in with local: the provider's login, then the console, back at the page asked for", async ({ page }) => {
  const missing = "tests/oidc/provider is not installed (npm ci --prefix tests/oidc/provider)";
  if (!process.env.ACCESSPLANE_E2E_OIDC && process.env.CI === "true") throw new Error(missing);
  test.skip(!process.env.ACCESSPLANE_E2E_OIDC, missing);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole("link", { name: "Sign in with local" }).click();
  await throughProvider(page, /\/workspaces\/[^/]+\/apis$/);
  await expect(page.getByText("ada@example.com · Owner")).toBeVisible();
  await checkScreen(page, "signed-in-oidc");

  // A person in two workspaces switches between them in the header, on the same section.
  const created = await page.evaluate(async () => {
    const session = (await (await fetch("/auth/session")).json()) as { csrfToken: string };
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrfToken },
      body: JSON.stringify({
        query: "mutation { createWorkspace(input: { name: \"Partner Labs\" }) { workspace { id } userErrors { message } } }",
      }),
    });
    return ((await response.json()) as { data: { createWorkspace: { workspace: { id: string } } } }).data.createWorkspace
      .workspace.id;
  });
  await page.reload();
  await page.getByRole("navigation").getByRole("link", { name: "Members" }).click();
  const switcher = page.getByRole("textbox", { name: "Workspace" });
  await expect(switcher).toHaveValue("Default");
  await switcher.click();
  await page.getByRole("option", { name: "Partner Labs" }).click();
  await expect(page).toHaveURL(new RegExp(`/workspaces/${created.replace(/[=+/]/g, ".")}/members$`));
  await expect(switcher).toHaveValue("Partner Labs");
  await page.getByRole("navigation").getByRole("link", { name: "API access" }).click();

  // Signed out, a deep link goes through sign-in and the provider, and comes back to it.
  const members = page.url().replace(/apis$/, "members");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto(members);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByRole("link", { name: "Sign in with local" }).click();
  await throughProvider(page, /\/members$/);
  await expect(page.getByRole("heading", { name: "Members" })).toBeVisible();
});
