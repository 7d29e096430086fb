/**
 * The member ids a client's form sends: saving replaces the client's members, so a form that
 * holds only some of them (`total` is more than it was given) sends none, leaving them unchanged.
 */
export function memberIdsToSave(members: readonly { id: string }[], total: number): string[] | undefined {
  return membersEditable(members.length, total) ? members.map((m) => m.id) : undefined;
}

/** Whether the form holds all of a client's `total` members and so may edit them. */
export function membersEditable(held: number, total: number): boolean {
  return total <= held;
}
