import { Badge, Button, Drawer, Group, Stack, Table, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import type { AccessRequestFieldsFragment } from "../gql/graphql";
import type { Decision } from "./DecideModal";
import { RequestStatusBadge } from "./parts";

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" w={150}>
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

/** One request beside the list (also the target of /access-requests/<id> links). */
export function AccessRequestDetail({
  request,
  onClose,
  onDecide,
}: {
  request: AccessRequestFieldsFragment;
  onClose: () => void;
  onDecide: (decision: Decision) => void;
}) {
  const pending = request.status === "PENDING";
  return (
    <Drawer
      opened
      onClose={onClose}
      position="right"
      size="md"
      title={`Request for ${request.accessProfile.name}`}
      closeButtonProps={{ "aria-label": "Close the request" }}
    >
      <Stack>
        <Table variant="vertical" layout="fixed" aria-label="Request details">
          <Table.Tbody>
            <Row label="Status">
              <RequestStatusBadge status={request.status} />
            </Row>
            <Row label="User">
              {request.requester}
              {request.requesterEmail && request.requesterEmail !== request.requester && (
                <Text size="sm" c="gray.7">
                  {request.requesterEmail}
                </Text>
              )}
            </Row>
            <Row label="Developer app">
              {request.accessProfile.name}
              <Text size="sm" c="gray.7">
                {request.accessProfile.client?.name ?? "Client hidden (needs getClient)"}
                {request.createdApp ? " · new app, created with this request" : ""}
              </Text>
            </Row>
            <Row label="Products">
              <Group gap={4}>
                {request.products.map((product) => (
                  <Badge key={product.id} variant="outline" color="gray.8" tt="none">
                    {product.name}
                  </Badge>
                ))}
              </Group>
            </Row>
            <Row label="Plan">{request.planName}</Row>
            <Row label="Requested">
              <DateTime value={request.createdAt} />
            </Row>
            <Row label="Decided by">{request.decidedBy ?? <Text size="sm" c="gray.7">Not yet</Text>}</Row>
            <Row label="Decided">
              <DateTime value={request.decidedAt} />
            </Row>
            <Row label={request.status === "REJECTED" ? "Reason" : "Note"}>
              {request.reason || <Text size="sm" c="gray.7">None</Text>}
            </Row>
          </Table.Tbody>
        </Table>
        {pending ? (
          <Group>
            <Guarded permission="decideAccessRequest">
              {(disabled) => (
                <Button color="#1b5e20" disabled={disabled} onClick={() => onDecide("approve")}>
                  Approve
                </Button>
              )}
            </Guarded>
            <Guarded permission="decideAccessRequest">
              {(disabled) => (
                <Button color="#a61b1b" variant="outline" disabled={disabled} onClick={() => onDecide("reject")}>
                  Reject
                </Button>
              )}
            </Guarded>
          </Group>
        ) : (
          <Text size="sm" c="gray.7">
            Decided requests stay as they are: a new request asks again.
          </Text>
        )}
      </Stack>
    </Drawer>
  );
}
