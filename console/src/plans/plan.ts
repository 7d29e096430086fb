// A plan as its editor holds it, what the editor sends, and how the list describes it.
import type { PlanFieldsFragment, QuotaPeriod, RateLimitPeriod, UpdatePlanInput, Weekday } from "../gql/graphql";

export const WEEKDAYS: { value: Weekday; label: string }[] = [
  { value: "MON", label: "Mon" },
  { value: "TUE", label: "Tue" },
  { value: "WED", label: "Wed" },
  { value: "THU", label: "Thu" },
  { value: "FRI", label: "Fri" },
  { value: "SAT", label: "Sat" },
  { value: "SUN", label: "Sun" },
];

export const RATE_PERIODS: { value: RateLimitPeriod; label: string }[] = [
  { value: "SECOND", label: "per second" },
  { value: "MINUTE", label: "per minute" },
  { value: "HOUR", label: "per hour" },
];

export const QUOTA_PERIODS: { value: QuotaPeriod; label: string }[] = [
  { value: "DAY", label: "per day" },
  { value: "MONTH", label: "per month" },
];

export interface PlanValues {
  name: string;
  description: string;
  rateLimitOn: boolean;
  rateRequests: number | string;
  ratePeriod: RateLimitPeriod;
  quotaOn: boolean;
  quotaRequests: number | string;
  quotaPeriod: QuotaPeriod;
  windowOn: boolean;
  days: Weekday[];
  start: string;
  end: string;
  timeZone: string;
  autoApprove: boolean;
}

export function initialPlan(plan: PlanFieldsFragment | null, localZone: string): PlanValues {
  return {
    name: plan?.name ?? "",
    description: plan?.description ?? "",
    rateLimitOn: Boolean(plan?.rateLimit),
    rateRequests: plan?.rateLimit?.requests ?? 100,
    ratePeriod: plan?.rateLimit?.period ?? "MINUTE",
    quotaOn: Boolean(plan?.quota),
    quotaRequests: plan?.quota?.requests ?? 10000,
    quotaPeriod: plan?.quota?.period ?? "DAY",
    windowOn: Boolean(plan?.timeWindow),
    days: [...(plan?.timeWindow?.days ?? ["MON", "TUE", "WED", "THU", "FRI"])],
    start: plan?.timeWindow?.start ?? "09:00",
    end: plan?.timeWindow?.end ?? "17:00",
    timeZone: plan?.timeWindow?.timeZone ?? localZone,
    autoApprove: plan?.autoApprove ?? false,
  };
}

/** The fields both createPlan and updatePlan take; a limit switched off is sent as null (none). */
export function planInput(values: PlanValues): Omit<UpdatePlanInput, "id"> {
  return {
    name: values.name,
    description: values.description,
    rateLimit: values.rateLimitOn ? { requests: Number(values.rateRequests), period: values.ratePeriod } : null,
    quota: values.quotaOn ? { requests: Number(values.quotaRequests), period: values.quotaPeriod } : null,
    timeWindow: values.windowOn ? { days: values.days, start: values.start, end: values.end, timeZone: values.timeZone } : null,
    autoApprove: values.autoApprove,
  };
}

function labelOf<T extends string>(choices: { value: T; label: string }[], value: T): string {
  return choices.find((c) => c.value === value)?.label ?? value;
}

export function describeRate(rate: PlanFieldsFragment["rateLimit"]): string {
  return rate ? `${rate.requests.toLocaleString("en")} ${labelOf(RATE_PERIODS, rate.period)}` : "No limit";
}

export function describeQuota(quota: PlanFieldsFragment["quota"]): string {
  return quota ? `${quota.requests.toLocaleString("en")} ${labelOf(QUOTA_PERIODS, quota.period)}` : "No quota";
}

/** "Mon–Fri 09:00–17:00 (Europe/Berlin)"; consecutive days as a range. */
export function describeWindow(window: PlanFieldsFragment["timeWindow"]): string {
  if (!window) return "Any time";
  const indexes = WEEKDAYS.map((d, i) => (window.days.includes(d.value) ? i : -1)).filter((i) => i >= 0);
  const first = indexes[0] ?? 0;
  const last = indexes[indexes.length - 1] ?? 0;
  const consecutive = indexes.length > 2 && last - first === indexes.length - 1;
  const days = consecutive
    ? `${WEEKDAYS[first]?.label}–${WEEKDAYS[last]?.label}`
    : indexes.map((i) => WEEKDAYS[i]?.label).join(", ");
  return `${days} ${window.start}–${window.end} (${window.timeZone})`;
}

// The field of a userError for each value of the editor, where the two names differ.
const ERROR_FIELD: Partial<Record<keyof PlanValues, string>> = {
  rateRequests: "rateLimit.requests",
  quotaRequests: "quota.requests",
  days: "timeWindow.days",
  start: "timeWindow.start",
  end: "timeWindow.end",
  timeZone: "timeWindow.timeZone",
};

/** The errors left once `patch` has changed their fields: a verdict on the old value no longer holds. */
export function withoutErrorsOf(errors: Record<string, string>, patch: Partial<PlanValues>): Record<string, string> {
  const changed = new Set(Object.keys(patch).map((key) => ERROR_FIELD[key as keyof PlanValues] ?? key));
  return Object.fromEntries(Object.entries(errors).filter(([field]) => !changed.has(field)));
}
