import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";
import { byField, describeError, describeFailure, isUnauthenticated, UNCONFIRMED } from "./errors";

const withCode = (code: string, message = "raw server text") =>
  new CombinedError({ graphQLErrors: [{ message, extensions: { code } }] });

describe("errors as people read them", () => {
  it("names what happened, never the raw text of unknown errors", () => {
    expect(describeError(withCode("FORBIDDEN"))).toBe("Your role does not allow this.");
    expect(describeError(withCode("INTERNAL_SERVER_ERROR"))).not.toContain("raw server text");
    expect(describeError(new CombinedError({ networkError: new Error("boom") }))).toContain("cannot be reached");
  });

  it("never describes a mutation without its payload as no problem", () => {
    expect(describeFailure(undefined)).toBe(UNCONFIRMED);
    expect(describeFailure(withCode("FORBIDDEN"))).toBe("Your role does not allow this.");
  });

  it("recognises an ended session", () => {
    expect(isUnauthenticated(withCode("UNAUTHENTICATED"))).toBe(true);
    expect(isUnauthenticated(withCode("FORBIDDEN"))).toBe(false);
  });

  it("puts userErrors on their fields", () => {
    expect(
      byField([
        { field: "name", message: "Taken.", code: "TAKEN" },
        { field: null, message: "Try later.", code: "INVALID" },
      ]),
    ).toEqual({ name: "Taken.", "": "Try later." });
  });
});
