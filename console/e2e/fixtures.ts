import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page, type Request } from "@playwright/test";
import { resolve } from "node:path";

// Every run saves a screenshot per screen under test-results/; with CONSOLE_SCREENSHOTS set
// (e.g. to ../docs/console) it refreshes the documentation's pictures instead.
const SCREENSHOTS = resolve(
  import.meta.dirname,
  "..",
  process.env.CONSOLE_SCREENSHOTS ?? "test-results/screenshots",
);

export interface Server {
  url: string;
  key: string;
}

/** Seeds data with the Owner key, the way an integration would (the story then uses the UI). */
export class Api {
  constructor(
    private readonly page: Page,
    private readonly server: Server,
  ) {}

  async gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await this.page.request.post(`${this.server.url}/graphql`, {
      headers: { Authorization: `Bearer ${this.server.key}` },
      data: { query, variables },
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  }
}

export class GraphQLRequests {
  readonly seen: Request[] = [];
  constructor(page: Page) {
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/graphql" && request.method() === "POST") this.seen.push(request);
    });
  }
  /** The operation names of the last `count` requests, for a failure's message. */
  names(count: number): string {
    return this.seen
      .slice(this.seen.length - count)
      .map((r) => `${(r.postDataJSON() as { operationName?: string }).operationName} ${r.postData()?.slice(-120)}`)
      .join("; ");
  }

  /** How many GraphQL requests `action` caused, once the page has settled. */
  async during(page: Page, action: () => Promise<void>): Promise<number> {
    const before = this.seen.length;
    await action();
    await page.waitForLoadState("networkidle");
    return this.seen.length - before;
  }
}

export const test = base.extend<{ server: Server; api: Api; graphqlRequests: GraphQLRequests }>({
  server: async ({}, use) => {
    const url = process.env.ACCESSPLANE_E2E_URL;
    const key = process.env.ACCESSPLANE_E2E_KEY;
    if (!url || !key) throw new Error("e2e/server.ts did not start the server");
    await use({ url, key });
  },
  baseURL: async ({ server }, use) => use(server.url),
  api: async ({ page, server }, use) => use(new Api(page, server)),
  graphqlRequests: async ({ page }, use) => use(new GraphQLRequests(page)),
});

export { expect };

export async function signIn(page: Page, key: string, path = "/"): Promise<void> {
  await page.goto(path);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in with an API key" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/** No serious or critical accessibility violation, and the screen's picture for the docs. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  // Colours are measured once transitions (a notification fading in) have finished.
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"));
  // Toasts shown over a modal are left out: axe takes the modal's overlay for their background
  // (they are drawn above it); they are checked on screens without a modal.
  const modalOpen = (await page.getByRole("dialog").count()) > 0;
  const axe = new AxeBuilder({ page });
  const results = await (modalOpen ? axe.exclude(".mantine-Notifications-root") : axe).analyze();
  const severe = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    `accessibility of ${name}`,
  ).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
}

/** Controls and text of the main area that stick out of a narrow window (outside a box that
 * scrolls on its own), as the start of their HTML. */
export async function outsideWindow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const main = document.querySelector("main");
    const scrolls = (element: Element) => {
      for (let node = element.parentElement; node && node !== main; node = node.parentElement) {
        if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) return true;
      }
      return false;
    };
    return [...(main?.querySelectorAll("h2, h3, p, input, button, label, a") ?? [])]
      .filter((element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && !scrolls(element) && (box.left < 0 || box.right > window.innerWidth + 1);
      })
      .map((element) => element.outerHTML.slice(0, 80));
  });
}

/** Signs `login` in at the test OpenID Provider ("Sign in with local"), from `start` (the
 * sign-in page, or a link that leads there), through its login and consent pages. */
export async function throughProvider(page: Page, login: string, start = "/sign-in"): Promise<void> {
  await page.goto(start);
  await page.getByRole("link", { name: "Sign in with local" }).click();
  const signOut = page.getByRole("button", { name: "Sign out" });
  for (let step = 0; step < 4 && !(await signOut.isVisible()); step++) {
    const field = page.locator('input[name="login"]');
    const consent = page.getByRole("button", { name: "Continue" });
    await expect(field.or(consent).or(signOut)).toBeVisible();
    if (await field.isVisible()) {
      await field.fill(login);
      await page.locator('input[name="password"]').fill("any");
      await page.getByRole("button", { name: "Sign-in" }).click();
    } else if (await consent.isVisible()) {
      await consent.click();
    }
    await page.waitForLoadState();
  }
  await expect(signOut).toBeVisible();
}

/** The token is nowhere the browser keeps things: the page, its storage, its address. */
export async function forgotten(page: Page, token: string): Promise<void> {
  expect(await page.content()).not.toContain(token);
  const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
  expect(stored).not.toContain(token);
  expect(page.url()).not.toContain(token);
}
