import { describe, expect, it } from "vitest";
import { isConsumer, landingSection } from "./audience";

describe("isConsumer", () => {
  it("is the Consumer role's permissions, or requestAccess alone", () => {
    expect(isConsumer(["getProduct", "requestAccess"])).toBe(true);
    expect(isConsumer(["requestAccess"])).toBe(true);
  });

  it("is not a role with any admin permission, nor one that cannot request", () => {
    expect(isConsumer(["getProduct", "requestAccess", "getClient"])).toBe(false);
    expect(isConsumer(["getProduct"])).toBe(false);
    expect(isConsumer([])).toBe(false);
  });
});

describe("landingSection", () => {
  it("opens the catalogue for consumers and API access for the others", () => {
    expect(landingSection(["getProduct", "requestAccess"])).toBe("portal");
    expect(landingSection(["getProduct", "requestAccess", "manageClients"])).toBe("apis");
  });
});
