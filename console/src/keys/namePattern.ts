// The namePattern of the viewer's createApiAccess permission, checked as the name is typed.
// The server (RE2) stays the judge: a pattern JavaScript cannot compile is simply not checked.

export interface Constraint {
  name: string;
  namePattern?: string | null;
}

export function namePatternOf(constraints: readonly Constraint[] | undefined): string | null {
  return constraints?.find((c) => c.name === "createApiAccess")?.namePattern ?? null;
}

/** Whether `name` matches the whole pattern; null when the pattern is not valid JavaScript. */
export function matchesWhole(pattern: string, name: string): boolean | null {
  try {
    return new RegExp(`^(?:${pattern})$`, "u").test(name);
  } catch {
    return null;
  }
}

/** The message the server gives for a name outside the pattern, or null when it fits. */
export function patternError(pattern: string | null, name: string): string | null {
  if (!pattern || !name.trim() || matchesWhole(pattern, name.trim()) !== false) return null;
  return `The name must match the pattern '${pattern}' of your createApiAccess permission.`;
}
