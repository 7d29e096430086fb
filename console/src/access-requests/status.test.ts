import { describe, expect, it } from "vitest";
import { canReject, decisionSummary, toStatusFilter } from "./status";

describe("access request status", () => {
  it("filters by one status, or not at all for All", () => {
    expect(toStatusFilter("ALL")).toBeNull();
    expect(toStatusFilter("PENDING")).toEqual({ status: "PENDING" });
  });

  it("sums up the decision with who made it and why", () => {
    expect(decisionSummary({ status: "PENDING", decidedBy: null, reason: "" })).toBe("Waiting for a decision");
    expect(decisionSummary({ status: "REJECTED", decidedBy: "Ana", reason: " no budget " })).toBe(
      "Rejected by Ana: no budget",
    );
    expect(decisionSummary({ status: "APPROVED", decidedBy: "auto-approve (plan Free)", reason: "" })).toBe(
      "Approved by auto-approve (plan Free)",
    );
  });

  it("needs a reason that is not blank to reject", () => {
    expect(canReject("")).toBe(false);
    expect(canReject("   ")).toBe(false);
    expect(canReject("No budget this quarter")).toBe(true);
  });
});
