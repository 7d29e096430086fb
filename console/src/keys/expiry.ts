// Expiry and grace period choices of the key forms, turned into what the API takes.

/** Ready-made lifetimes; the server allows at most 365 days by default. */
export const EXPIRY_PRESETS = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "180", label: "180 days" },
  { value: "365", label: "1 year" },
  { value: "custom", label: "Custom date and time" },
] as const;

export const DEFAULT_EXPIRY = "90";

/** Optional grace periods of a regeneration, in seconds (the server allows up to 24 hours). */
export const GRACE_PERIODS = [
  { value: "0", label: "None: the old token stops now" },
  { value: "300", label: "5 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "24 hours" },
] as const;

/**
 * The `expiresAt` to send: `days` from `now`, or the custom local date-time of a
 * `datetime-local` input (read in the browser's zone) as an ISO instant. Null when the custom
 * value is missing or not a date, so the form can say so.
 */
export function expiresAt(choice: string, custom: string, now: Date = new Date()): string | null {
  if (choice === "custom") {
    if (!custom) return null;
    const date = new Date(custom);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  const days = Number(choice);
  if (!Number.isInteger(days) || days <= 0) return null;
  return new Date(now.getTime() + days * 86_400_000).toISOString();
}

/** The grace period to send: null for none. */
export function gracePeriodSeconds(choice: string): number | null {
  const seconds = Number(choice);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : null;
}

/** A `datetime-local` value (local time, minutes) for a date, e.g. as the custom input's min. */
export function localInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}
