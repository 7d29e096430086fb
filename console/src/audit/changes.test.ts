import { describe, expect, it } from "vitest";
import { actorKindLabel, targetTypeLabel, withSeen } from "./catalog";
import { compareSides, instant, show, targetLabel } from "./changes";

describe("compareSides", () => {
  it("pairs each field of either side and marks the changed ones", () => {
    const rows = compareSides(
      { name: "ci", tags: ["a"], role: "Owner" },
      { name: "ci-deploy", tags: ["a"], expiresAt: "2030-01-01T00:00:00+00:00" },
    );
    expect(rows).toEqual([
      { key: "name", before: "ci", after: "ci-deploy", changed: true },
      { key: "tags", before: '["a"]', after: '["a"]', changed: false },
      { key: "role", before: "Owner", after: null, changed: true },
      { key: "expiresAt", before: null, after: "2030-01-01T00:00:00+00:00", changed: true },
    ]);
  });

  it("reads a missing side as having no fields", () => {
    expect(compareSides(null, { name: "x" })).toEqual([{ key: "name", before: null, after: "x", changed: true }]);
    expect(compareSides(undefined, ["not", "an", "object"])).toEqual([]);
  });

  it("shows null values and nested objects as text", () => {
    expect(show(null)).toBe("—");
    expect(show({ subjects: { expiring: "Soon" } })).toBe('{"subjects":{"expiring":"Soon"}}');
    expect(show(3)).toBe("3");
  });
});

describe("targetLabel", () => {
  it("prefers the name in the summaries, newest side first", () => {
    expect(targetLabel({ targetType: "ApiAccess", before: { name: "old" }, after: { name: "new" } })).toBe("new");
    expect(targetLabel({ targetType: "Member", before: { email: "a@example.com" }, after: null })).toBe("a@example.com");
    expect(targetLabel({ targetType: "Workspace", before: null, after: { subjects: {} } })).toBe("Workspace");
  });
});

describe("instant", () => {
  it("turns a local date-time into an ISO instant, and nothing into null", () => {
    const local = "2030-05-01T10:00";
    expect(instant(local)).toBe(new Date(2030, 4, 1, 10, 0).toISOString());
    expect(instant("")).toBeNull();
    expect(instant("garbage")).toBeNull();
  });
});

describe("catalog", () => {
  it("names actor kinds and target types for people, and keeps unknown ones", () => {
    expect(actorKindLabel("API_ACCESS")).toBe("API Access key");
    expect(actorKindLabel("SYSTEM")).toBe("AccessPlane itself");
    expect(actorKindLabel("ROBOT")).toBe("ROBOT");
    expect(targetTypeLabel("ApiAccess")).toBe("API Access key");
    expect(targetTypeLabel("Gadget")).toBe("Gadget");
  });

  it("offers known values first, then those seen in the data", () => {
    expect(withSeen(["a", "b"], ["c", "a", "c", "0"])).toEqual(["a", "b", "0", "c"]);
  });
});
