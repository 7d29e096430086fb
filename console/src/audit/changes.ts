// How an audit event's before/after summaries are read side by side, and how it is named.

export interface ChangeRow {
  key: string;
  before: string | null; // null: absent on that side
  after: string | null;
  changed: boolean;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** A summary value as one line of text: strings as they are, the rest as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "—";
  return JSON.stringify(value);
}

/**
 * One row per field found on either side, in the order they first appear (before, then
 * after), marking those whose value differs. A side that is not an object (or is missing)
 * contributes no field.
 */
export function compareSides(before: unknown, after: unknown): ChangeRow[] {
  const left = asRecord(before);
  const right = asRecord(after);
  const keys = [...new Set([...Object.keys(left ?? {}), ...Object.keys(right ?? {})])];
  return keys.map((key) => {
    const hasBefore = left !== null && key in left;
    const hasAfter = right !== null && key in right;
    const beforeText = hasBefore ? show(left[key]) : null;
    const afterText = hasAfter ? show(right[key]) : null;
    return { key, before: beforeText, after: afterText, changed: beforeText !== afterText };
  });
}

/** What the event's target is called: its name in the summaries, else its type. */
export function targetLabel(event: { targetType: string; before?: unknown; after?: unknown }): string {
  for (const side of [event.after, event.before]) {
    const record = asRecord(side);
    for (const field of ["name", "email", "identifier"]) {
      const value = record?.[field];
      if (typeof value === "string" && value) return value;
    }
  }
  return event.targetType;
}

/** A `datetime-local` value (the reader's zone) as an ISO instant for the API, or null. */
export function instant(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
