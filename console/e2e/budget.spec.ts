// The API access table's budget: 100 rows, one GraphQL request; the figures go to the e2e
// report (no timed assertion: they depend on the machine).
import { expect, signIn, test } from "./fixtures";

test("API access table of 100 rows: one request, its time and the render's", async ({ page, server, api, graphqlRequests }) => {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id;
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const n = String(batch * 10 + i + 1).padStart(3, "0");
        return api.gql("mutation($input: CreateApiInput!) { createApi(input: $input) { userErrors { message } } }", {
          input: { workspaceId, name: `Load API ${n}`, identifier: `load-${n}` },
        });
      }),
    );
  }
  await signIn(page, server.key);
  await page.getByLabel("Search").fill("Load API");
  await expect(page.getByText("100 APIs · page 1")).toBeVisible(); // the search has answered
  await page.waitForLoadState("networkidle");
  await expect(page.getByRole("table", { name: "APIs" }).getByRole("row")).toHaveCount(26); // header + 25

  const response = page.waitForResponse((r) => r.url().endsWith("/graphql") && r.request().postData()?.includes('"first":100') === true);
  const started = Date.now();
  const requests = await graphqlRequests.during(page, async () => {
    await page.getByRole("textbox", { name: "Rows per page" }).click();
    await page.getByRole("option", { name: "100" }).click();
    await expect(page.getByRole("table", { name: "APIs" }).getByRole("row")).toHaveCount(101);
  });
  const rendered = Date.now() - started;
  const timing = (await response).request().timing();
  const sent = graphqlRequests.seen.slice(-requests).map((r) => r.postDataJSON()?.operationName);
  expect(requests, `GraphQL requests for a page of 100: ${sent.join(", ")}`).toBe(1);
  console.log(
    `API access table, 100 rows: GraphQL request ${Math.round(timing.responseEnd)} ms; ` +
      `choice to 100 rows on screen ${rendered} ms`,
  );
});
