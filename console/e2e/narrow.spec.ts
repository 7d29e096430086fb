import { expect, signIn, test } from "./fixtures";

// A phone-sized window: the navigation folds behind the menu button, and the key and audit
// tables scroll inside their own box instead of widening the page.
test.use({ viewport: { width: 390, height: 844 } });

test("Access keys, Audit log and Notification settings fit a narrow window", async ({ page, server }) => {
  await signIn(page, server.key);
  for (const [link, heading] of [
    ["Access keys", "API Access keys"],
    ["Audit log", "Audit log"],
    ["Notification settings", "Notification settings"],
  ] as const) {
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: link, exact: true }).click();
    await expect(page.getByRole("heading", { name: heading })).toBeVisible();
    await page.waitForLoadState("networkidle");
    // Controls and text outside a scrolling box must lie within the window.
    const outside = await page.evaluate(() => {
      const main = document.querySelector("main");
      const scrolls = (element: Element) => {
        for (let node = element.parentElement; node && node !== main; node = node.parentElement) {
          if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) return true;
        }
        return false;
      };
      return [...(main?.querySelectorAll("h2, p, input, button, label") ?? [])]
        .filter((element) => {
          const box = element.getBoundingClientRect();
          return box.width > 0 && !scrolls(element) && (box.left < 0 || box.right > window.innerWidth + 1);
        })
        .map((element) => element.outerHTML.slice(0, 80));
    });
    expect(outside, `${heading}: outside the window`).toEqual([]);
  }
});
