import { describe, expect, it } from "vitest";
import { changedSubjects, kindTitle, subjectErrors } from "./subjects";

const KINDS = ["ACCESS_REQUESTED", "EXPIRING", "EXPIRED"];

describe("subjectErrors", () => {
  it("puts a template error on its kind's field, the rest on the form", () => {
    const errors = subjectErrors(
      [
        { field: "subjects", message: "expiring: unknown variable 'nope'" },
        { field: "subjects", message: "access_requested: too long" },
        { field: "workspaceId", message: "Workspace not found." },
      ],
      KINDS,
    );
    expect(errors).toEqual({
      EXPIRING: "unknown variable 'nope'",
      ACCESS_REQUESTED: "too long",
      "": "Workspace not found.",
    });
  });

  it("does not confuse a kind with another that starts alike", () => {
    expect(subjectErrors([{ field: "subjects", message: "expired: bad" }], KINDS)).toEqual({ EXPIRED: "bad" });
  });
});

describe("changedSubjects", () => {
  const saved = [
    { kind: "EXPIRING", subject: "Soon: {{ key_name }}", isDefault: false },
    { kind: "EXPIRED", subject: "Gone", isDefault: true },
  ];

  it("sends only what changed", () => {
    expect(changedSubjects(saved, {})).toEqual([]);
    expect(changedSubjects(saved, { EXPIRED: " Gone " })).toEqual([]);
    expect(changedSubjects(saved, { EXPIRED: "Expired: {{ key_name }}" })).toEqual([
      { kind: "EXPIRED", subject: "Expired: {{ key_name }}" },
    ]);
  });

  it("restores a default with an empty subject, and only when one was set", () => {
    expect(changedSubjects(saved, { EXPIRING: "  ", EXPIRED: "" })).toEqual([{ kind: "EXPIRING", subject: "" }]);
  });

  it("names kinds for people", () => {
    expect(kindTitle("EXPIRING")).toBe("API key expiring");
    expect(kindTitle("NEW_KIND")).toBe("NEW_KIND");
  });
});
