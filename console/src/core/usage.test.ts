import { describe, expect, it } from "vitest";
import { bucketLabel, fillSeries, topDenialReasons, usageTotals, usageWindow, type UsagePoint } from "./usage";

const NOW = new Date("2026-11-28T14:25:00Z");

describe("usageWindow", () => {
  it("asks for 24 whole hours ending with the current one", () => {
    expect(usageWindow("24h", NOW)).toEqual({ from: "2026-11-27T15:00:00.000Z", to: "2026-11-28T15:00:00.000Z", bucket: "HOUR" });
  });

  it("asks for whole UTC days ending with today", () => {
    expect(usageWindow("7d", NOW)).toEqual({ from: "2026-11-22T00:00:00.000Z", to: "2026-11-29T00:00:00.000Z", bucket: "DAY" });
    expect(usageWindow("30d", NOW).from).toBe("2026-10-30T00:00:00.000Z");
  });
});

describe("fillSeries", () => {
  const window = usageWindow("7d", NOW);
  const point = (start: string, allowed: number, denied: number): UsagePoint => ({ start, allowed, denied, reasons: [] });

  it("has one point per bucket, oldest first, zeros where the server had none", () => {
    const filled = fillSeries([point("2026-11-28T00:00:00+00:00", 5, 1), point("2026-11-24T00:00:00Z", 2, 0)], window);
    expect(filled.map((p) => p.start.slice(0, 10))).toEqual([
      "2026-11-22",
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
      "2026-11-27",
      "2026-11-28",
    ]);
    expect(filled.map((p) => [p.allowed, p.denied])).toEqual([[0, 0], [0, 0], [2, 0], [0, 0], [0, 0], [0, 0], [5, 1]]);
  });

  it("drops points outside the window", () => {
    expect(fillSeries([point("2026-11-01T00:00:00Z", 9, 9)], window).every((p) => p.allowed === 0)).toBe(true);
  });
});

describe("topDenialReasons", () => {
  const points: UsagePoint[] = [
    { start: "a", allowed: 3, denied: 3, reasons: [{ reason: "ok", count: 3 }, { reason: "rate_limited", count: 2 }, { reason: "ip_not_allowed", count: 1 }] },
    { start: "b", allowed: 0, denied: 4, reasons: [{ reason: "expired", count: 1 }, { reason: "rate_limited", count: 3 }] },
  ];

  it("sums each reason over the range, most frequent first, without ok", () => {
    expect(topDenialReasons(points)).toEqual([
      { reason: "rate_limited", count: 5 },
      { reason: "expired", count: 1 },
      { reason: "ip_not_allowed", count: 1 },
    ]);
  });

  it("keeps the first few", () => {
    expect(topDenialReasons(points, 1)).toEqual([{ reason: "rate_limited", count: 5 }]);
    expect(topDenialReasons([])).toEqual([]);
  });

  it("totals allowed and denied calls", () => {
    expect(usageTotals(points)).toEqual({ allowed: 3, denied: 7 });
  });
});

describe("bucketLabel", () => {
  it("names hours and days in UTC", () => {
    expect(bucketLabel("2026-11-28T14:00:00Z", "HOUR")).toBe("28 Nov 14:00");
    expect(bucketLabel("2026-11-28T00:00:00Z", "DAY")).toBe("28 Nov");
  });
});
