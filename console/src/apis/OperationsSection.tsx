import { ActionIcon, Badge, Button, Code, Group, Menu, Paper, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { lazy, Suspense, useState } from "react";
import { useMutation, useQuery } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import { byField, describeFailure } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Pager } from "../core/Pager";
import { usePaging } from "../core/paging";
import { usePermission } from "../core/workspace";
import type { ApiOperationFieldsFragment, ApiOperationPageFragment } from "../gql/graphql";
import { ApiOperationsDocument, DeleteApiOperationDocument } from "./documents";

// The dialogs are loaded when first opened: the API's page does not carry them.
const OperationFormModal = lazy(() => import("./OperationFormModal").then((m) => ({ default: m.OperationFormModal })));
const ImportOpenApiModal = lazy(() => import("./ImportOpenApiModal").then((m) => ({ default: m.ImportOpenApiModal })));

/** As many as the API answers a page (its maximum page size). */
export const OPERATIONS_PAGE = 100;

type Dialog = { kind: "add" | "import" } | { kind: "edit" | "delete"; operation: ApiOperationFieldsFragment };

function OperationRow({ operation, onDialog }: { operation: ApiOperationFieldsFragment; onDialog: (dialog: Dialog) => void }) {
  const manage = usePermission("updateApi");
  const label = `${operation.method} ${operation.path}`;
  return (
    <Table.Tr>
      <Table.Td>
        <Badge variant="outline" color="dark" tt="none" ff="monospace">
          {operation.method}
        </Badge>
      </Table.Td>
      <Table.Td ff="monospace" style={{ wordBreak: "break-all" }}>
        {operation.path}
      </Table.Td>
      <Table.Td>{operation.name || <Text c="dimmed">—</Text>}</Table.Td>
      <Table.Td>{operation.scopes.length ? operation.scopes.map((scope) => <Code key={scope} mr={4}>{scope}</Code>) : <Text c="dimmed">None</Text>}</Table.Td>
      <Table.Td ta="right">
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${label}`}>
              ⋯
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "edit", operation })}>
              Edit
            </Menu.Item>
            <Menu.Item color="red" disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "delete", operation })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function DeleteOperationModal({ operation, onClose, onDeleted }: { operation: ApiOperationFieldsFragment; onClose: () => void; onDeleted: () => void }) {
  const [, remove] = useMutation(DeleteApiOperationDocument);
  return (
    <ConfirmModal
      title={`Delete ${operation.method} ${operation.path}?`}
      action="Delete operation"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await remove({ input: { id: operation.id } });
        const payload = result.data?.deleteApiOperation;
        if (!payload) return describeFailure(result.error);
        if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
        onDeleted();
        return null;
      }}
    >
      Products that chose this operation no longer grant it. When it is a product&apos;s last chosen operation of this API the server refuses, naming the
      product: without it the product would grant the whole API.
    </ConfirmModal>
  );
}

/** The page of operations shown: the first comes with the API's page, later ones are asked here. */
function useOperationPage(apiId: string, first: ApiOperationPageFragment, paging: ReturnType<typeof usePaging>) {
  const [{ data }, refetch] = useQuery({
    query: ApiOperationsDocument,
    variables: { id: apiId, first: OPERATIONS_PAGE, after: paging.after },
    pause: paging.after === null,
  });
  const later = data?.node.__typename === "Api" ? data.node.operations : null;
  return { page: paging.after === null ? first : (later ?? first), refetch };
}

/** An API's operations (method, path, name, scopes) with Add, Edit, Delete and Import OpenAPI. */
export function OperationsSection({ apiId, apiName, operations, onChanged }: { apiId: string; apiName: string; operations: ApiOperationPageFragment; onChanged: () => void }) {
  const paging = usePaging();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const { page } = useOperationPage(apiId, operations, paging);
  const close = () => setDialog(null);
  const done = (message: string) => {
    close();
    notifications.show({ color: "green", message });
    paging.reset();
    onChanged();
  };
  const rows = page.edges.map((edge) => edge.node);

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="operations-heading">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4" id="operations-heading">
          Operations ({operations.totalCount})
        </Title>
        <Guarded permission="updateApi">
          {(disabled) => (
            <Group gap="xs">
              <Button size="xs" variant="default" disabled={disabled} onClick={() => setDialog({ kind: "import" })}>
                Import OpenAPI
              </Button>
              <Button size="xs" disabled={disabled} onClick={() => setDialog({ kind: "add" })}>
                + Add operation
              </Button>
            </Group>
          )}
        </Guarded>
      </Group>
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          This API declares no operations: products grant it as a whole.
        </Text>
      ) : (
        <>
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Operations" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={90}>Method</Table.Th>
                  <Table.Th>Path</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Scopes</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((operation) => (
                  <OperationRow key={operation.id} operation={operation} onDialog={setDialog} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {operations.totalCount > OPERATIONS_PAGE && <Pager total={operations.totalCount} noun="operations" paging={paging} pageInfo={page.pageInfo} />}
        </>
      )}
      <Suspense fallback={null}>
        {(dialog?.kind === "add" || dialog?.kind === "edit") && (
          <OperationFormModal apiId={apiId} operation={dialog.kind === "edit" ? dialog.operation : null} onClose={close} onSaved={(label) => done(`${label} saved.`)} />
        )}
        {dialog?.kind === "import" && <ImportOpenApiModal apiId={apiId} apiName={apiName} onClose={close} onImported={(summary) => done(`Imported: ${summary}.`)} />}
      </Suspense>
      {dialog?.kind === "delete" && <DeleteOperationModal operation={dialog.operation} onClose={close} onDeleted={() => done(`${dialog.operation.method} ${dialog.operation.path} deleted.`)} />}
    </Paper>
  );
}
