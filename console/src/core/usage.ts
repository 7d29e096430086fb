// Usage over time: the ranges people pick, the window each asks the server for, and the
// shaping of the server's points for the chart, its table and the top denial reasons.

export type UsageBucket = "HOUR" | "DAY";
export type UsageRange = "24h" | "7d" | "30d";

export interface UsageReasonCount {
  reason: string;
  count: number;
}

export interface UsagePoint {
  start: string;
  allowed: number;
  denied: number;
  reasons: readonly UsageReasonCount[];
}

export interface UsageWindow {
  from: string;
  to: string;
  bucket: UsageBucket;
}

interface RangeSpec {
  value: UsageRange;
  label: string;
  bucket: UsageBucket;
  buckets: number;
}

const LAST_DAY: RangeSpec = { value: "24h", label: "Last 24 hours", bucket: "HOUR", buckets: 24 };

export const USAGE_RANGES: readonly RangeSpec[] = [
  LAST_DAY,
  { value: "7d", label: "Last 7 days", bucket: "DAY", buckets: 7 },
  { value: "30d", label: "Last 30 days", bucket: "DAY", buckets: 30 },
];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function step(bucket: UsageBucket): number {
  return bucket === "HOUR" ? HOUR : DAY;
}

/**
 * The window of a range, in whole UTC buckets ending with the current one (so the calls of the
 * last minutes are in it). Fixed when the range is picked: a query's variables must not move.
 */
export function usageWindow(range: UsageRange, now: Date = new Date()): UsageWindow {
  const spec = USAGE_RANGES.find((r) => r.value === range) ?? LAST_DAY;
  const size = step(spec.bucket);
  const end = Math.floor(now.getTime() / size) * size + size;
  return { from: new Date(end - spec.buckets * size).toISOString(), to: new Date(end).toISOString(), bucket: spec.bucket };
}

/** One point per bucket of the window, oldest first: a bucket the server left out counts zero. */
export function fillSeries(points: readonly UsagePoint[], window: UsageWindow): UsagePoint[] {
  const size = step(window.bucket);
  const byStart = new Map(points.map((p) => [new Date(p.start).getTime(), p]));
  const filled: UsagePoint[] = [];
  for (let t = new Date(window.from).getTime(); t < new Date(window.to).getTime(); t += size) {
    filled.push(byStart.get(t) ?? { start: new Date(t).toISOString(), allowed: 0, denied: 0, reasons: [] });
  }
  return filled;
}

/** The reasons calls were denied for over the points, most frequent first (then by name). */
export function topDenialReasons(points: readonly UsagePoint[], limit = 5): UsageReasonCount[] {
  const sums = new Map<string, number>();
  for (const point of points) {
    for (const { reason, count } of point.reasons) {
      if (reason !== "ok" && count > 0) sums.set(reason, (sums.get(reason) ?? 0) + count);
    }
  }
  return [...sums.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, limit);
}

/** Allowed and denied calls over the points. */
export function usageTotals(points: readonly UsagePoint[]): { allowed: number; denied: number } {
  return points.reduce((sum, p) => ({ allowed: sum.allowed + p.allowed, denied: sum.denied + p.denied }), { allowed: 0, denied: 0 });
}

/** A bucket's label in UTC, as the server counts: "28 Nov 14:00" for hours, "28 Nov" for days. */
export function bucketLabel(start: string, bucket: UsageBucket): string {
  const date = new Date(start);
  const day = date.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  return bucket === "HOUR" ? `${day} ${date.toISOString().slice(11, 16)}` : day;
}
