// What the Operations section and its dialogs compute, apart from React (tested in Vitest).
import type { OperationChangeFragment } from "../gql/graphql";

/** The methods an operation may name; `*` matches any. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "*"] as const;

/** The server refuses larger documents (docs/operations.md); saying so before sending saves an upload. */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;

export type ChangeKind = "added" | "changed" | "removed";

export interface ChangeRow extends OperationChangeFragment {
  kind: ChangeKind;
}

export interface ImportDiff {
  added: readonly OperationChangeFragment[];
  changed: readonly OperationChangeFragment[];
  removed: readonly OperationChangeFragment[];
  unchangedCount: number;
  pruned: boolean;
}

/** The diff as one list of rows, added then changed then removed, each by path then method. */
export function changeRows(diff: ImportDiff): ChangeRow[] {
  const order = (a: OperationChangeFragment, b: OperationChangeFragment) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method);
  const kinds: ChangeKind[] = ["added", "changed", "removed"];
  return kinds.flatMap((kind) => [...diff[kind]].sort(order).map((change) => ({ ...change, kind })));
}

/** "2 added · 1 changed · 3 removed (kept: prune not chosen) · 4 unchanged". */
export function diffSummary(diff: ImportDiff, prune: boolean): string {
  const removed = diff.removed.length;
  const fate = removed === 0 ? "" : diff.pruned || prune ? "" : " (kept: not pruned)";
  return `${diff.added.length} added · ${diff.changed.length} changed · ${removed} removed${fate} · ${diff.unchangedCount} unchanged`;
}

/** What a changed row changes: the name and scopes before and after. */
export function describeChange(change: OperationChangeFragment): string {
  const parts: string[] = [];
  if (change.previousName !== null && change.previousName !== undefined && change.previousName !== change.name) {
    parts.push(`name ${change.previousName || "(none)"} → ${change.name || "(none)"}`);
  }
  if (change.previousScopes) {
    const before = [...change.previousScopes].sort().join(" ");
    const after = [...change.scopes].sort().join(" ");
    if (before !== after) parts.push(`scopes ${before || "(none)"} → ${after || "(none)"}`);
  }
  return parts.join("; ");
}

/** A validation message split around its JSON pointer ("… at /paths/~1a/get: why"), so the
 * pointer can be shown as code; `pointer` is null when the message names none. */
export function splitPointer(message: string): { before: string; pointer: string | null; after: string } {
  const match = / at (\/[^\s:]*)/.exec(message);
  if (!match || match.index === undefined) return { before: message, pointer: null, after: "" };
  const start = match.index + 4;
  const pointer = match[1] ?? "";
  return { before: message.slice(0, start), pointer, after: message.slice(start + pointer.length) };
}

/** Why a chosen file cannot be a document to import, or null. */
export function documentFileProblem(file: { name: string; size: number }): string | null {
  if (!/\.(json|ya?ml)$/i.test(file.name)) return "Choose a JSON or YAML file (.json, .yaml or .yml).";
  if (file.size > MAX_DOCUMENT_BYTES) return "The document is larger than 2 MiB, the most the server reads.";
  if (file.size === 0) return "The file is empty.";
  return null;
}

/** Scopes as typed, one list: split on spaces and commas, empty ones and repeats dropped. */
export function cleanScopes(scopes: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const scope of scopes.flatMap((s) => s.split(/[\s,]+/))) if (scope) seen.add(scope);
  return [...seen];
}
