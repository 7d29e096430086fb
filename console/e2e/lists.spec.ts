import { expect, signIn, test } from "./fixtures";

test("an API's People and a group's members are complete beyond the first 100", async ({ page, server, api }) => {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id;
  const { workspace } = await api.gql<{ workspace: { roles: { edges: { node: { id: string; name: string } }[] } } }>(
    "query($id: ID!) { workspace(id: $id) { roles { edges { node { id name } } } } }",
    { id: workspaceId },
  );
  const viewer = workspace.roles.edges.find((e) => e.node.name === "Viewer")?.node.id;
  const memberIds: string[] = [];
  for (let batch = 0; batch < 11; batch++) {
    const added = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.gql<{ addMember: { member: { id: string } } }>(
          "mutation($input: AddMemberInput!) { addMember(input: $input) { member { id } userErrors { message } } }",
          { input: { workspaceId, email: `many-${batch * 10 + i}@example.com`, roleId: viewer } },
        ),
      ),
    );
    memberIds.push(...added.map((a) => a.addMember.member.id));
  }
  const { createApi } = await api.gql<{ createApi: { api: { id: string } } }>(
    "mutation($input: CreateApiInput!) { createApi(input: $input) { api { id } userErrors { message } } }",
    { input: { workspaceId, name: "Crowded API", identifier: "crowded" } },
  );
  for (let start = 0; start < memberIds.length; start += 50) {
    await api.gql("mutation($input: GrantApiAccessInput!) { grantApiAccess(input: $input) { userErrors { message } } }", {
      input: { apiId: createApi.api.id, memberIds: memberIds.slice(start, start + 50) },
    });
  }

  const { createGroup } = await api.gql<{ createGroup: { group: { id: string } } }>(
    "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } userErrors { message } } }",
    { input: { workspaceId, name: "Everyone Else", memberIds: memberIds.slice(0, 50) } },
  );
  for (const start of [50, 100]) {
    await api.gql("mutation($input: GroupMembersInput!) { addGroupMembers(input: $input) { userErrors { message } } }", {
      input: { groupId: createGroup.group.id, memberIds: memberIds.slice(start, start + 50) },
    });
  }

  await signIn(page, server.key);
  await page.goto(`${new URL(page.url()).pathname.replace(/apis$/, "")}apis/${encodeURIComponent(createApi.api.id)}`);
  await expect(page.getByRole("heading", { name: "People (110)" })).toBeVisible();
  const rows = page.getByRole("table", { name: "People with a direct grant" }).getByRole("row");
  await expect(rows).toHaveCount(101); // header + the first 100
  await expect(page.getByText("Showing the first 100 people and 0 groups.")).toBeVisible();
  await page.getByRole("button", { name: "Show all" }).click();
  await expect(rows).toHaveCount(111);
  await expect(page.getByRole("button", { name: "Show all" })).toHaveCount(0);

  // A group's members too.
  await page.goto(page.url().replace(/apis\/[^/]+$/, `groups/${encodeURIComponent(createGroup.group.id)}`));
  const members = page.getByRole("table", { name: "Members of the group" }).getByRole("row");
  await expect(members).toHaveCount(101);
  await page.getByRole("button", { name: "Show all" }).click();
  await expect(members).toHaveCount(111);

  // The People filter of the API table searches the server: the 106th person is found.
  await page.getByRole("navigation").getByRole("link", { name: "API access" }).click();
  const filter = page.getByRole("textbox", { name: "People" });
  await filter.click();
  await filter.fill("many-105");
  await page.getByRole("option", { name: "many-105@example.com" }).click();
  await filter.press("Tab");
  await expect(page.getByRole("table", { name: "APIs" }).getByRole("row")).toHaveCount(2);
  await expect(page.getByRole("table", { name: "APIs" })).toContainText("Crowded API");
});
