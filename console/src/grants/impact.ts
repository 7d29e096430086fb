// What a revocation does to people's access: a group's members keep the API only through a
// direct grant or another granted group.

export interface GrantedGroup {
  id: string;
  memberIds: string[];
}

/** How many people lose the API when these direct grants and group grants go. */
export function peopleLosingAccess(
  directIds: readonly string[],
  groups: readonly GrantedGroup[],
  revokedPeople: readonly string[],
  revokedGroups: readonly string[],
): number {
  const revokedGroupSet = new Set(revokedGroups);
  const keptDirect = new Set(directIds.filter((id) => !revokedPeople.includes(id)));
  const keptViaGroups = new Set(groups.filter((g) => !revokedGroupSet.has(g.id)).flatMap((g) => g.memberIds));
  const before = new Set([...directIds, ...groups.flatMap((g) => g.memberIds)]);
  let losing = 0;
  for (const id of before) {
    if (!keptDirect.has(id) && !keptViaGroups.has(id)) losing += 1;
  }
  return losing;
}

/** The sentence a confirmation dialog shows. */
export function impactSentence(people: number, groups: number, losing: number): string {
  const parts = [];
  if (people) parts.push(`${people} direct ${people === 1 ? "grant" : "grants"}`);
  if (groups) parts.push(`${groups} group ${groups === 1 ? "grant" : "grants"}`);
  const who =
    losing === 0
      ? "Nobody loses access: everyone keeps it through another grant."
      : `${losing} ${losing === 1 ? "person loses" : "people lose"} access to this API (the others keep it through a direct grant or another group).`;
  return `Revoke ${parts.join(" and ")}? ${who}`;
}
