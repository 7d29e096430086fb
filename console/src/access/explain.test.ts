import { describe, expect, it } from "vitest";
import { describePath, headline } from "./explain";

const day = (iso: string) => iso.slice(0, 10);

describe("Explain access sentences", () => {
  it("says who can see what", () => {
    expect(headline("Sarah", "Web Application API", true)).toBe("Sarah can see Web Application API because:");
    expect(headline("Sarah", "Web Application API", false)).toBe("Sarah cannot see Web Application API.");
  });

  it("names each path", () => {
    expect(describePath({ kind: "DIRECT", grantedBy: "ada@example.com", grantedAt: "2026-11-27T10:00:00Z" }, day)).toBe(
      "direct grant by ada@example.com on 2026-11-27",
    );
    expect(describePath({ kind: "GROUP", group: { name: "Frontend Team" } }, day)).toBe("via group Frontend Team");
    expect(describePath({ kind: "ROLE", role: { name: "Owner" } }, day)).toBe("role Owner reaches every API");
  });
});
