import {
  Badge,
  Button,
  Code,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { Fragment, useState } from "react";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import type { AuditLogQuery } from "../gql/graphql";
import { memberLabel } from "../members/labels";
import { ACTIONS, TARGET_TYPES, actorKindLabel, targetTypeLabel, withSeen } from "./catalog";
import { compareSides, instant, targetLabel } from "./changes";

export const PAGE_SIZE = 50;

const AuditLogDocument = graphql(`
  query AuditLog($workspaceId: ID!, $first: Int!, $after: String, $filter: AuditEventFilter) {
    workspace(id: $workspaceId) {
      id
      auditEvents(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            actorType
            actorId
            actorName
            action
            targetType
            targetId
            before
            after
            ip
            requestId
            at
          }
        }
      }
    }
  }
`);

// Asked only when the actor picker opens, so the screen itself opens with one request.
const AuditActorsDocument = graphql(`
  query AuditActors($workspaceId: ID!, $withMembers: Boolean!, $withKeys: Boolean!) {
    workspace(id: $workspaceId) {
      id
      members(first: 100) @include(if: $withMembers) {
        edges {
          node {
            id
            user {
              email
              name
            }
          }
        }
      }
      apiAccesses(first: 100) @include(if: $withKeys) {
        edges {
          node {
            id
            name
          }
        }
      }
    }
  }
`);

type AuditEvent = NonNullable<AuditLogQuery["workspace"]>["auditEvents"]["edges"][number]["node"];

interface Filters {
  actorId: string | null;
  action: string | null;
  targetType: string | null;
  target: { id: string; type: string; label: string } | null;
  since: string; // datetime-local values, in the reader's zone
  until: string;
}

const NO_FILTERS: Filters = { actorId: null, action: null, targetType: null, target: null, since: "", until: "" };

/** Before and after of one event, field by field, changed fields marked. */
function Changes({ event }: { event: AuditEvent }) {
  const rows = compareSides(event.before, event.after);
  const side = (title: string, pick: "before" | "after") => (
    <Paper withBorder p="xs" component="section" aria-label={title}>
      <Text fw={600} size="sm" mb={4}>
        {title}
      </Text>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing recorded
        </Text>
      ) : (
        <Table layout="fixed" withRowBorders={false} verticalSpacing={2}>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.key} bg={row.changed ? (pick === "before" ? "red.0" : "green.0") : undefined}>
                <Table.Th scope="row" w="35%" fz="sm">
                  {row.key}
                  {row.changed && <VisuallyHidden> (changed)</VisuallyHidden>}
                </Table.Th>
                <Table.Td fz="sm" ff="monospace" style={{ wordBreak: "break-word" }}>
                  {row[pick] ?? <Text span c="dimmed" fz="sm">absent</Text>}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
  return (
    <Stack gap="xs">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {side("Before", "before")}
        {side("After", "after")}
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        IP {event.ip ?? "unknown"} · request {event.requestId ?? "unknown"} · event {event.id}
      </Text>
    </Stack>
  );
}

/** The audit log: who did what to what, when; newest first. */
export function AuditLogPage() {
  const allowed = usePermission("getAuditLog");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Audit log</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const { membership } = useWorkspace();
  const workspaceId = membership.workspace.id;
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [open, setOpen] = useState<string | null>(null);
  const [actorsWanted, setActorsWanted] = useState(false);
  const [seenActors, setSeenActors] = useState<Record<string, string>>({});
  const paging = usePaging();
  const withMembers = usePermission("getMember").allowed;
  const withKeys = usePermission("getApiAccess").allowed;

  const since = instant(filters.since);
  const until = instant(filters.until);
  const [{ data, error, fetching }] = useQuery({
    query: AuditLogDocument,
    variables: {
      workspaceId,
      first: PAGE_SIZE,
      after: paging.after,
      filter: {
        actorId: filters.actorId,
        action: filters.action,
        targetType: filters.target ? null : filters.targetType,
        targetId: filters.target?.id ?? null,
        since,
        until,
      },
    },
  });
  const [actors] = useQuery({
    query: AuditActorsDocument,
    variables: { workspaceId, withMembers, withKeys },
    pause: !actorsWanted || !(withMembers || withKeys),
  });

  const events = data?.workspace.auditEvents.edges.map((edge) => edge.node) ?? [];
  const actorOptions: Record<string, string> = { ...seenActors };
  for (const event of events) {
    if (!event.actorId) continue;
    actorOptions[event.actorId] ??= event.actorType === "API_ACCESS" ? `${event.actorName} (API Access key)` : event.actorName;
  }
  for (const { node } of actors.data?.workspace.members?.edges ?? []) actorOptions[node.id] = memberLabel(node.user);
  for (const { node } of actors.data?.workspace.apiAccesses?.edges ?? []) actorOptions[node.id] = `${node.name} (API Access key)`;
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  const rangeError = since && until && since >= until ? "Must be after From." : undefined;

  const change = (patch: Partial<Filters>) => {
    setSeenActors(actorOptions); // keep the names of actors the new filter may hide
    setFilters((current) => ({ ...current, ...patch }));
    setOpen(null);
    paging.reset();
  };

  return (
    <Stack>
      <Title order={2}>Audit log</Title>
      <Paper withBorder p="sm" component="section" aria-label="Filters">
        <Group align="flex-end" wrap="wrap">
          <Select
            label="Actor"
            placeholder="Anyone"
            data={Object.entries(actorOptions)
              .map(([value, label]) => ({ value, label }))
              .sort((a, b) => a.label.localeCompare(b.label))}
            value={filters.actorId}
            onChange={(actorId) => change({ actorId })}
            onDropdownOpen={() => setActorsWanted(true)}
            nothingFoundMessage={actors.fetching ? "Loading…" : "No one by that name"}
            searchable
            clearable
            w={260}
          />
          <Select
            label="Action"
            placeholder="Any action"
            data={withSeen(ACTIONS, events.map((e) => e.action))}
            value={filters.action}
            onChange={(action) => change({ action })}
            searchable
            clearable
            w={240}
          />
          <Select
            label="Target"
            placeholder="Any target"
            data={TARGET_TYPES}
            value={filters.target ? null : filters.targetType}
            onChange={(targetType) => change({ targetType, target: null })}
            disabled={filters.target !== null}
            clearable
            w={190}
          />
          <TextInput
            type="datetime-local"
            label="From"
            value={filters.since}
            onChange={(event) => change({ since: event.currentTarget.value })}
            w={210}
          />
          <TextInput
            type="datetime-local"
            label="To"
            value={filters.until}
            onChange={(event) => change({ until: event.currentTarget.value })}
            error={rangeError}
            w={210}
          />
          {filtered && (
            <Button variant="subtle" onClick={() => change(NO_FILTERS)}>
              Clear filters
            </Button>
          )}
        </Group>
        {filters.target && (
          <Group gap="xs" mt="xs">
            <Text size="sm">
              Only events on {targetTypeLabel(filters.target.type)} <strong>{filters.target.label}</strong>
            </Text>
            <Button size="compact-xs" variant="default" onClick={() => change({ target: null })}>
              Show all targets
            </Button>
          </Group>
        )}
      </Paper>

      {error && <QueryError error={error} />}
      {!data && fetching && <Loading />}
      {data && data.workspace.auditEvents.totalCount === 0 && (
        <Empty title="No events match">{filtered ? "Try other filters or a wider time range." : "Nothing has changed yet."}</Empty>
      )}
      {data && data.workspace.auditEvents.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={860}>
            <Table aria-label="Audit events" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Details</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {events.map((event) => {
                  const label = targetLabel(event);
                  const expanded = open === event.id;
                  return (
                    <Fragment key={event.id}>
                      <Table.Tr>
                        <Table.Td>
                          <DateTime value={event.at} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{event.actorName}</Text>
                          <Text size="xs" c="dimmed">
                            {actorKindLabel(event.actorType)}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Code>{event.action}</Code>
                        </Table.Td>
                        <Table.Td>
                          <Group gap={6} wrap="nowrap">
                            <Badge variant="outline" color="gray.8" tt="none">
                              {targetTypeLabel(event.targetType)}
                            </Badge>
                            {event.targetId ? (
                              <Button
                                variant="subtle"
                                size="compact-sm"
                                title="Show only the events on this target"
                                onClick={() =>
                                  change({ target: { id: event.targetId ?? "", type: event.targetType, label } })
                                }
                              >
                                {label}
                              </Button>
                            ) : (
                              <Text size="sm">{label}</Text>
                            )}
                          </Group>
                        </Table.Td>
                        <Table.Td ta="right">
                          <Button
                            variant="default"
                            size="compact-sm"
                            aria-expanded={expanded}
                            aria-label={`${expanded ? "Hide" : "Show"} changes of ${event.action} on ${label}`}
                            onClick={() => setOpen(expanded ? null : event.id)}
                          >
                            {expanded ? "Hide changes" : "Changes"}
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                      {expanded && (
                        <Table.Tr>
                          <Table.Td colSpan={5}>
                            <Changes event={event} />
                          </Table.Td>
                        </Table.Tr>
                      )}
                    </Fragment>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {data.workspace.auditEvents.totalCount} events · page {paging.page}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button
                variant="default"
                size="xs"
                disabled={!data.workspace.auditEvents.pageInfo.hasNextPage}
                onClick={() => paging.next(data.workspace.auditEvents.pageInfo.endCursor)}
              >
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}
    </Stack>
  );
}
