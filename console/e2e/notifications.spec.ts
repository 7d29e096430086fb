import { checkScreen, expect, signIn, test } from "./fixtures";

test("Notification settings: set a subject, see a bad template refused on its field, restore the default", async ({
  page,
  server,
  graphqlRequests,
}) => {
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.getByRole("link", { name: "Notification settings", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Notification settings" })).toBeVisible();
  });
  expect(opened, "GraphQL requests to open the screen").toBeLessThanOrEqual(1);
  const expiring = page.getByRole("textbox", { name: "API key expiring" });
  await expect(expiring).toHaveValue(/key_name/);
  await checkScreen(page, "notifications");

  // A template the server cannot render is refused, on its own field.
  await expiring.fill("{{ key_name ");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(expiring).toHaveAttribute("aria-invalid", "true");

  const subject = "[Acme] {{ key_name }} expires in {{ days_left }} days";
  await expiring.fill(subject);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Notification settings saved.")).toBeVisible();
  await page.reload();
  await expect(expiring).toHaveValue(subject);
  await expect(expiring).not.toHaveAttribute("aria-invalid", "true");
  // The default stays in view beside a changed subject, with the variables it may use.
  const card = page.getByRole("group", { name: "API key expiring" });
  await expect(card).toContainText('Default: API key "{{ key_name }}" expires in');
  await expect(card).toContainText("{{ days_left }}");

  await page.getByRole("button", { name: "Restore the default subject of API key expiring" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Notification settings saved.").first()).toBeVisible();
  await page.reload();
  await expect(expiring).toHaveValue(/key_name/);
  await expect(expiring).not.toHaveValue(subject);
});
