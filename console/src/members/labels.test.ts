import { describe, expect, it } from "vitest";
import { memberLabel } from "./labels";

describe("memberLabel", () => {
  it("shows the name and the email", () => {
    expect(memberLabel({ name: "Sarah Lee", email: "sarah@example.com" })).toBe("Sarah Lee <sarah@example.com>");
  });
  it("shows the email alone when there is no other name", () => {
    expect(memberLabel({ name: "", email: "sarah@example.com" })).toBe("sarah@example.com");
    expect(memberLabel({ name: "sarah@example.com", email: "sarah@example.com" })).toBe("sarah@example.com");
  });
});
