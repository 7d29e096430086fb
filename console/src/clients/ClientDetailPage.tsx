import { ActionIcon, Anchor, Button, Code, Group, Menu, Paper, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { UsagePanel, UsageRangeControl, useKept, useUsageWindow } from "../core/UsagePanel";
import { usePermission, useWorkspace } from "../core/workspace";
import type { AccessProfileFieldsFragment, ClientFieldsFragment } from "../gql/graphql";
import { memberLabel } from "../members/labels";
import { CertificatesPanel } from "./CertificatesPanel";
import { ClientFormModal, type MemberOption } from "./ClientFormModal";
import { ActiveModal, DeleteClientModal } from "./ClientModals";
import { CreateProfileWizard } from "./CreateProfileWizard";
import { ClientDetailDocument } from "./documents";
import { ActiveBadge, ClientLogo } from "./parts";
import { DeleteProfileModal, EditProfileModal, RefreshTokenModal } from "./ProfileModals";

type Dialog =
  | { kind: "edit" | "active" | "delete" | "create-profile" }
  | { kind: "edit-profile" | "refresh" | "delete-profile"; profile: AccessProfileFieldsFragment };

/** An auth token app's token hint, an MTLS app's certificate count, a token app's binding. */
function credentialCell(profile: AccessProfileFieldsFragment) {
  if (profile.tokenHint) return <Code>…{profile.tokenHint}</Code>;
  if (profile.authMethod === "MTLS") return `${profile.certificates.length} ${profile.certificates.length === 1 ? "certificate" : "certificates"}`;
  return profile.certificateBoundTokens ? "Certificate-bound" : "—";
}

function ProfileRow({ profile, onDialog }: { profile: AccessProfileFieldsFragment; onDialog: (dialog: Dialog) => void }) {
  const manage = usePermission("manageClients");
  const reason = manage.reason || undefined;
  return (
    <Table.Tr>
      <Table.Td fw={500}>{profile.name}</Table.Td>
      <Table.Td>{profile.authMethod}</Table.Td>
      <Table.Td>{profile.products.map((p) => p.name).join(", ") || <Text c="dimmed">None</Text>}</Table.Td>
      <Table.Td>{profile.plan?.name ?? <Text c="dimmed">None</Text>}</Table.Td>
      <Table.Td maw={220}>
        <Text size="sm" style={{ wordBreak: "break-word" }}>
          {profile.allowedIps.join(", ") || "Any"}
        </Text>
      </Table.Td>
      <Table.Td>{credentialCell(profile)}</Table.Td>
      <Table.Td>
        <DateTime value={profile.createdAt} />
      </Table.Td>
      <Table.Td ta="right">
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${profile.name}`}>
              ⋯
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item disabled={!manage.allowed} title={reason} onClick={() => onDialog({ kind: "edit-profile", profile })}>
              Edit
            </Menu.Item>
            {profile.authMethod === "AUTH_TOKEN" && (
              <Menu.Item disabled={!manage.allowed} title={reason} onClick={() => onDialog({ kind: "refresh", profile })}>
                Refresh token
              </Menu.Item>
            )}
            <Menu.Item color="red" disabled={!manage.allowed} title={reason} onClick={() => onDialog({ kind: "delete-profile", profile })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function ProfileTable({ profiles, onDialog }: { profiles: AccessProfileFieldsFragment[]; onDialog: (dialog: Dialog) => void }) {
  if (!profiles.length) return <Empty title="No access profiles yet">Create one for each app of this client.</Empty>;
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table aria-label="Access profiles" verticalSpacing="xs" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Method</Table.Th>
            <Table.Th>Products</Table.Th>
            <Table.Th>Plan</Table.Th>
            <Table.Th>Allowed IPs</Table.Th>
            <Table.Th>Credential</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {profiles.map((profile) => (
            <ProfileRow key={profile.id} profile={profile} onDialog={onDialog} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** A client's page: its details and members, and its apps (access profiles) with their actions. */
export function ClientDetailPage() {
  const allowed = usePermission("getClient");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Client</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <ClientDetail />;
}

type Detail = ClientFieldsFragment & { accessProfiles: { totalCount: number } };

function ClientHeader({ client, onDialog }: { client: Detail; onDialog: (dialog: Dialog) => void }) {
  return (
    <Group justify="space-between" align="flex-start">
      <Group>
        <ClientLogo name={client.name} logoUrl={client.logoUrl} size="lg" />
        <Stack gap={2}>
          <Group gap="xs">
            <Title order={2}>{client.name}</Title>
            <ActiveBadge active={client.active} />
          </Group>
          {client.description && <Text c="dimmed">{client.description}</Text>}
        </Stack>
      </Group>
      <Guarded permission="manageClients">
        {(disabled) => (
          <Group gap="xs">
            <Button variant="default" disabled={disabled} onClick={() => onDialog({ kind: "edit" })}>
              Edit
            </Button>
            <Button variant="default" disabled={disabled} onClick={() => onDialog({ kind: "active" })}>
              {client.active ? "Deactivate" : "Activate"}
            </Button>
            <Button color="red" disabled={disabled} onClick={() => onDialog({ kind: "delete" })}>
              Delete
            </Button>
          </Group>
        )}
      </Guarded>
    </Group>
  );
}

/** The page's dialogs; `done` closes the one open, says what happened and reloads the page. */
function DetailDialogs({
  client,
  members,
  membersTotal,
  dialog,
  onClose,
  done,
  reload,
}: {
  client: Detail;
  members: MemberOption[];
  membersTotal: number;
  dialog: Dialog | null;
  onClose: () => void;
  done: (message: string) => void;
  reload: () => void;
}) {
  const navigate = useNavigate();
  const { membership } = useWorkspace();
  switch (dialog?.kind) {
    case "edit":
      return <ClientFormModal client={client} members={members} membersTotal={membersTotal} onClose={onClose} onSaved={(saved) => done(`${saved.name} saved.`)} />;
    case "active":
      return <ActiveModal client={client} onClose={onClose} onDone={(active) => done(`${client.name} is ${active ? "active" : "inactive"}.`)} />;
    case "delete":
      return (
        <DeleteClientModal
          client={client}
          apps={client.accessProfiles.totalCount}
          onClose={onClose}
          onDeleted={() => {
            notifications.show({ color: "green", message: `${client.name} deleted.` });
            void navigate(`/workspaces/${membership.workspace.id}/clients`);
          }}
        />
      );
    case "create-profile":
      return <CreateProfileWizard client={client} onClose={onClose} onCreated={reload} />;
    case "edit-profile":
      return <EditProfileModal profile={dialog.profile} onClose={onClose} onSaved={() => done(`${dialog.profile.name} saved.`)} />;
    case "refresh":
      return <RefreshTokenModal profile={dialog.profile} onClose={onClose} onRefreshed={reload} />;
    case "delete-profile":
      return <DeleteProfileModal profile={dialog.profile} onClose={onClose} onDeleted={() => done(`${dialog.profile.name} deleted.`)} />;
    default:
      return null;
  }
}

function ClientDetail() {
  const { clientId = "" } = useParams();
  const { membership } = useWorkspace();
  const base = `/workspaces/${membership.workspace.id}/clients`;
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const usage = useUsageWindow();
  const [result, refetch] = useQuery({ query: ClientDetailDocument, variables: { id: clientId, ...usage.window } });
  const { error, fetching } = result;
  const data = useKept(result.data);
  const client = data?.node.__typename === "Client" ? data.node : null;
  if (!client) {
    if (error) return <QueryError error={error} />;
    if (fetching) return <Loading />;
    return (
      <Empty title="Client not found">
        <Anchor component={Link} to={base}>
          Show all clients
        </Anchor>
      </Empty>
    );
  }
  const members = client.members.edges.map(({ node }) => ({ id: node.id, label: memberLabel(node.user) }));
  const reload = () => refetch({ requestPolicy: "network-only" });
  const done = (message: string) => {
    setDialog(null);
    notifications.show({ color: "green", message });
    reload();
  };

  return (
    <Stack>
      <Anchor component={Link} to={base} size="sm">
        ← Clients
      </Anchor>
      <ClientHeader client={client} onDialog={setDialog} />
      <Paper withBorder p="sm" component="section" aria-label="Members">
        <Text fw={600} size="sm">
          Members ({client.members.totalCount})
        </Text>
        <Text size="sm">{members.map((m) => m.label).join(", ") || "None: add the people who request access for its apps."}</Text>
      </Paper>
      <Group justify="space-between">
        <Title order={3}>Access profiles ({client.accessProfiles.totalCount})</Title>
        <Guarded permission="manageClients">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setDialog({ kind: "create-profile" })}>
              Create new access profile
            </Button>
          )}
        </Guarded>
      </Group>
      <ProfileTable profiles={client.accessProfiles.edges.map((e) => e.node)} onDialog={setDialog} />
      {client.accessProfiles.edges
        .filter(({ node }) => node.authMethod === "MTLS")
        .map(({ node }) => (
          <CertificatesPanel key={node.id} profile={node} done={done} />
        ))}
      {client.accessProfiles.edges.length > 0 && (
        <Stack gap="xs" component="section" aria-labelledby="usage-title">
          <Group justify="space-between">
            <Title order={3} id="usage-title">
              Usage
            </Title>
            <UsageRangeControl range={usage.range} onChange={usage.setRange} />
          </Group>
          {client.accessProfiles.edges.map(({ node }) => (
            <UsagePanel key={node.id} name={node.name} series={node.usageSeries} window={usage.window} />
          ))}
        </Stack>
      )}
      <DetailDialogs client={client} members={members} membersTotal={client.members.totalCount} dialog={dialog} onClose={() => setDialog(null)} done={done} reload={reload} />
    </Stack>
  );
}
