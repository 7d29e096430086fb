import { Badge, Button, Code, Drawer, Group, Stack, Table, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import type { ApiAccessFieldsFragment } from "../gql/graphql";
import { StatusBadge, TagList } from "./parts";

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

/** The detail panel of one key; its data comes with the table's request. */
export function ApiAccessDetail({
  apiAccess,
  onClose,
  onEdit,
  onRegenerate,
  onDelete,
}: {
  apiAccess: ApiAccessFieldsFragment;
  onClose: () => void;
  onEdit: () => void;
  onRegenerate: () => void;
  onDelete: () => void;
}) {
  return (
    <Drawer
      opened
      onClose={onClose}
      position="right"
      size="md"
      title={apiAccess.name}
      closeButtonProps={{ "aria-label": "Close the details" }}
    >
      <Stack>
        <Table variant="vertical" layout="fixed" aria-label="Key details">
          <Table.Tbody>
            <Row label="Access Name">{apiAccess.name}</Row>
            <Row label="Access ID">
              <Code>{apiAccess.accessId}</Code>
            </Row>
            <Row label="Description">{apiAccess.description || <Text c="dimmed">None</Text>}</Row>
            <Row label="Tags">
              <TagList tags={apiAccess.tags} />
            </Row>
            <Row label="Type">{apiAccess.type === "API_KEY" ? "API key" : apiAccess.type}</Row>
            <Row label="Role">{apiAccess.role ? apiAccess.role.name : <Text c="dimmed">Hidden (needs getRole)</Text>}</Row>
            <Row label="Status">
              <StatusBadge status={apiAccess.status} />
            </Row>
            <Row label="Expiration">
              <DateTime value={apiAccess.expiresAt} />
              {apiAccess.expiresAt && (
                <Text size="xs" c="dimmed" ff="monospace">
                  {apiAccess.expiresAt}
                </Text>
              )}
            </Row>
            <Row label="Token">
              <Code>…{apiAccess.tokenHint}</Code>
            </Row>
            <Row label="Created by">{apiAccess.createdBy}</Row>
            <Row label="Created at">
              <DateTime value={apiAccess.createdAt} />
            </Row>
            <Row label="Last used">
              {apiAccess.lastUsedAt ? <DateTime value={apiAccess.lastUsedAt} /> : <Text c="dimmed">Never</Text>}
            </Row>
            <Row label="Usage count">
              <Badge variant="outline" color="gray.8">
                {apiAccess.usageCount}
              </Badge>
            </Row>
          </Table.Tbody>
        </Table>
        <Text size="xs" c="dimmed">
          Usage is written in batches and may lag by a few seconds.
        </Text>
        <Group>
          <Guarded permission="updateApiAccess">
            {(disabled) => (
              <Button variant="default" disabled={disabled} onClick={onEdit}>
                Edit
              </Button>
            )}
          </Guarded>
          <Guarded permission="regenerateApiAccess">
            {(disabled) => (
              <Button variant="default" disabled={disabled} onClick={onRegenerate}>
                Regenerate
              </Button>
            )}
          </Guarded>
          <Guarded permission="deleteApiAccess">
            {(disabled) => (
              <Button color="red" variant="outline" disabled={disabled} onClick={onDelete}>
                Delete
              </Button>
            )}
          </Guarded>
        </Group>
      </Stack>
    </Drawer>
  );
}
