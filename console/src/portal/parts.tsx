import { Anchor, Badge, Group, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { isConsumer } from "../core/audience";
import { useWorkspace } from "../core/workspace";
import type { AuthMethod } from "../gql/graphql";
import { AUTH_METHOD_LABELS } from "./cart";
import { useCart } from "./store";

/** The portal's path of a screen in the current workspace. */
export function usePortalPath(): (path?: string) => string {
  const { membership } = useWorkspace();
  return (path = "") => `/workspaces/${membership.workspace.id}/portal${path ? `/${path}` : ""}`;
}

/** Admins reach the portal through one navigation link; its screens link to each other here.
 * Consumers have them in the navigation already. */
function PortalLinks() {
  const { membership } = useWorkspace();
  const [cart] = useCart(membership.workspace.id);
  const path = usePortalPath();
  if (isConsumer(membership.permissions)) return null;
  return (
    <Group gap="md" component="nav" aria-label="Developer portal">
      <Anchor component={Link} to={path()} size="sm">
        Catalogue
      </Anchor>
      <Anchor component={Link} to={path("cart")} size="sm">
        Cart ({cart.length})
      </Anchor>
      <Anchor component={Link} to={path("apps")} size="sm">
        My apps
      </Anchor>
      <Anchor component={Link} to={path("requests")} size="sm">
        My requests
      </Anchor>
    </Group>
  );
}

/** A portal screen: its heading, the admins' links between portal screens, its content. */
export function PortalPage({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <Stack>
      <PortalLinks />
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{title}</Title>
        {actions}
      </Group>
      {children}
    </Stack>
  );
}

export function AuthMethodBadge({ method }: { method: AuthMethod }) {
  return (
    <Badge variant="outline" color="dark" tt="none">
      {AUTH_METHOD_LABELS[method]}
    </Badge>
  );
}
