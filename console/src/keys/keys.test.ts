import { describe, expect, it } from "vitest";
import { expiresAt, gracePeriodSeconds, localInputValue } from "./expiry";
import { NO_FILTER, isFiltered, normaliseTags, toApiFilter } from "./filters";

const NOW = new Date("2030-01-01T12:00:00Z");

describe("expiresAt", () => {
  it("adds a preset's days to now", () => {
    expect(expiresAt("30", "", NOW)).toBe("2030-01-31T12:00:00.000Z");
    expect(expiresAt("365", "", NOW)).toBe("2031-01-01T12:00:00.000Z");
  });

  it("reads a custom local date-time as an instant", () => {
    const local = localInputValue(new Date("2030-03-01T08:30:00Z"));
    expect(expiresAt("custom", local, NOW)).toBe("2030-03-01T08:30:00.000Z");
  });

  it("has no value for a missing or unreadable custom date", () => {
    expect(expiresAt("custom", "", NOW)).toBeNull();
    expect(expiresAt("custom", "not a date", NOW)).toBeNull();
    expect(expiresAt("0", "", NOW)).toBeNull();
  });
});

describe("gracePeriodSeconds", () => {
  it("sends nothing for no grace period", () => {
    expect(gracePeriodSeconds("0")).toBeNull();
    expect(gracePeriodSeconds("")).toBeNull();
    expect(gracePeriodSeconds("3600")).toBe(3600);
  });
});

describe("key filters", () => {
  it("asks for every key without filters", () => {
    expect(toApiFilter(NO_FILTER)).toEqual({ status: null, roleIds: null, tags: null, search: null });
    expect(isFiltered(NO_FILTER)).toBe(false);
  });

  it("sends status, roles, normalised tags and the trimmed search", () => {
    const state = { status: "EXPIRED" as const, roleIds: ["r1"], tags: [" CI ", "ci", "prod", " "], search: " deploy " };
    expect(toApiFilter(state)).toEqual({ status: "EXPIRED", roleIds: ["r1"], tags: ["ci", "prod"], search: "deploy" });
    expect(isFiltered({ ...NO_FILTER, search: "  " })).toBe(false);
    expect(isFiltered({ ...NO_FILTER, tags: ["x"] })).toBe(true);
  });

  it("normalises tags like the server", () => {
    expect(normaliseTags(["Prod", "prod", "", "team:web"])).toEqual(["prod", "team:web"]);
  });
});
