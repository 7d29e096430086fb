// The key table's filter panel, as the ApiAccessFilter the API takes.

export type StatusChoice = "ALL" | "ACTIVE" | "EXPIRED";

export interface KeyFilterState {
  status: StatusChoice;
  roleIds: string[];
  tags: string[];
  search: string;
}

export const NO_FILTER: KeyFilterState = { status: "ALL", roleIds: [], tags: [], search: "" };

export interface ApiAccessFilterInput {
  status: "ACTIVE" | "EXPIRED" | null;
  roleIds: string[] | null;
  tags: string[] | null;
  search: string | null;
}

/** Tags as the server stores them: trimmed, lower-cased, without duplicates or blanks. */
export function normaliseTags(tags: readonly string[]): string[] {
  const result: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (tag && !result.includes(tag)) result.push(tag);
  }
  return result;
}

/** Empty parts are left out, so "no filter" asks for every key. */
export function toApiFilter(state: KeyFilterState): ApiAccessFilterInput {
  const tags = normaliseTags(state.tags);
  const search = state.search.trim();
  return {
    status: state.status === "ALL" ? null : state.status,
    roleIds: state.roleIds.length ? state.roleIds : null,
    tags: tags.length ? tags : null,
    search: search || null,
  };
}

export function isFiltered(state: KeyFilterState): boolean {
  return Object.values(toApiFilter(state)).some((value) => value !== null);
}
