import { checkScreen, expect, signIn, test } from "./fixtures";

test("sign in with the bootstrap key; the key is kept nowhere in the browser", async ({ page, server }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await checkScreen(page, "sign-in");

  await signIn(page, server.key);
  await expect(page).toHaveURL(/\/workspaces\/[^/]+\/apis$/);
  await expect(page.getByRole("heading", { name: "API access" })).toBeVisible();

  const stored = await page.evaluate(async () => {
    const databases = await indexedDB.databases();
    return {
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
      url: location.href,
      history: history.length,
      databases: databases.map((d) => d.name ?? ""),
      html: document.documentElement.outerHTML,
    };
  });
  for (const [where, value] of Object.entries(stored)) {
    expect(JSON.stringify(value), where).not.toContain(server.key);
  }
  expect(stored.databases).toEqual([]);
  // The session cookie exists, and scripts cannot read it.
  const cookies = await page.context().cookies();
  expect(cookies.filter((c) => c.httpOnly).length).toBeGreaterThan(0);
  expect(cookies.filter((c) => !c.httpOnly)).toEqual([]);
  expect(cookies.map((c) => c.value).join(" ")).not.toContain(server.key);
});

test("a wrong key is refused with a clear message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("API key").fill("apk_" + "x".repeat(36));
  await page.getByRole("button", { name: "Sign in with an API key" }).click();
  await expect(page.getByText("This API key is not valid")).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test("an expired session sends to sign-in and back to the same page", async ({ page, server }) => {
  await signIn(page, server.key);
  const apis = page.url();
  // The screen's own queries are answered first: one still in flight when the session ends
  // would send the page to sign-in before the click below (seen on a busy machine).
  await expect(page.getByRole("heading", { name: "API access" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  // The session ends on the server's side (as when it expires).
  await page.evaluate(() =>
    fetch("/auth/logout", { method: "POST", headers: { Accept: "application/json" }, credentials: "same-origin" }),
  );
  await page.getByRole("link", { name: "API access" }).click();
  await page.getByLabel("Search").fill("x"); // any new request meets the ended session
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await signIn(page, server.key, page.url().replace(server.url, ""));
  expect(page.url()).toBe(apis);
});

test("sign out ends the session", async ({ page, server }) => {
  await signIn(page, server.key);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
});
