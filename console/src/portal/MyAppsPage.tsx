import { Button, Group, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useQuery } from "urql";
import { RefreshTokenModal } from "../clients/ProfileModals";
import { Empty, Loading, QueryError } from "../core/states";
import { UsagePanel, UsageRangeControl, useKept, useUsageWindow } from "../core/UsagePanel";
import type { UsageWindow } from "../core/usage";
import { useWorkspace } from "../core/workspace";
import type { MyAppsQuery, PortalAppFieldsFragment } from "../gql/graphql";
import { AUTH_METHOD_LABELS } from "./cart";
import { MyAppsDocument } from "./documents";
import { PortalPage } from "./parts";

type MyAppsClient = MyAppsQuery["workspace"]["clients"]["edges"][number]["node"];

function AppRow({ app, onRefresh }: { app: PortalAppFieldsFragment; onRefresh: () => void }) {
  return (
    <Table.Tr>
      <Table.Td>
        <Text fw={500} size="sm">
          {app.name}
        </Text>
        <Text size="xs" c="dimmed">
          {AUTH_METHOD_LABELS[app.authMethod]}
        </Text>
      </Table.Td>
      <Table.Td>{app.products.map((p) => p.name).join(", ") || "None yet"}</Table.Td>
      <Table.Td>{app.plan?.name ?? "None yet"}</Table.Td>
      <Table.Td style={{ wordBreak: "break-word" }}>{app.allowedIps.join(", ") || "Any address"}</Table.Td>
      <Table.Td>{app.tokenHint ? `…${app.tokenHint}` : "—"}</Table.Td>
      <Table.Td ta="right">
        {app.authMethod === "AUTH_TOKEN" && (
          <Button size="xs" variant="default" aria-label={`Refresh token of ${app.name}`} onClick={onRefresh}>
            Refresh token
          </Button>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

function ClientUsage({ client, window }: { client: MyAppsClient; window: UsageWindow }) {
  return (
    <Stack gap="xs">
      {client.accessProfiles.edges.map(({ node }) => (
        <UsagePanel key={node.id} name={node.name} series={node.usageSeries} window={window} />
      ))}
    </Stack>
  );
}

function ClientApps({ client, onRefresh }: { client: MyAppsClient; onRefresh: (app: PortalAppFieldsFragment) => void }) {
  const apps = client.accessProfiles.edges.map((edge) => edge.node);
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {client.name}
        {client.active ? "" : " (deactivated: its apps are refused)"}
      </Title>
      {apps.length === 0 ? (
        <Text size="sm" c="dimmed">
          No app yet: submit a cart for a new one.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table aria-label={`Apps of ${client.name}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>App</Table.Th>
                <Table.Th>Products</Table.Th>
                <Table.Th>Plan</Table.Th>
                <Table.Th>Allowed IPs</Table.Th>
                <Table.Th>Token</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {apps.map((app) => (
                <AppRow key={app.id} app={app} onRefresh={() => onRefresh(app)} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

/**
 * My apps: the apps of the consumer's clients, their products, plan, allowed IPs and token, and
 * each app's calls over the picked range.
 */
export function MyAppsPage() {
  const { membership } = useWorkspace();
  const usage = useUsageWindow();
  const [result] = useQuery({ query: MyAppsDocument, variables: { workspaceId: membership.workspace.id, ...usage.window } });
  const { error, fetching } = result;
  const data = useKept(result.data);
  const [refreshing, setRefreshing] = useState<PortalAppFieldsFragment | null>(null);
  const clients = data?.workspace.clients.edges.map((edge) => edge.node) ?? [];
  const apps = clients.flatMap((client) => client.accessProfiles.edges);
  return (
    <PortalPage title="My apps">
      {error && <QueryError error={error} />}
      {fetching && !data && <Loading />}
      {data && clients.length === 0 && <Empty title="You belong to no client yet">Ask the API owners to add you to your organisation&apos;s client.</Empty>}
      {clients.map((client) => (
        <ClientApps key={client.id} client={client} onRefresh={setRefreshing} />
      ))}
      {apps.length > 0 && (
        <Stack gap="xs" component="section" aria-labelledby="usage-title">
          <Group justify="space-between">
            <Title order={3} size="h4" id="usage-title">
              Usage
            </Title>
            <UsageRangeControl range={usage.range} onChange={usage.setRange} />
          </Group>
          {clients.map((client) => (
            <ClientUsage key={client.id} client={client} window={usage.window} />
          ))}
        </Stack>
      )}
      {refreshing && <RefreshTokenModal profile={refreshing} onClose={() => setRefreshing(null)} onRefreshed={() => undefined} />}
    </PortalPage>
  );
}
