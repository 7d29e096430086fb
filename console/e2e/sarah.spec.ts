// The seed's story: Sarah (Developer, in Frontend Team) and Web Application API, through the UI.
import type { Page } from "@playwright/test";
import { checkScreen, expect, signIn, test, type Api } from "./fixtures";

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("seed data missing");
  return value;
}

interface Seeded {
  workspaceId: string;
}

async function seed(api: Api): Promise<Seeded> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = must(workspaces[0]).id;
  const { workspace } = await api.gql<{ workspace: { roles: { edges: { node: { id: string; name: string } }[] } } }>(
    "query($id: ID!) { workspace(id: $id) { roles { edges { node { id name } } } } }",
    { id: workspaceId },
  );
  const developer = must(workspace.roles.edges.find((e) => e.node.name === "Developer")).node.id;
  const { addMember } = await api.gql<{ addMember: { member: { id: string } } }>(
    "mutation($input: AddMemberInput!) { addMember(input: $input) { member { id } userErrors { message } } }",
    { input: { workspaceId, email: "sarah@example.com", name: "Sarah Lee", roleId: developer } },
  );
  await api.gql(
    "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } userErrors { message } } }",
    { input: { workspaceId, name: "Frontend Team", memberIds: [addMember.member.id] } },
  );
  for (const [name, identifier] of [
    ["Web Application API", "web-app"],
    ["Billing API", "billing"],
  ]) {
    await api.gql("mutation($input: CreateApiInput!) { createApi(input: $input) { api { id } userErrors { message } } }", {
      input: { workspaceId, name, identifier, baseUrl: `https://${identifier}.example.com` },
    });
  }
  return { workspaceId };
}

async function pick(page: Page, scope: ReturnType<Page["getByRole"]> | Page, label: string, text: string) {
  const input = scope.getByRole("textbox", { name: label });
  await input.click();
  await input.fill(text);
  await page.getByRole("option", { name: new RegExp(text) }).first().click();
  await input.press("Tab"); // a multi-select keeps its list open until focus leaves
}

async function explain(page: Page, expected: RegExp, lines: string[] = []) {
  await page.getByRole("link", { name: "Explain access" }).first().click();
  await pick(page, page, "Person", "Sarah");
  await pick(page, page, "API", "Web Application API");
  const answer = page.getByRole("region", { name: "Explanation" });
  await expect(answer).toContainText(expected);
  for (const line of lines) await expect(answer).toContainText(line);
  return answer;
}

async function openApi(page: Page, requests: { during: (page: Page, action: () => Promise<void>) => Promise<number> }) {
  const onList = await requests.during(page, () => page.getByRole("navigation").getByRole("link", { name: "API access" }).click());
  expect(onList, "GraphQL requests to open API access").toBeLessThanOrEqual(1);
  await page.getByLabel("Search").fill("Web Application"); // other tests' APIs share the server
  await page.getByRole("button", { name: "Actions for Web Application API" }).click();
  const onDetail = await requests.during(page, () => page.getByRole("menuitem", { name: "View API access" }).click());
  expect(onDetail, "GraphQL requests to open the API's page").toBeLessThanOrEqual(1);
  await expect(page.getByRole("heading", { name: "Web Application API" })).toBeVisible();
}

function section(page: Page, name: "People" | "Groups") {
  return page.getByRole("region", { name: new RegExp(`^${name} \\(`) });
}

async function add(page: Page, kind: "People" | "Groups", text: string) {
  await section(page, kind).getByRole("button", { name: "+ Add" }).click();
  const dialog = page.getByRole("dialog");
  await pick(page, dialog, kind, text);
  await dialog.getByRole("button", { name: "Grant access" }).click();
  await expect(dialog).toBeHidden();
}

async function revoke(page: Page, kind: "People" | "Groups", name: string, impact: string) {
  await section(page, kind).getByRole("button", { name: `Revoke ${name}` }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke access" });
  await expect(dialog).toContainText(impact);
  await dialog.getByRole("button", { name: "Revoke", exact: true }).click();
  await expect(dialog).toBeHidden();
}

test("Sarah's access: group grant, direct grant, removal from the team, revocations, Revoke all", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  await seed(api);
  await signIn(page, server.key);

  // Sarah cannot see Web Application API: no grant yet.
  const onExplain = await graphqlRequests.during(page, () =>
    page.getByRole("navigation").getByRole("link", { name: "Explain access" }).click(),
  );
  expect(onExplain, "GraphQL requests to open Explain access").toBeLessThanOrEqual(1);
  await pick(page, page, "Person", "Sarah");
  await pick(page, page, "API", "Web Application API");
  await expect(page.getByRole("region", { name: "Explanation" })).toContainText("Sarah Lee cannot see Web Application API.");

  // The team gets a grant: she has access, through the group.
  await openApi(page, graphqlRequests);
  await add(page, "Groups", "Frontend Team");
  await expect(section(page, "Groups")).toContainText("Frontend Team");
  await expect(page.getByRole("heading", { name: "Groups (1)" })).toBeVisible();
  await page.getByRole("link", { name: "Explain access" }).last().click();
  await pick(page, page, "Person", "Sarah");
  const answer = page.getByRole("region", { name: "Explanation" });
  await expect(answer).toContainText("Sarah Lee can see Web Application API because:");
  await expect(answer).toContainText("via group Frontend Team");
  await page.getByRole("heading", { name: "Explain access" }).click(); // closes the API list
  await checkScreen(page, "explain-access");

  // A direct grant too: two paths.
  await openApi(page, graphqlRequests);
  await add(page, "People", "Sarah");
  await expect(page.getByRole("heading", { name: "People (1)" })).toBeVisible();
  await checkScreen(page, "api-detail");
  await explain(page, /can see Web Application API because:/, ["direct grant by Bootstrap owner key", "via group Frontend Team"]);

  // Removed from the team: the direct grant keeps her access.
  const onGroups = await graphqlRequests.during(page, () => page.getByRole("navigation").getByRole("link", { name: "Groups" }).click());
  expect(onGroups, `GraphQL requests to open Groups: ${graphqlRequests.names(onGroups)}`).toBeLessThanOrEqual(1);
  await checkScreen(page, "groups");
  const onGroup = await graphqlRequests.during(page, () => page.getByRole("link", { name: "Frontend Team" }).click());
  expect(onGroup, "GraphQL requests to open a group").toBeLessThanOrEqual(1);
  await checkScreen(page, "group-detail");
  await page.getByRole("button", { name: "Remove sarah@example.com" }).click();
  await expect(page.getByRole("heading", { name: "Members (0)" })).toBeVisible();
  let explained = await explain(page, /can see Web Application API because:/, ["direct grant"]);
  await expect(explained).not.toContainText("Frontend Team");

  // The team's grant revoked: still the direct grant.
  await openApi(page, graphqlRequests);
  await revoke(page, "Groups", "Frontend Team", "Revoke 1 group grant? Nobody loses access");
  await expect(page.getByRole("heading", { name: "Groups (0)" })).toBeVisible();
  await explain(page, /can see Web Application API because:/, ["direct grant"]);

  // The direct grant revoked: gone.
  await openApi(page, graphqlRequests);
  await revoke(page, "People", "sarah@example.com", "1 person loses access");
  await expect(page.getByRole("heading", { name: "People (0)" })).toBeVisible();
  explained = await explain(page, /Sarah Lee cannot see Web Application API\./);

  // Revoke all: refused for "revoke", done for "REVOKE".
  await openApi(page, graphqlRequests);
  await add(page, "People", "Sarah");
  await add(page, "Groups", "Frontend Team");
  await page.getByRole("button", { name: "Revoke all access" }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke all access" });
  await expect(dialog).toContainText("1 person loses access");
  const confirm = dialog.getByRole("button", { name: "Revoke all access" });
  await dialog.getByLabel("Type REVOKE to confirm").fill("revoke");
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Type REVOKE to confirm").fill("REVOKE");
  await expect(confirm).toBeEnabled();
  await checkScreen(page, "revoke-all");
  await confirm.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { name: "People (0)" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Groups (0)" })).toBeVisible();

  await page.getByRole("navigation").getByRole("link", { name: "API access" }).click();
  await page.getByLabel("Search").fill("API");
  await expect(page.getByRole("table", { name: "APIs" })).toContainText("Billing API");
  await checkScreen(page, "api-access");
});
