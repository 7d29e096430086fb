import {
  ActionIcon,
  Anchor,
  Button,
  Checkbox,
  Code,
  Group,
  Menu,
  MultiSelect,
  Paper,
  Select,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { graphql } from "../gql";
import { Guarded } from "../core/Guarded";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import type { ApiAccessFieldsFragment, ApiAccessOrderField } from "../gql/graphql";
import { ApiAccessDetail } from "./ApiAccessDetail";
import { ApiAccessFormModal } from "./ApiAccessFormModal";
import { DeleteModal } from "./DeleteModal";
import { namePatternOf } from "./namePattern";
import { ApiAccessListDocument } from "./documents";
import { NO_FILTER, isFiltered, toApiFilter, type KeyFilterState, type StatusChoice } from "./filters";
import { StatusBadge, TagList } from "./parts";
import { RegenerateModal } from "./RegenerateModal";
import { TokenOnce } from "./TokenOnce";

export const PAGE_SIZE = 25;

// The key a link names (keys/:apiAccessId, e.g. from an expiry reminder), wherever it falls
// in the table's pages and filters.
const LinkedApiAccessDocument = graphql(`
  query LinkedApiAccess($id: ID!, $withRoles: Boolean!) {
    node(id: $id) {
      __typename
      id
      ... on ApiAccess {
        ...ApiAccessFields
      }
    }
  }
`);

type Dialog =
  | { kind: "create" }
  | { kind: "edit"; key: ApiAccessFieldsFragment }
  | { kind: "regenerate"; key: ApiAccessFieldsFragment }
  | { kind: "delete"; keys: { id: string; name: string }[] };

interface ShownToken {
  title: string;
  name: string;
  token: string;
}

const STATUS_CHOICES = [
  { value: "ALL", label: "All" },
  { value: "ACTIVE", label: "Active" },
  { value: "EXPIRED", label: "Expired" },
];

const ORDER_CHOICES = [
  { value: "NAME", label: "Access Name" },
  { value: "EXPIRES_AT", label: "Expiration Date" },
  { value: "CREATED_AT", label: "Created" },
];

/** API Access keys: the table with its filter panel, bulk delete, the detail panel and forms. */
export function ApiAccessListPage() {
  const allowed = usePermission("getApiAccess");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>API Access keys</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <ApiAccessList />;
}

function ApiAccessList() {
  const { membership } = useWorkspace();
  const getRole = usePermission("getRole");
  const deleteAllowed = usePermission("deleteApiAccess").allowed;
  const [filter, setFilter] = useState<KeyFilterState>(NO_FILTER);
  const [order, setOrder] = useState<ApiAccessOrderField>("NAME");
  const [debouncedSearch] = useDebouncedValue(filter.search, 250);
  const paging = usePaging();
  const [selected, setSelected] = useState<string[]>([]);
  const { apiAccessId } = useParams();
  const navigate = useNavigate();
  const [detailId, setDetailId] = useState<string | null>(apiAccessId ?? null);
  const [shownLink, setShownLink] = useState(apiAccessId);
  if (apiAccessId !== shownLink) {
    // Another key's link while the screen is open: its panel replaces the current one.
    setShownLink(apiAccessId);
    if (apiAccessId) setDetailId(apiAccessId);
  }
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [shownToken, setShownToken] = useState<ShownToken | null>(null);

  const [{ data, error, fetching }, refetch] = useQuery({
    query: ApiAccessListDocument,
    variables: {
      workspaceId: membership.workspace.id,
      first: PAGE_SIZE,
      after: paging.after,
      filter: toApiFilter({ ...filter, search: debouncedSearch }),
      orderBy: { field: order, descending: false },
      withRoles: getRole.allowed,
    },
  });
  const [linked, refetchLinked] = useQuery({
    query: LinkedApiAccessDocument,
    variables: { id: apiAccessId ?? "", withRoles: getRole.allowed },
    pause: !apiAccessId,
  });
  const linkedKey = linked.data?.node.__typename === "ApiAccess" ? linked.data.node : null;
  const workspace = data?.workspace;
  const keys = useMemo(() => workspace?.apiAccesses.edges.map((edge) => edge.node) ?? [], [workspace]);
  const roles = (workspace?.roles?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }));
  const knownTags = [...new Set(keys.flatMap((key) => key.tags))].sort();
  const detail =
    keys.find((key) => key.id === detailId) ?? (linkedKey && linkedKey.id === detailId ? linkedKey : null);
  const namePattern = namePatternOf(
    data?.viewer.memberships.find((m) => m.workspace.id === membership.workspace.id)?.permissionConstraints,
  );
  const pageIds = keys.map((key) => key.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selected.includes(id));

  const reload = () => {
    refetch({ requestPolicy: "network-only" });
    if (apiAccessId) refetchLinked({ requestPolicy: "network-only" });
  };
  const closeDetail = () => {
    setDetailId(null);
    // The link has served: the address becomes the screen's own again.
    if (apiAccessId) void navigate(`/workspaces/${membership.workspace.id}/keys`, { replace: true });
  };
  const changeFilter = (patch: Partial<KeyFilterState>) => {
    setFilter((current) => ({ ...current, ...patch }));
    setSelected([]);
    paging.reset();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>API Access keys</Title>
        <Guarded permission="createApiAccess">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setDialog({ kind: "create" })}>
              Create API Access
            </Button>
          )}
        </Guarded>
      </Group>

      {shownToken && (
        <TokenOnce
          title={shownToken.title}
          name={shownToken.name}
          token={shownToken.token}
          onHide={() => setShownToken(null)}
        />
      )}

      <Paper withBorder p="sm" component="section" aria-label="Filters">
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Name or description"
            value={filter.search}
            onChange={(event) => changeFilter({ search: event.currentTarget.value })}
            w={200}
          />
          <Select
            label="Status"
            data={STATUS_CHOICES}
            value={filter.status}
            allowDeselect={false}
            onChange={(value) => changeFilter({ status: (value ?? "ALL") as StatusChoice })}
            w={120}
          />
          <MultiSelect
            label="Role"
            placeholder={getRole.allowed ? "Any role" : "Not available"}
            description={getRole.allowed ? undefined : getRole.reason}
            data={roles}
            value={filter.roleIds}
            onChange={(roleIds) => changeFilter({ roleIds })}
            disabled={!getRole.allowed}
            searchable
            clearable
            w={200}
          />
          <TagsInput
            label="Tags"
            placeholder="Filter by tag"
            data={knownTags}
            value={filter.tags}
            onChange={(tags) => changeFilter({ tags })}
            clearable
            clearButtonProps={{ "aria-label": "Clear tags" }}
            w={200}
          />
          <Select
            label="Sort by"
            data={ORDER_CHOICES}
            value={order}
            allowDeselect={false}
            onChange={(value) => {
              setOrder((value ?? "NAME") as ApiAccessOrderField);
              paging.reset();
            }}
            w={160}
          />
          {isFiltered(filter) && (
            <Button variant="subtle" onClick={() => changeFilter(NO_FILTER)}>
              Clear filters
            </Button>
          )}
        </Group>
      </Paper>

      {selected.length > 0 && (
        <Group>
          <Text size="sm">{selected.length} selected</Text>
          <Guarded permission="deleteApiAccess">
            {(disabled) => (
              <Button
                color="red"
                size="xs"
                disabled={disabled}
                onClick={() =>
                  setDialog({
                    kind: "delete",
                    keys: keys.filter((key) => selected.includes(key.id)).map(({ id, name }) => ({ id, name })),
                  })
                }
              >
                Delete selected
              </Button>
            )}
          </Guarded>
          <Button variant="subtle" size="xs" onClick={() => setSelected([])}>
            Clear selection
          </Button>
        </Group>
      )}

      {error && <QueryError error={error} />}
      {linked.error && apiAccessId && detailId === apiAccessId && <QueryError error={linked.error} />}
      {!workspace && fetching && <Loading />}
      {workspace && workspace.apiAccesses.totalCount === 0 && (
        <Empty title="No API Access keys match">
          {isFiltered(filter) ? "Try other filters." : "Create a key for a script or a CI job."}
        </Empty>
      )}
      {workspace && workspace.apiAccesses.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={980}>
            <Table highlightOnHover aria-label="API Access keys" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <Checkbox
                      aria-label="Select all keys on this page"
                      checked={allOnPage}
                      indeterminate={!allOnPage && selected.length > 0}
                      disabled={!deleteAllowed}
                      onChange={() => setSelected(allOnPage ? [] : pageIds)}
                    />
                  </Table.Th>
                  <Table.Th>Access Name</Table.Th>
                  <Table.Th>Access ID</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th>Tags</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Expiration Date</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {keys.map((key) => (
                  <Table.Tr key={key.id} aria-selected={selected.includes(key.id)}>
                    <Table.Td>
                      <Checkbox
                        aria-label={`Select ${key.name}`}
                        checked={selected.includes(key.id)}
                        disabled={!deleteAllowed}
                        onChange={(event) => {
                          const on = event.currentTarget.checked;
                          setSelected((current) => (on ? [...current, key.id] : current.filter((id) => id !== key.id)));
                        }}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Anchor component="button" type="button" fw={500} ta="left" onClick={() => setDetailId(key.id)}>
                        {key.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Code title={key.accessId}>{key.accessId.slice(0, 8)}…</Code>
                    </Table.Td>
                    <Table.Td maw={240}>
                      <Text size="sm" lineClamp={2}>
                        {key.description}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <TagList tags={key.tags} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: "nowrap" }}>{key.type === "API_KEY" ? "API key" : key.type}</Table.Td>
                    <Table.Td>
                      <DateTime value={key.expiresAt} />
                    </Table.Td>
                    <Table.Td miw={90}>
                      <StatusBadge status={key.status} />
                    </Table.Td>
                    <Table.Td ta="right">
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${key.name}`}>
                            ⋯
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item onClick={() => setDetailId(key.id)}>View details</Menu.Item>
                          <Menu.Item
                            disabled={!membership.permissions.includes("updateApiAccess")}
                            onClick={() => setDialog({ kind: "edit", key })}
                          >
                            Edit
                          </Menu.Item>
                          <Menu.Item
                            disabled={!membership.permissions.includes("regenerateApiAccess")}
                            onClick={() => setDialog({ kind: "regenerate", key })}
                          >
                            Regenerate
                          </Menu.Item>
                          <Menu.Item
                            color="red"
                            disabled={!deleteAllowed}
                            onClick={() => setDialog({ kind: "delete", keys: [{ id: key.id, name: key.name }] })}
                          >
                            Delete
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {workspace.apiAccesses.totalCount} keys · page {paging.page}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button
                variant="default"
                size="xs"
                disabled={!workspace.apiAccesses.pageInfo.hasNextPage}
                onClick={() => paging.next(workspace.apiAccesses.pageInfo.endCursor)}
              >
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}

      {detail && !dialog && (
        <ApiAccessDetail
          apiAccess={detail}
          onClose={closeDetail}
          onEdit={() => setDialog({ kind: "edit", key: detail })}
          onRegenerate={() => setDialog({ kind: "regenerate", key: detail })}
          onDelete={() => setDialog({ kind: "delete", keys: [{ id: detail.id, name: detail.name }] })}
        />
      )}
      {(dialog?.kind === "create" || dialog?.kind === "edit") && (
        <ApiAccessFormModal
          key={dialog.kind === "edit" ? dialog.key.id : "new"}
          apiAccess={dialog.kind === "edit" ? dialog.key : null}
          roles={roles}
          namePattern={namePattern}
          opened
          onClose={() => setDialog(null)}
          onCreated={(key, token) => {
            setDialog(null);
            setShownToken({ title: `API Access “${key.name}” created`, name: key.name, token });
            reload();
          }}
          onSaved={(key) => {
            setDialog(null);
            notifications.show({ color: "green", message: `${key.name} saved.` });
            reload();
          }}
        />
      )}
      {dialog?.kind === "regenerate" && (
        <RegenerateModal
          apiAccess={dialog.key}
          onClose={() => setDialog(null)}
          onRegenerated={(key, token) => {
            setDialog(null);
            closeDetail();
            setShownToken({ title: `“${key.name}” regenerated`, name: key.name, token });
            reload();
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <DeleteModal
          keys={dialog.keys}
          onClose={() => setDialog(null)}
          onDeleted={(ids) => {
            setDialog(null);
            closeDetail();
            setSelected((current) => current.filter((id) => !ids.includes(id)));
            notifications.show({
              color: "green",
              message: ids.length === 1 ? "1 key deleted." : `${ids.length} keys deleted.`,
            });
            reload();
          }}
        />
      )}
    </Stack>
  );
}
