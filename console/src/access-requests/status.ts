// How a request's status and decision read in the console.
import type { AccessRequestFieldsFragment, AccessRequestStatus } from "../gql/graphql";

export type StatusChoice = AccessRequestStatus | "ALL";

export const STATUS_LABELS: Record<AccessRequestStatus, string> = {
  PENDING: "Pending",
  APPROVED: "Approved",
  REJECTED: "Rejected",
  CANCELLED: "Cancelled",
};

export const STATUS_CHOICES: { value: StatusChoice; label: string }[] = [
  { value: "ALL", label: "All" },
  ...(Object.keys(STATUS_LABELS) as AccessRequestStatus[]).map((value) => ({ value, label: STATUS_LABELS[value] })),
];

/** The server's filter for a choice of the status select. */
export function toStatusFilter(choice: StatusChoice): { status: AccessRequestStatus } | null {
  return choice === "ALL" ? null : { status: choice };
}

type Decided = Pick<AccessRequestFieldsFragment, "status" | "decidedBy" | "reason">;

/** Who decided and why, in one line: "Rejected by Ana: no budget", "Approved by auto-approve (plan Free)". */
export function decisionSummary(request: Decided): string {
  if (request.status === "PENDING") return "Waiting for a decision";
  const by = request.decidedBy ? ` by ${request.decidedBy}` : "";
  const reason = request.reason.trim() ? `: ${request.reason.trim()}` : "";
  return `${STATUS_LABELS[request.status]}${by}${reason}`;
}

/** A rejection needs a reason the requester can read; blanks are not one. */
export function canReject(reason: string): boolean {
  return reason.trim().length > 0;
}
