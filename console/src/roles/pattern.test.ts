import { describe, expect, it } from "vitest";
import { testPattern } from "./pattern";

describe("testPattern", () => {
  it("matches the whole name", () => {
    expect(testPattern("ci-.*", "ci-deploy")).toEqual({ valid: true, matches: true });
    expect(testPattern("ci-.*", "my-ci-deploy")).toEqual({ valid: true, matches: false });
    expect(testPattern("ci|cd", "cid")).toEqual({ valid: true, matches: false });
  });
  it("says when the pattern is not valid", () => {
    expect(testPattern("ci-(", "ci-")).toEqual({ valid: false, message: "This is not a valid pattern." });
  });
});
