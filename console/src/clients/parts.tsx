import { Avatar, Badge } from "@mantine/core";
import type { UserErrorLike } from "../core/errors";
import { byField, describeFailure } from "../core/errors";
import type { CombinedError } from "urql";

/** The client's logo when this server holds it; the page's policy blocks images from elsewhere. */
export function ClientLogo({ name, logoUrl, size = "md" }: { name: string; logoUrl: string | null | undefined; size?: string }) {
  const served = logoUrl?.startsWith("/") ? logoUrl : null;
  // One dark colour for the initials: a colour picked from the name failed contrast for some names.
  return <Avatar src={served} alt={`Logo of ${name}`} name={name} color="#495057" variant="filled" size={size} radius="sm" />;
}

export function ActiveBadge({ active }: { active: boolean }) {
  return (
    // Darker than Mantine's defaults, for white text above 4.5:1.
    <Badge color={active ? "#1b5e20" : "#495057"} variant="filled" tt="none" style={{ flexShrink: 0 }}>
      {active ? "Active" : "Inactive"}
    </Badge>
  );
}

/** A mutation's outcome as errors by field ("" for the form), or null when it succeeded. */
export function mutationErrors(
  payload: { userErrors: readonly UserErrorLike[] } | null | undefined,
  error: CombinedError | undefined,
): Record<string, string> | null {
  if (!payload) return { "": describeFailure(error) };
  if (payload.userErrors.length) return byField(payload.userErrors);
  return null;
}

/** The errors in one line, for a dialog without fields. */
export function oneLine(errors: Record<string, string> | null): string | null {
  return errors ? Object.values(errors).join(" ") : null;
}
