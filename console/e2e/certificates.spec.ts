import type { Locator, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { checkScreen, expect, signIn, test, type Api } from "./fixtures";

// Names unique to this run: the server (and its other tests' data) is shared by the whole run.
const RUN = Date.now().toString(36);
const CLIENT = `Certified ${RUN}`;
const APP = `edge-${RUN}`;
const TOKEN_APP = `jwt-${RUN}`;
const PRODUCT = `Payments mTLS ${RUN}`;
const REPO = resolve(import.meta.dirname, "../..");

interface Pems {
  soon: string;
  later: string;
  withKey: string;
}

/** Client certificates from the Python suite's CA helper: one expiring in 10 days, one in 90,
 * and a PEM carrying its private key (which the server must refuse). */
function certificates(): Pems {
  const script = [
    "import json; from datetime import timedelta",
    "from tests.support.certificates import CertificateAuthority, expiring_certificate",
    "ca = CertificateAuthority.create()",
    `soon = expiring_certificate(ca, timedelta(days=10, hours=1), 'soon-${RUN}')`,
    `later = ca.issue('later-${RUN}')`,
    "print(json.dumps({'soon': soon.pem, 'later': later.pem, 'withKey': later.pem_with_key}))",
  ].join("\n");
  return JSON.parse(execFileSync(resolve(REPO, ".venv/bin/python"), ["-c", script], { cwd: REPO, encoding: "utf8" })) as Pems;
}

async function created<T>(api: Api, mutation: string, field: string, input: Record<string, unknown>): Promise<T> {
  const data = await api.gql<Record<string, { userErrors: { message: string }[] } & Record<string, unknown>>>(
    `mutation($input: ${mutation[0]?.toUpperCase()}${mutation.slice(1)}Input!) {
      ${mutation}(input: $input) { ${field} { id } userErrors { message } } }`,
    { input },
  );
  expect(data[mutation]?.userErrors ?? [], mutation).toEqual([]);
  return data[mutation]?.[field] as T;
}

/** An MTLS product, and a client with a JWT app; the MTLS app is made in the wizard. */
async function seed(api: Api): Promise<string> {
  const { workspaces } = await api.gql<{ workspaces: { id: string }[] }>("{ workspaces { id } }");
  const workspaceId = workspaces[0]?.id ?? "";
  const payments = await created<{ id: string }>(api, "createApi", "api", { workspaceId, name: `Payments API ${RUN}`, identifier: `payments-${RUN}` });
  await created(api, "createApiProduct", "apiProduct", { workspaceId, name: PRODUCT, authMethod: "MTLS", apiIds: [payments.id], published: true });
  const client = await created<{ id: string }>(api, "createClient", "client", { workspaceId, name: CLIENT });
  await created(api, "createAccessProfile", "accessProfile", { clientId: client.id, name: TOKEN_APP, authMethod: "JWT", trustedIssuer: "https://id.example.com" });
  return `/workspaces/${workspaceId}/clients/${client.id}`;
}

async function pick(page: Page, scope: Locator, label: string, search: string, option: string) {
  await scope.getByRole("textbox", { name: label }).click();
  await scope.getByRole("textbox", { name: label }).fill(search);
  await page.getByRole("option", { name: option }).click();
  await scope.getByRole("textbox", { name: label }).press("Tab");
}

test("Client certificates: an MTLS app made in the wizard, certificates added by paste and by file, a private key refused on the field, removal confirmed; certificate-bound tokens", async ({
  page,
  server,
  api,
  graphqlRequests,
}) => {
  const pems = certificates();
  const clientPage = await seed(api);
  await signIn(page, server.key);
  const opened = await graphqlRequests.during(page, async () => {
    await page.goto(clientPage);
    await expect(page.getByRole("heading", { name: CLIENT })).toBeVisible();
  });
  // The shell's own request (viewer) comes with a fresh page load; the screen adds one.
  expect(opened, `GraphQL requests to open the client: ${graphqlRequests.names(opened)}`).toBeLessThanOrEqual(2);

  // The wizard: the MTLS product decides the method, which asks no token settings.
  await page.getByRole("button", { name: "Create new access profile" }).click();
  const wizard = page.getByRole("dialog", { name: `Create new access profile for ${CLIENT}` });
  await wizard.getByLabel("Profile name").fill(APP);
  await wizard.getByRole("button", { name: "Next" }).click();
  await pick(page, wizard, "Products to include", PRODUCT, `${PRODUCT} (MTLS)`);
  await wizard.getByRole("button", { name: "Next" }).click();
  await expect(wizard.getByRole("radio", { name: "Client certificate (mutual TLS) (MTLS)" })).toBeChecked();
  await expect(wizard.getByLabel("Trusted issuer")).toHaveCount(0);
  await wizard.getByRole("button", { name: "Next" }).click();
  await wizard.getByRole("button", { name: "Next" }).click();
  await expect(wizard.getByRole("table", { name: "New access profile" })).toContainText("MTLS");
  await wizard.getByRole("button", { name: "Create access profile" }).click();
  await expect(wizard).toContainText("add its client certificates");
  await wizard.getByRole("button", { name: "Done" }).click();

  const panel = page.getByRole("region", { name: `Certificates of ${APP} (0)` });
  await expect(panel).toContainText("No certificate yet");

  // A PEM holding a private key is refused, the server's message on the field.
  await panel.getByRole("button", { name: `Add certificate to ${APP}` }).click();
  const add = page.getByRole("dialog", { name: `Add certificate to ${APP}` });
  await add.getByLabel("Certificate (PEM)").fill(pems.withKey);
  await add.getByRole("button", { name: "Add certificate" }).click();
  await expect(add.getByLabel("Certificate (PEM)")).toHaveAttribute("aria-invalid", "true");
  await expect(add).toContainText(/private key/i);
  await checkScreen(page, "client-certificate-add");

  // Chosen as a .pem file: read into the field, then registered.
  await add.locator('input[type="file"]').setInputFiles({ name: "soon.pem", mimeType: "application/x-pem-file", buffer: Buffer.from(pems.soon) });
  await expect(add.getByLabel("Certificate (PEM)")).toHaveValue(pems.soon);
  await add.getByRole("button", { name: "Add certificate" }).click();
  await expect(add).toBeHidden();

  // Pasted.
  await page.getByRole("button", { name: `Add certificate to ${APP}` }).click();
  await add.getByLabel("Certificate (PEM)").fill(pems.later);
  await add.getByRole("button", { name: "Add certificate" }).click();
  await expect(add).toBeHidden();

  const table = page.getByRole("table", { name: `Certificates of ${APP}` });
  const soon = table.getByRole("row").filter({ hasText: `soon-${RUN}` });
  const later = table.getByRole("row").filter({ hasText: `later-${RUN}` });
  await expect(soon).toContainText("Expires in 10 days");
  await expect(soon).toContainText("AccessPlane Test CA");
  await expect(later).toContainText(/Expires in 89 days|Expires in 90 days/);
  await expect(soon.getByRole("button", { name: /Copy the fingerprint/ })).toBeVisible();
  await expect(soon.locator("code")).toHaveText(/^[0-9a-f]{8}…[0-9a-f]{8}$/);
  // The soonest to expire first.
  await expect(table.getByRole("row").nth(1)).toContainText(`soon-${RUN}`);
  await expect(page.getByRole("table", { name: "Access profiles" }).getByRole("row").filter({ hasText: APP })).toContainText("2 certificates");
  await expect(page.locator(".mantine-Notification-root")).toHaveCount(0); // the toasts would hide the table in the picture
  await checkScreen(page, "client-certificates");

  // Remove, after a confirmation naming what it does.
  await soon.getByRole("button", { name: /Remove/ }).click();
  const confirm = page.getByRole("dialog", { name: "Remove this certificate?" });
  await expect(confirm).toContainText("refused");
  await confirm.getByRole("button", { name: "Remove certificate" }).click();
  await expect(confirm).toBeHidden();
  await expect(soon).toHaveCount(0);
  await expect(later).toBeVisible();

  // A token app may require certificate-bound tokens.
  await page.getByRole("button", { name: `Actions for ${TOKEN_APP}` }).click();
  await page.getByRole("menuitem", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${TOKEN_APP}` });
  await edit.getByLabel("Certificate-bound tokens").check();
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await expect(page.getByRole("table", { name: "Access profiles" }).getByRole("row").filter({ hasText: TOKEN_APP })).toContainText("Certificate-bound");
});
