import { Badge } from "@mantine/core";
import type { AccessRequestStatus } from "../gql/graphql";
import { STATUS_LABELS } from "./status";

// Darker than Mantine's defaults, for white text above 4.5:1.
const COLORS: Record<AccessRequestStatus, string> = {
  PENDING: "#7a4a00",
  APPROVED: "#1b5e20",
  REJECTED: "#a61b1b",
  CANCELLED: "#495057",
};

export function RequestStatusBadge({ status }: { status: AccessRequestStatus }) {
  return (
    <Badge color={COLORS[status]} variant="filled" tt="none" style={{ flexShrink: 0 }}>
      {STATUS_LABELS[status]}
    </Badge>
  );
}
