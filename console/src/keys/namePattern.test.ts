import { describe, expect, it } from "vitest";
import { matchesWhole, namePatternOf, patternError } from "./namePattern";

describe("namePattern", () => {
  it("is read from the createApiAccess constraint only", () => {
    expect(namePatternOf([{ name: "createApiAccess", namePattern: "ci-.*" }])).toBe("ci-.*");
    expect(namePatternOf([{ name: "other", namePattern: "x" }])).toBeNull();
    expect(namePatternOf(undefined)).toBeNull();
  });

  it("matches the whole name, like the server", () => {
    expect(matchesWhole("ci-.*", "ci-deploy")).toBe(true);
    expect(matchesWhole("ci-.*", "my-ci-deploy")).toBe(false);
    expect(matchesWhole("a|b", "ab")).toBe(false);
  });

  it("leaves a pattern JavaScript cannot read to the server", () => {
    expect(matchesWhole("(?P<x>a)", "a")).toBeNull();
    expect(patternError("(?P<x>a)", "zzz")).toBeNull();
  });

  it("says what the server would say, and nothing for a fitting or empty name", () => {
    expect(patternError("ci-.*", "deploy")).toBe(
      "The name must match the pattern 'ci-.*' of your createApiAccess permission.",
    );
    expect(patternError("ci-.*", "ci-x")).toBeNull();
    expect(patternError("ci-.*", "  ")).toBeNull();
    expect(patternError(null, "anything")).toBeNull();
  });
});
