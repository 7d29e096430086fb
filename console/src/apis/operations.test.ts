import { describe, expect, it } from "vitest";
import { changeRows, cleanScopes, describeChange, diffSummary, documentFileProblem, splitPointer } from "./operations";

const op = (method: string, path: string, extra: Partial<{ name: string; scopes: string[]; previousName: string | null; previousScopes: string[] | null }> = {}) => ({
  method,
  path,
  name: extra.name ?? "",
  scopes: extra.scopes ?? [],
  previousName: extra.previousName ?? null,
  previousScopes: extra.previousScopes ?? null,
});

describe("changeRows", () => {
  it("lists added, changed then removed, each by path then method", () => {
    const rows = changeRows({
      added: [op("POST", "/b"), op("GET", "/b"), op("GET", "/a")],
      changed: [op("PUT", "/c")],
      removed: [op("DELETE", "/a")],
      unchangedCount: 0,
      pruned: false,
    });
    expect(rows.map((r) => `${r.kind} ${r.method} ${r.path}`)).toEqual(["added GET /a", "added GET /b", "added POST /b", "changed PUT /c", "removed DELETE /a"]);
  });
});

describe("diffSummary", () => {
  const diff = { added: [op("GET", "/a")], changed: [], removed: [op("GET", "/b")], unchangedCount: 4, pruned: false };
  it("says removed operations are kept without prune", () => {
    expect(diffSummary(diff, false)).toBe("1 added · 0 changed · 1 removed (kept: not pruned) · 4 unchanged");
  });
  it("says nothing more when prune is chosen or done", () => {
    expect(diffSummary(diff, true)).toBe("1 added · 0 changed · 1 removed · 4 unchanged");
    expect(diffSummary({ ...diff, pruned: true }, false)).toBe("1 added · 0 changed · 1 removed · 4 unchanged");
  });
});

describe("describeChange", () => {
  it("names the name and scopes before and after, scopes as sets", () => {
    expect(describeChange(op("GET", "/a", { name: "b", previousName: "a", scopes: ["x", "y"], previousScopes: ["y", "x"] }))).toBe("name a → b");
    expect(describeChange(op("GET", "/a", { name: "a", previousName: "a", scopes: ["x"], previousScopes: [] }))).toBe("scopes (none) → x");
    expect(describeChange(op("GET", "/a", { name: "", previousName: "old", scopes: [], previousScopes: ["r"] }))).toBe("name old → (none); scopes r → (none)");
  });
});

describe("splitPointer", () => {
  it("finds the JSON pointer of a validation message", () => {
    expect(splitPointer("Invalid OpenAPI document at /paths/~1invoices/get/responses: 'x' is not valid")).toEqual({
      before: "Invalid OpenAPI document at ",
      pointer: "/paths/~1invoices/get/responses",
      after: ": 'x' is not valid",
    });
  });
  it("leaves a message without one whole", () => {
    expect(splitPointer("Not an OpenAPI 3 document.")).toEqual({ before: "Not an OpenAPI 3 document.", pointer: null, after: "" });
  });
});

describe("documentFileProblem", () => {
  it("takes JSON and YAML files up to 2 MiB", () => {
    expect(documentFileProblem({ name: "api.yaml", size: 10 })).toBeNull();
    expect(documentFileProblem({ name: "API.JSON", size: 2 * 1024 * 1024 })).toBeNull();
    expect(documentFileProblem({ name: "api.yml", size: 1 })).toBeNull();
  });
  it("refuses other names, empty and larger files", () => {
    expect(documentFileProblem({ name: "api.txt", size: 10 })).toMatch(/JSON or YAML/);
    expect(documentFileProblem({ name: "api.json", size: 2 * 1024 * 1024 + 1 })).toMatch(/2 MiB/);
    expect(documentFileProblem({ name: "api.json", size: 0 })).toMatch(/empty/);
  });
});

describe("cleanScopes", () => {
  it("splits on spaces and commas and drops repeats", () => {
    expect(cleanScopes(["read write", "read,admin", " "])).toEqual(["read", "write", "admin"]);
  });
});
