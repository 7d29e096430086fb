import { AppShell, Burger, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { NavLink as RouterLink, Navigate, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { useQuery } from "urql";
import { SECTIONS } from "../routes";
import { isConsumer, landingSection } from "./audience";
import { signOut } from "./session";
import { Empty, Loading, QueryError } from "./states";
import { useWorkspace, ViewerDocument, WorkspaceContext, type Membership } from "./workspace";

function useViewer() {
  // Asked once per session: screens then open with their own single request.
  return useQuery({ query: ViewerDocument, requestPolicy: "cache-first" });
}

/** The navigation's sections for a role: a consumer's are the portal's only. */
function sectionsFor(membership: Membership) {
  const consumer = isConsumer(membership.permissions);
  if (consumer) return SECTIONS.filter((s) => s.audience === "consumer");
  return SECTIONS.filter((s) => !s.audience && (!s.permission || membership.permissions.includes(s.permission)));
}

/** A workspace's first screen: the catalogue for consumers, API access for the others. */
export function Landing() {
  const { membership } = useWorkspace();
  return <Navigate to={landingSection(membership.permissions)} replace />;
}

/** `/`: the first workspace's first screen. */
export function Home() {
  const [{ data, error, fetching }] = useViewer();
  if (error) return <QueryError error={error} />;
  if (fetching || !data) return <Loading />;
  const first = data.viewer.memberships[0];
  if (!first) {
    return (
      <Empty title="You belong to no workspace yet">
        Ask a workspace admin to add you, then sign in again.
      </Empty>
    );
  }
  return <Navigate to={`/workspaces/${first.workspace.id}/${landingSection(first.permissions)}`} replace />;
}

function WorkspaceSwitcher({ current, memberships }: { current: Membership; memberships: Membership[] }) {
  const navigate = useNavigate();
  const location = useLocation();
  if (memberships.length < 2) {
    return <Text fw={500}>{current.workspace.name}</Text>;
  }
  return (
    <Select
      aria-label="Workspace"
      data={memberships.map((m) => ({ value: m.workspace.id, label: m.workspace.name }))}
      value={current.workspace.id}
      allowDeselect={false}
      onChange={(id) => {
        if (!id) return;
        // The same section in the other workspace (an item's page would not exist there).
        const section = location.pathname.split("/")[3] ?? "";
        // A consumer there has the portal only: another section would be Not available.
        const target = memberships.find((m) => m.workspace.id === id);
        const consumer = target !== undefined && isConsumer(target.permissions);
        navigate(`/workspaces/${id}/${consumer && section !== "portal" ? "" : section}`);
      }}
      w={220}
    />
  );
}

export function Shell() {
  const { workspaceId } = useParams();
  const [{ data, error, fetching }] = useViewer();
  const [opened, { toggle, close }] = useDisclosure();
  if (error) return <QueryError error={error} />;
  if (fetching || !data) return <Loading />;
  const memberships = data.viewer.memberships;
  const membership = memberships.find((m) => m.workspace.id === workspaceId);
  if (!membership) {
    return <Empty title="Workspace not found">You are not a member of this workspace.</Empty>;
  }
  const base = `/workspaces/${membership.workspace.id}`;
  return (
    <WorkspaceContext.Provider value={{ viewerName: data.viewer.name, membership, memberships }}>
      <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
              <Title order={1} size="h4">
                AccessPlane
              </Title>
              <WorkspaceSwitcher current={membership} memberships={memberships} />
            </Group>
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" c="dimmed" visibleFrom="sm">
                {data.viewer.name} · {membership.roleName}
              </Text>
              <Button
                variant="default"
                size="xs"
                onClick={async () => {
                  await signOut();
                  // A full load: nothing of this session (cached data) stays in memory.
                  window.location.assign("/sign-in");
                }}
              >
                Sign out
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label="Sections">
          {sectionsFor(membership).map((section) => (
            <NavLink
              key={section.label}
              component={RouterLink}
              to={`${base}/${section.path}`}
              end={section.end}
              label={section.label}
              onClick={close}
              variant="filled"
            />
          ))}
          {!isConsumer(membership.permissions) && <NavLink component="a" href="/graphql" label="GraphiQL" />}
        </AppShell.Navbar>
        <AppShell.Main>
          {/* Keyed by workspace: a screen's search, page and dialogs belong to the workspace they were made in. */}
          <Outlet key={membership.workspace.id} />
        </AppShell.Main>
      </AppShell>
    </WorkspaceContext.Provider>
  );
}
