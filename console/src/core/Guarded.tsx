import { Tooltip } from "@mantine/core";
import type { ReactElement } from "react";
import { usePermission } from "./workspace";

/**
 * Renders a control enabled when the viewer holds `permission`, else disabled with the reason
 * on hover; `child` receives whether it is disabled.
 */
export function Guarded({
  permission,
  children,
}: {
  permission: string;
  children: (disabled: boolean) => ReactElement;
}) {
  const { allowed, reason } = usePermission(permission);
  if (allowed) return children(false);
  return (
    <Tooltip label={reason} withArrow>
      <span style={{ display: "inline-block" }}>{children(true)}</span>
    </Tooltip>
  );
}
