import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Menu,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { errorCodes } from "../core/errors";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import type { AccessRequestFieldsFragment } from "../gql/graphql";
import { AccessRequestDetail } from "./AccessRequestDetail";
import { DecideModal, type Decision } from "./DecideModal";
import { AccessRequestListDocument } from "./documents";
import { RequestStatusBadge } from "./parts";
import { STATUS_CHOICES, STATUS_LABELS, decisionSummary, toStatusFilter, type StatusChoice } from "./status";

export const PAGE_SIZE = 25;

/** Access requests: who asked for which products and plan for which app, and the decision. */
export function AccessRequestListPage() {
  const allowed = usePermission("getAccessRequest");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Access requests</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <AccessRequestList />;
}

function AccessRequestList() {
  const { membership } = useWorkspace();
  const decide = usePermission("decideAccessRequest");
  const withClients = usePermission("getClient").allowed;
  const { requestId } = useParams();
  const navigate = useNavigate();
  const base = `/workspaces/${membership.workspace.id}/access-requests`;
  // A deep link's request comes with the list's request; one opened from the table is on it.
  const [linkedId, setLinkedId] = useState(requestId ?? "");
  const [status, setStatus] = useState<StatusChoice>("ALL");
  const paging = usePaging();
  const [dialog, setDialog] = useState<{ decision: Decision; request: AccessRequestFieldsFragment } | null>(null);
  const [conflict, setConflict] = useState("");

  const [{ data, error, fetching }, refetch] = useQuery({
    query: AccessRequestListDocument,
    variables: {
      workspaceId: membership.workspace.id,
      first: PAGE_SIZE,
      after: paging.after,
      filter: toStatusFilter(status),
      requestId: linkedId,
      withRequest: linkedId !== "",
      withClients,
    },
  });
  const connection = data?.workspace.accessRequests;
  const requests = useMemo(() => connection?.edges.map((edge) => edge.node) ?? [], [connection]);
  const linked = data?.node?.__typename === "AccessRequest" ? data.node : null;
  const detail = requests.find((r) => r.id === requestId) ?? (linked?.id === requestId ? linked : null);

  // A link to a request that is gone (or in another workspace) fails the whole query: say so,
  // and offer the list without it.
  const missingLink = linkedId !== "" && errorCodes(error).includes("NOT_FOUND");
  const reload = () => refetch({ requestPolicy: "network-only" });
  const open = (id: string) => void navigate(`${base}/${id}`);
  const close = () => void navigate(base);

  return (
    <Stack>
      <Title order={2}>Access requests</Title>
      <Text size="sm" c="gray.7">
        Consumers ask for products and a plan for one of their apps. A plan that auto-approves decides at once; the
        others wait here.
      </Text>

      <Paper withBorder p="sm" component="section" aria-label="Filters">
        <Group align="flex-end">
          <Select
            label="Status"
            data={STATUS_CHOICES}
            value={status}
            allowDeselect={false}
            onChange={(value) => {
              setStatus((value ?? "ALL") as StatusChoice);
              paging.reset();
            }}
            w={160}
          />
        </Group>
      </Paper>

      {conflict && (
        <Alert
          color="orange"
          role="alert"
          title="Decided elsewhere"
          withCloseButton
          closeButtonLabel="Dismiss"
          onClose={() => setConflict("")}
        >
          {conflict} The list shows its current status.
        </Alert>
      )}
      {missingLink && (
        <Alert color="orange" role="alert" title="Request not found">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">This access request does not exist, or is in another workspace.</Text>
            <Button
              variant="default"
              size="xs"
              onClick={() => {
                setLinkedId("");
                close();
              }}
            >
              Show all requests
            </Button>
          </Stack>
        </Alert>
      )}
      {error && !missingLink && <QueryError error={error} />}
      {!data && fetching && <Loading />}
      {connection && connection.totalCount === 0 && (
        <Empty title="No access requests">
          {status === "ALL" ? "Consumers' requests appear here." : `None is ${STATUS_LABELS[status].toLowerCase()}.`}
        </Empty>
      )}
      {connection && connection.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={1100}>
            <Table highlightOnHover aria-label="Access requests" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>User</Table.Th>
                  <Table.Th>Developer app</Table.Th>
                  <Table.Th>Requested products</Table.Th>
                  <Table.Th>Selected plan</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Requested</Table.Th>
                  <Table.Th>Decision</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {requests.map((request) => {
                  const pending = request.status === "PENDING";
                  const label = `${request.requester} for ${request.accessProfile.name}`;
                  return (
                    <Table.Tr key={request.id} aria-selected={request.id === requestId}>
                      <Table.Td>
                        <Anchor component="button" type="button" fw={500} ta="left" onClick={() => open(request.id)}>
                          {request.requester}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        {request.accessProfile.name}
                        {request.accessProfile.client && (
                          <Text size="xs" c="gray.7">
                            {request.accessProfile.client.name}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {request.products.map((product) => (
                            <Badge key={product.id} variant="outline" color="gray.8" tt="none">
                              {product.name}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td>{request.planName}</Table.Td>
                      <Table.Td miw={110}>
                        <RequestStatusBadge status={request.status} />
                      </Table.Td>
                      <Table.Td>
                        <DateTime value={request.createdAt} />
                      </Table.Td>
                      <Table.Td maw={260}>
                        {pending ? (
                          <Text size="sm" c="gray.7">
                            Waiting
                          </Text>
                        ) : (
                          <>
                            <DateTime value={request.decidedAt} />
                            <Text size="xs" c="gray.7">
                              {decisionSummary(request)}
                            </Text>
                          </>
                        )}
                      </Table.Td>
                      <Table.Td ta="right">
                        <Menu position="bottom-end">
                          <Menu.Target>
                            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${label}`}>
                              ⋯
                            </ActionIcon>
                          </Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Item onClick={() => open(request.id)}>View details</Menu.Item>
                            <Menu.Item
                              disabled={!pending || !decide.allowed}
                              onClick={() => setDialog({ decision: "approve", request })}
                            >
                              Approve
                            </Menu.Item>
                            <Menu.Item
                              color="red"
                              disabled={!pending || !decide.allowed}
                              onClick={() => setDialog({ decision: "reject", request })}
                            >
                              Reject
                            </Menu.Item>
                            {!decide.allowed && (
                              <Text size="xs" c="gray.7" maw={260} px="sm" py={4}>
                                {decide.reason}
                              </Text>
                            )}
                            {decide.allowed && !pending && (
                              <Text size="xs" c="gray.7" maw={260} px="sm" py={4}>
                                Only pending requests can be decided.
                              </Text>
                            )}
                          </Menu.Dropdown>
                        </Menu>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="gray.7">
              {connection.totalCount} requests · page {paging.page}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button
                variant="default"
                size="xs"
                disabled={!connection.pageInfo.hasNextPage}
                onClick={() => paging.next(connection.pageInfo.endCursor)}
              >
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}

      {detail && !dialog && (
        <AccessRequestDetail
          request={detail}
          onClose={close}
          onDecide={(decision) => setDialog({ decision, request: detail })}
        />
      )}
      {dialog && (
        <DecideModal
          decision={dialog.decision}
          request={dialog.request}
          onClose={() => setDialog(null)}
          onDecided={(request) => {
            setDialog(null);
            setConflict("");
            notifications.show({ color: "green", message: decisionSummary(request) });
            reload();
          }}
          onConflict={(message) => {
            setDialog(null);
            setConflict(message);
            reload();
          }}
        />
      )}
    </Stack>
  );
}
