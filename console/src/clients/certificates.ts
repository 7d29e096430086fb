// How the console shows a client certificate (tested in Vitest).

const DAY_MS = 24 * 60 * 60 * 1000;

/** The server reads at most 16 KB of PEM (docs/consumers.md); a larger file is refused here first. */
export const MAX_PEM_BYTES = 16 * 1024;

/** The first and last 8 hex digits of a SHA-256 fingerprint, enough to tell certificates apart on screen. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.length <= 20 ? fingerprint : `${fingerprint.slice(0, 8)}…${fingerprint.slice(-8)}`;
}

export interface Validity {
  label: string;
  tone: "expired" | "soon" | "valid";
}

/** "Expired", "Expires today", "Expires in 1 day" or "Expires in N days" (whole days left, rounded
 * down); within 30 days (when reminders start) the certificate is due soon. */
export function validity(notAfter: string, now: Date = new Date()): Validity {
  const left = new Date(notAfter).getTime() - now.getTime();
  if (left <= 0) return { label: "Expired", tone: "expired" };
  const days = Math.floor(left / DAY_MS);
  const label = days === 0 ? "Expires today" : `Expires in ${days} ${days === 1 ? "day" : "days"}`;
  return { label, tone: days < 30 ? "soon" : "valid" };
}

/** Why pasted or chosen text cannot be sent, or null. The server judges the rest, so a pasted
 * private key gets its warning rather than a generic "not a certificate". */
export function pemProblem(pem: string): string | null {
  if (!pem.trim()) return "Paste a certificate in PEM or choose a .pem file.";
  if (new Blob([pem]).size > MAX_PEM_BYTES) return "The certificate is larger than 16 KB, the most the server reads.";
  return null;
}
