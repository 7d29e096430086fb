// Members and Roles screens through the UI.
import { checkScreen, expect, signIn, test } from "./fixtures";

test("members: invite with a role, change the role, explain their access, remove", async ({ page, server, graphqlRequests }) => {
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, () => page.getByRole("navigation").getByRole("link", { name: "Members" }).click());
  expect(opened, "GraphQL requests to open Members").toBeLessThanOrEqual(1);
  await expect(page.getByRole("table", { name: "Members" })).toBeVisible();

  await page.getByRole("button", { name: "Invite member" }).click();
  const invite = page.getByRole("dialog", { name: "Invite member" });
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(invite.getByText("Enter an email address.")).toBeVisible(); // checked before sending
  await invite.getByLabel("Email").fill("dev@example.com");
  await invite.getByLabel("Name").fill("Dana Dev");
  await invite.getByRole("textbox", { name: "Role" }).click();
  await page.getByRole("option", { name: "Viewer" }).click();
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(invite).toBeHidden();
  const row = page.getByRole("row", { name: /dev@example\.com/ });
  await expect(row).toContainText("Viewer");
  await checkScreen(page, "members");

  await page.getByRole("button", { name: "Actions for dev@example.com" }).click();
  await page.getByRole("menuitem", { name: "Change role" }).click();
  const change = page.getByRole("dialog", { name: /Change role/ });
  await change.getByRole("textbox", { name: "Role" }).click();
  await page.getByRole("option", { name: "Developer" }).click();
  await change.getByRole("button", { name: "Save" }).click();
  await expect(change).toBeHidden();
  await expect(row).toContainText("Developer");

  await page.getByRole("button", { name: "Actions for dev@example.com" }).click();
  const onApis = await graphqlRequests.during(page, async () => {
    await page.getByRole("menuitem", { name: "View API access" }).click();
    await expect(page.locator(".mantine-Pill-root", { hasText: "Dana Dev <dev@example.com>" })).toBeVisible(); // the filter's choice
  });
  expect(onApis, "GraphQL requests to open API access for a member").toBeLessThanOrEqual(1);
  await expect(page.getByText("No APIs match")).toBeVisible();
  await page.goBack();
  await page.getByRole("button", { name: "Actions for dev@example.com" }).click();
  const onExplain = await graphqlRequests.during(page, async () => {
    await page.getByRole("menuitem", { name: "Explain access" }).click();
    await expect(page.getByRole("textbox", { name: "Person" })).toHaveValue("Dana Dev <dev@example.com>");
  });
  expect(onExplain, "GraphQL requests to open Explain access for a member").toBeLessThanOrEqual(1);

  await page.getByRole("navigation").getByRole("link", { name: "Members" }).click();
  await page.getByRole("button", { name: "Actions for dev@example.com" }).click();
  await page.getByRole("menuitem", { name: "Remove" }).click();
  await page.getByRole("dialog", { name: "Remove member" }).getByRole("button", { name: "Remove" }).click();
  await expect(page.getByRole("row", { name: /dev@example\.com/ })).toHaveCount(0);
});

test("roles: built-ins are read-only; a custom role with a namePattern tested live", async ({ page, server, graphqlRequests }) => {
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, () => page.getByRole("navigation").getByRole("link", { name: "Roles" }).click());
  expect(opened, "GraphQL requests to open Roles").toBeLessThanOrEqual(1);
  await checkScreen(page, "roles");

  await page.getByRole("button", { name: "Owner" }).click();
  const owner = page.getByRole("dialog", { name: "Owner" });
  await expect(owner.getByText("Built-in roles cannot be changed.")).toBeVisible();
  await expect(owner.getByRole("button", { name: "Save" })).toHaveCount(0);
  await owner.getByRole("button", { name: "Close" }).first().click();

  await page.getByRole("button", { name: "Create role" }).click();
  const editor = page.getByRole("dialog", { name: "Create role" });
  await editor.getByRole("textbox", { name: "Name", exact: true }).fill("CI bots");
  await editor.getByRole("checkbox", { name: /^createApiAccess/ }).check();
  await editor.getByLabel("namePattern of createApiAccess").fill("ci-.*");
  await editor.getByLabel("Test a name").fill("ci-deploy");
  await expect(editor.getByText("✓ matches")).toBeVisible();
  await editor.getByLabel("Test a name").fill("deploy");
  await expect(editor.getByText("✗ does not match")).toBeVisible();
  await checkScreen(page, "role-editor");
  await editor.getByRole("button", { name: "Create role" }).click();
  await expect(editor).toBeHidden();
  await expect(page.getByRole("table", { name: "Roles" })).toContainText("CI bots");
});
