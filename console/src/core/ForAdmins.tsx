import { Anchor } from "@mantine/core";
import type { ReactElement } from "react";
import { Link } from "react-router";
import { isConsumer } from "./audience";
import { Empty } from "./states";
import { useWorkspace } from "./workspace";

/** An admin screen: a consumer reaching its address (a link, a bookmark) is told it is not for
 * them, and nothing of it loads. */
export function ForAdmins({ children }: { children: ReactElement }) {
  const { membership } = useWorkspace();
  if (!isConsumer(membership.permissions)) return children;
  return (
    <Empty title="Not available">
      This page is for the workspace&apos;s administrators. Go to the{" "}
      <Anchor component={Link} to={`/workspaces/${membership.workspace.id}/portal`}>
        API catalogue
      </Anchor>
      .
    </Empty>
  );
}
