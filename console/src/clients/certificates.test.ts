import { describe, expect, it } from "vitest";
import { pemProblem, shortFingerprint, validity } from "./certificates";

const NOW = new Date("2026-01-10T12:00:00Z");

describe("shortFingerprint", () => {
  it("keeps the first and last 8 hex digits", () => {
    expect(shortFingerprint("0123456789abcdef".repeat(4))).toBe("01234567…89abcdef");
    expect(shortFingerprint("abc")).toBe("abc");
  });
});

describe("validity", () => {
  it("says Expired once the end has passed", () => {
    expect(validity("2026-01-10T12:00:00Z", NOW)).toEqual({ label: "Expired", tone: "expired" });
    expect(validity("2025-12-01T00:00:00Z", NOW).label).toBe("Expired");
  });
  it("counts whole days left", () => {
    expect(validity("2026-01-10T20:00:00Z", NOW)).toEqual({ label: "Expires today", tone: "soon" });
    expect(validity("2026-01-11T13:00:00Z", NOW)).toEqual({ label: "Expires in 1 day", tone: "soon" });
    expect(validity("2026-02-08T12:00:00Z", NOW)).toEqual({ label: "Expires in 29 days", tone: "soon" });
    expect(validity("2027-01-10T12:00:00Z", NOW)).toEqual({ label: "Expires in 365 days", tone: "valid" });
  });
});

describe("pemProblem", () => {
  it("takes a PEM certificate", () => {
    expect(pemProblem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")).toBeNull();
  });
  it("refuses empty and oversized input, leaving the format to the server", () => {
    expect(pemProblem("  ")).toMatch(/Paste/);
    expect(pemProblem("-----BEGIN PRIVATE KEY-----")).toBeNull();
    expect(pemProblem(`-----BEGIN CERTIFICATE-----\n${"A".repeat(16 * 1024)}`)).toMatch(/16 KB/);
  });
});
