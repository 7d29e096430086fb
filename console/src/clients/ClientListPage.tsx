import { ActionIcon, Anchor, Button, Group, Menu, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { Link } from "react-router";
import { useQuery } from "urql";
import { Guarded } from "../core/Guarded";
import { Pager } from "../core/Pager";
import { usePaging } from "../core/paging";
import { useReload } from "../core/reload";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import type { ClientFieldsFragment } from "../gql/graphql";
import { ClientFormModal } from "./ClientFormModal";
import { ActiveModal, DeleteClientModal } from "./ClientModals";
import { ClientListDocument } from "./documents";
import { ActiveBadge, ClientLogo } from "./parts";

const PAGE_SIZE = 25;

type Row = ClientFieldsFragment & { accessProfiles: { totalCount: number } };
type Dialog = { kind: "create" } | { kind: "active"; client: Row } | { kind: "delete"; client: Row };

/** Clients: the consumer organisations, with their logo, state and number of apps. */
export function ClientListPage() {
  const allowed = usePermission("getClient");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Clients</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <ClientList />;
}

function ClientRow({ client, base, onDialog }: { client: Row; base: string; onDialog: (dialog: Dialog) => void }) {
  const manage = usePermission("manageClients");
  return (
    <Table.Tr>
      <Table.Td w={56}>
        <ClientLogo name={client.name} logoUrl={client.logoUrl} />
      </Table.Td>
      <Table.Td>
        <Anchor component={Link} to={`${base}/clients/${client.id}`} fw={500}>
          {client.name}
        </Anchor>
      </Table.Td>
      <Table.Td maw={280}>
        <Text size="sm" lineClamp={2}>
          {client.description}
        </Text>
      </Table.Td>
      <Table.Td>
        <ActiveBadge active={client.active} />
      </Table.Td>
      <Table.Td>{client.accessProfiles.totalCount}</Table.Td>
      <Table.Td ta="right">
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${client.name}`}>
              ⋯
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item component={Link} to={`${base}/clients/${client.id}`}>
              View apps
            </Menu.Item>
            <Menu.Item disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "active", client })}>
              {client.active ? "Deactivate" : "Activate"}
            </Menu.Item>
            <Menu.Item color="red" disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "delete", client })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function ClientTable({ clients, base, onDialog }: { clients: Row[]; base: string; onDialog: (dialog: Dialog) => void }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table highlightOnHover aria-label="Clients" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Logo</Table.Th>
            <Table.Th>Name</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Apps</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {clients.map((client) => (
            <ClientRow key={client.id} client={client} base={base} onDialog={onDialog} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** The list's dialogs; `done` closes the one open, says what happened and reloads the list. */
function ClientListDialogs({ dialog, onClose, done }: { dialog: Dialog | null; onClose: () => void; done: (message: string) => void }) {
  if (dialog?.kind === "create") {
    return <ClientFormModal client={null} members={[]} onClose={onClose} onSaved={(client) => done(`${client.name} created.`)} />;
  }
  if (dialog?.kind === "active") {
    const { name } = dialog.client;
    return <ActiveModal client={dialog.client} onClose={onClose} onDone={(active) => done(`${name} is ${active ? "active" : "inactive"}.`)} />;
  }
  if (dialog?.kind === "delete") {
    const { client } = dialog;
    return <DeleteClientModal client={client} apps={client.accessProfiles.totalCount} onClose={onClose} onDeleted={() => done(`${client.name} deleted.`)} />;
  }
  return null;
}

function ClientList() {
  const { membership } = useWorkspace();
  const base = `/workspaces/${membership.workspace.id}`;
  const [search, setSearch] = useState("");
  const [term] = useDebouncedValue(search, 250);
  const paging = usePaging();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ClientListDocument,
    variables: { workspaceId: membership.workspace.id, first: PAGE_SIZE, after: paging.after, filter: { search: term || null } },
  });
  const reload = useReload(fetching, refetch);
  const clients = data?.workspace.clients;
  const done = (message: string) => {
    setDialog(null);
    notifications.show({ color: "green", message });
    reload();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Clients</Title>
        <Guarded permission="manageClients">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setDialog({ kind: "create" })}>
              New client
            </Button>
          )}
        </Guarded>
      </Group>
      <TextInput
        label="Search"
        placeholder="Name or description"
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          paging.reset();
        }}
        maw={320}
      />
      {error && <QueryError error={error} />}
      {!clients && fetching && <Loading />}
      {clients && clients.totalCount === 0 && (
        <Empty title="No clients">{term ? "Try another search." : "Register the organisations that call your APIs."}</Empty>
      )}
      {clients && clients.totalCount > 0 && (
        <>
          <ClientTable clients={clients.edges.map((e) => e.node)} base={base} onDialog={setDialog} />
          <Pager total={clients.totalCount} noun="clients" paging={paging} pageInfo={clients.pageInfo} />
        </>
      )}
      <ClientListDialogs dialog={dialog} onClose={() => setDialog(null)} done={done} />
    </Stack>
  );
}
