/** Whether a form given `loaded` of a client's `total` members holds all of them, and so may edit them. */
export function membersEditable(loaded: number, total: number): boolean {
  return total <= loaded;
}

/**
 * The member ids a client's form sends: saving replaces the client's members, so a form that
 * was given only some of them (`loaded` of `total`) sends none, leaving them unchanged.
 */
export function memberIdsToSave(members: readonly { id: string }[], loaded: number, total: number): string[] | undefined {
  return membersEditable(loaded, total) ? members.map((m) => m.id) : undefined;
}
