import { Button, Table, Text, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { RequestStatusBadge } from "../access-requests/parts";
import { decisionSummary } from "../access-requests/status";
import { ConfirmModal } from "../core/ConfirmModal";
import { byField, describeError } from "../core/errors";
import { DateTime } from "../core/dates";
import { Empty, Loading, QueryError } from "../core/states";
import { permissionOf, useWorkspace } from "../core/workspace";
import type { PortalRequestFieldsFragment } from "../gql/graphql";
import { CancelAccessRequestDocument, PortalRequestsDocument } from "./documents";
import { PortalPage } from "./parts";

function CancelModal({ request, onClose }: { request: PortalRequestFieldsFragment; onClose: () => void }) {
  const [, cancel] = useMutation(CancelAccessRequestDocument);
  return (
    <ConfirmModal
      title={`Cancel the request for ${request.accessProfile.name}?`}
      action="Cancel request"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await cancel({ input: { id: request.id } });
        const payload = result.data?.cancelAccessRequest;
        if (!payload) return describeError(result.error);
        if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
        onClose();
        return null;
      }}
    >
      Nobody will decide it any more. An app created with it stays, without these products.
    </ConfirmModal>
  );
}

function RequestRow({ request, onCancel }: { request: PortalRequestFieldsFragment; onCancel: () => void }) {
  return (
    <Table.Tr>
      <Table.Td>{request.accessProfile.name}</Table.Td>
      <Table.Td>{request.products.map((p) => p.name).join(", ")}</Table.Td>
      <Table.Td>{request.planName}</Table.Td>
      <Table.Td>
        <RequestStatusBadge status={request.status} />
      </Table.Td>
      <Table.Td>
        <DateTime value={request.createdAt} />
      </Table.Td>
      <Table.Td>
        {decisionSummary(request)}
        {request.decidedAt && (
          <Text size="xs" c="dimmed">
            <DateTime value={request.decidedAt} />
          </Text>
        )}
      </Table.Td>
      <Table.Td ta="right">
        {request.status === "PENDING" && (
          <Button size="xs" variant="default" color="red" aria-label={`Cancel request for ${request.accessProfile.name}`} onClick={onCancel}>
            Cancel request
          </Button>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

function RequestsTable({ requests, onCancel }: { requests: PortalRequestFieldsFragment[]; onCancel: (r: PortalRequestFieldsFragment) => void }) {
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table aria-label="My requests">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>App</Table.Th>
            <Table.Th>Products</Table.Th>
            <Table.Th>Plan</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Requested</Table.Th>
            <Table.Th>Decision</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {requests.map((request) => (
            <RequestRow key={request.id} request={request} onCancel={() => onCancel(request)} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** My requests: their status, decision and reason, newest first; a pending one can be cancelled. */
export function MyRequestsPage() {
  const { membership } = useWorkspace();
  const [{ data, error, fetching }] = useQuery({ query: PortalRequestsDocument, variables: { workspaceId: membership.workspace.id } });
  const [cancelling, setCancelling] = useState<PortalRequestFieldsFragment | null>(null);
  const requests = data?.workspace.accessRequests.edges.map((edge) => edge.node) ?? [];
  const seesAll = permissionOf(membership, "getAccessRequest").allowed;
  return (
    <PortalPage title="My requests">
      {seesAll && (
        <Text size="sm" c="dimmed">
          Your role sees every request of the workspace here, not only yours.
        </Text>
      )}
      {error && <QueryError error={error} />}
      {fetching && !data && <Loading />}
      {data && requests.length === 0 && <Empty title="No request yet">Submit a cart to ask for access.</Empty>}
      {requests.length > 0 && <RequestsTable requests={requests} onCancel={setCancelling} />}
      {cancelling && <CancelModal request={cancelling} onClose={() => setCancelling(null)} />}
    </PortalPage>
  );
}
