// The email kinds as people know them, and the server's subject errors placed on their field.

export const KIND_LABELS: Record<string, { title: string; when: string }> = {
  ACCESS_REQUESTED: { title: "Access requested", when: "To the deciders, when a consumer asks for access." },
  APPROVE: { title: "Access approved", when: "To the consumer, when a request is approved." },
  REJECT: { title: "Access rejected", when: "To the consumer, when a request is rejected." },
  EXPIRING: { title: "API key expiring", when: "To a key's author, 30, 7 and 1 days before it expires." },
  EXPIRED: { title: "API key expired", when: "To a key's author, once the key has expired." },
  INVITE: { title: "Invitation", when: "To a person added to the workspace, with a link to sign in." },
};

export function kindTitle(kind: string): string {
  return KIND_LABELS[kind]?.title ?? kind;
}

/**
 * The server reports a bad template as a `subjects` userError starting with the kind's
 * lower-case name ("expiring: ..."): those go to that kind's field, the rest to the form.
 */
export function subjectErrors(
  errors: readonly { field?: string | null; message: string }[],
  kinds: readonly string[],
): Record<string, string> {
  const result: Record<string, string> = {};
  const add = (key: string, message: string) => {
    result[key] = result[key] ? `${result[key]} ${message}` : message;
  };
  for (const error of errors) {
    const kind = error.field === "subjects" ? kinds.find((k) => error.message.startsWith(`${k.toLowerCase()}: `)) : undefined;
    if (kind) add(kind, error.message.slice(kind.length + 2));
    else add("", error.message);
  }
  return result;
}

/** The subjects to send: only the changed ones; an empty one restores the default. */
export function changedSubjects(
  saved: readonly { kind: string; subject: string; isDefault: boolean }[],
  edited: Record<string, string>,
): { kind: string; subject: string }[] {
  const changes: { kind: string; subject: string }[] = [];
  for (const { kind, subject, isDefault } of saved) {
    const next = (edited[kind] ?? subject).trim();
    if (next === "" && !isDefault) changes.push({ kind, subject: "" });
    else if (next !== "" && next !== subject) changes.push({ kind, subject: next });
  }
  return changes;
}
