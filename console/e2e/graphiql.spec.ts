import { expect, signIn, test } from "./fixtures";

test("GraphiQL renders and runs a query with nothing fetched from outside this server", async ({ page, server }) => {
  const hosts = new Set<string>();
  page.on("request", (request) => {
    hosts.add(new URL(request.url()).hostname);
  });
  await signIn(page, server.key);
  // GraphiQL asks for the schema first; the editor is ready once it has it.
  const schema = page.waitForResponse((r) => r.url().endsWith("/graphql") && r.request().postData()?.includes("__schema") === true);
  await page.goto("/graphql");
  await expect(page.locator(".graphiql-container")).toBeVisible();
  await schema;
  await page.getByRole("button", { name: /Execute query/ }).click();
  await expect(page.locator(".graphiql-response")).toContainText('"roleName": "Owner"');
  expect([...hosts]).toEqual(["127.0.0.1"]);
});
