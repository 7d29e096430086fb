import { describe, expect, it } from "vitest";
import { describeQuota, describeRate, describeWindow, initialPlan, planInput, withoutErrorsOf } from "./plan";

describe("plan values", () => {
  it("sends a switched-off limit as null, so an edit clears it", () => {
    const values = { ...initialPlan(null, "Europe/Berlin"), name: "Gold", rateLimitOn: true, rateRequests: "250" };
    expect(planInput(values)).toEqual({
      name: "Gold",
      description: "",
      rateLimit: { requests: 250, period: "MINUTE" },
      quota: null,
      timeWindow: null,
      autoApprove: false,
    });
  });

  it("sends the time window with the reader's zone by default", () => {
    const values = { ...initialPlan(null, "Asia/Tokyo"), windowOn: true };
    expect(planInput(values).timeWindow).toEqual({
      days: ["MON", "TUE", "WED", "THU", "FRI"],
      start: "09:00",
      end: "17:00",
      timeZone: "Asia/Tokyo",
    });
  });

  it("starts an edit from the plan's values", () => {
    const plan = {
      id: "p",
      name: "Silver",
      description: "d",
      autoApprove: true,
      createdAt: "2026-01-01T00:00:00Z",
      rateLimit: { requests: 5, period: "SECOND" as const },
      quota: null,
      timeWindow: { days: ["SAT" as const], start: "22:00", end: "06:00", timeZone: "UTC" },
    };
    const values = initialPlan(plan, "Europe/Berlin");
    expect([values.rateLimitOn, values.ratePeriod, values.quotaOn, values.windowOn, values.days, values.timeZone, values.autoApprove]).toEqual([
      true,
      "SECOND",
      false,
      true,
      ["SAT"],
      "UTC",
      true,
    ]);
  });
});

describe("plan errors", () => {
  it("drops the server's verdict on a field once it changes", () => {
    const errors = { name: "Taken.", "timeWindow.end": "Empty window.", "rateLimit.requests": "Too many." };
    expect(withoutErrorsOf(errors, { end: "18:00" })).toEqual({ name: "Taken.", "rateLimit.requests": "Too many." });
    expect(withoutErrorsOf(errors, { name: "Gold", rateRequests: 5 })).toEqual({ "timeWindow.end": "Empty window." });
  });
});

describe("plan descriptions", () => {
  it("says limits in words", () => {
    expect(describeRate({ requests: 1000, period: "MINUTE" })).toBe("1,000 per minute");
    expect(describeRate(null)).toBe("No limit");
    expect(describeQuota({ requests: 50000, period: "MONTH" })).toBe("50,000 per month");
    expect(describeQuota(null)).toBe("No quota");
  });

  it("writes consecutive days as a range and others one by one", () => {
    expect(describeWindow({ days: ["MON", "TUE", "WED", "THU", "FRI"], start: "09:00", end: "17:00", timeZone: "Europe/Berlin" })).toBe(
      "Mon–Fri 09:00–17:00 (Europe/Berlin)",
    );
    expect(describeWindow({ days: ["SAT", "SUN"], start: "22:00", end: "06:00", timeZone: "UTC" })).toBe("Sat, Sun 22:00–06:00 (UTC)");
    expect(describeWindow({ days: ["MON", "WED", "FRI"], start: "08:00", end: "12:00", timeZone: "UTC" })).toBe("Mon, Wed, Fri 08:00–12:00 (UTC)");
    expect(describeWindow(null)).toBe("Any time");
  });
});
