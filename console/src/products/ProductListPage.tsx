import { ActionIcon, Badge, Button, Group, Menu, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import { byField, describeError } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Pager } from "../core/Pager";
import { usePaging } from "../core/paging";
import { useReload } from "../core/reload";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import type { ProductFieldsFragment } from "../gql/graphql";
import { DeleteProductDocument, ProductListDocument } from "./documents";
import { operationsLabel } from "./operations";
import { ProductFormModal } from "./ProductFormModal";

const PAGE_SIZE = 25;

type Dialog = { kind: "create" } | { kind: "edit" | "delete"; product: ProductFieldsFragment };

function PublishedBadge({ published }: { published: boolean }) {
  return (
    <Badge color={published ? "#1b5e20" : "#495057"} variant="filled" tt="none">
      {published ? "Published" : "Draft"}
    </Badge>
  );
}

/** Each API of the product, with the operations it grants of it when it grants only some. */
function ProductApis({ product }: { product: ProductFieldsFragment }) {
  if (!product.apis.length) return <Text c="dimmed">None</Text>;
  const operations = product.operations.edges.map((e) => e.node);
  return (
    <Stack gap={2}>
      {product.apis.map((api) => {
        const chosen = operationsLabel(api.id, operations);
        return (
          <Text size="sm" key={api.id} style={{ wordBreak: "break-word" }}>
            {api.name}
            {chosen ? (
              <Text span size="xs" c="dimmed" ff="monospace">
                {" "}
                · {chosen}
              </Text>
            ) : (
              <Text span size="xs" c="dimmed">
                {" "}
                · whole API
              </Text>
            )}
          </Text>
        );
      })}
      {product.operations.totalCount > operations.length && (
        <Text size="xs" c="dimmed">
          and {product.operations.totalCount - operations.length} more operations
        </Text>
      )}
    </Stack>
  );
}

function ProductRow({ product, onDialog }: { product: ProductFieldsFragment; onDialog: (dialog: Dialog) => void }) {
  const manage = usePermission("manageProducts");
  return (
    <Table.Tr>
      <Table.Td fw={500}>{product.name}</Table.Td>
      <Table.Td maw={260}>
        <Text size="sm" lineClamp={2}>
          {product.description}
        </Text>
      </Table.Td>
      <Table.Td maw={320}>
        <ProductApis product={product} />
      </Table.Td>
      <Table.Td>{product.authMethod}</Table.Td>
      <Table.Td>
        <PublishedBadge published={product.published} />
      </Table.Td>
      <Table.Td ta="right">
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${product.name}`}>
              ⋯
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "edit", product })}>
              Edit
            </Menu.Item>
            <Menu.Item color="red" disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "delete", product })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function DeleteProductModal({ product, onClose, onDeleted }: { product: ProductFieldsFragment; onClose: () => void; onDeleted: () => void }) {
  const [, remove] = useMutation(DeleteProductDocument);
  return (
    <ConfirmModal
      title={`Delete ${product.name}?`}
      action="Delete product"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await remove({ input: { id: product.id } });
        const payload = result.data?.deleteApiProduct;
        if (!payload) return describeError(result.error);
        if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
        onDeleted();
        return null;
      }}
    >
      A product that an app holds or a pending request names cannot be deleted: the server says so.
    </ConfirmModal>
  );
}

function ProductTable({ products, onDialog }: { products: ProductFieldsFragment[]; onDialog: (dialog: Dialog) => void }) {
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table highlightOnHover aria-label="Products" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>APIs</Table.Th>
            <Table.Th>Auth method</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {products.map((product) => (
            <ProductRow key={product.id} product={product} onDialog={onDialog} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** API products: the bundles of APIs consumers request, with their auth method; drafts too. */
export function ProductListPage() {
  const allowed = usePermission("getProduct");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Products</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <ProductList />;
}

function ProductList() {
  const { membership } = useWorkspace();
  const [search, setSearch] = useState("");
  const [term] = useDebouncedValue(search, 250);
  const paging = usePaging();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: ProductListDocument,
    variables: { workspaceId: membership.workspace.id, first: PAGE_SIZE, after: paging.after, filter: { search: term || null } },
  });
  const reload = useReload(fetching, refetch);
  const products = data?.workspace.products;
  const close = () => setDialog(null);
  const done = (message: string) => {
    close();
    notifications.show({ color: "green", message });
    reload();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Products</Title>
        <Guarded permission="manageProducts">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setDialog({ kind: "create" })}>
              New product
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
      {!products && fetching && <Loading />}
      {products && products.totalCount === 0 && <Empty title="No products">{term ? "Try another search." : "Bundle APIs into a product consumers can request."}</Empty>}
      {products && products.totalCount > 0 && (
        <>
          <ProductTable products={products.edges.map((e) => e.node)} onDialog={setDialog} />
          <Pager total={products.totalCount} noun="products" paging={paging} pageInfo={products.pageInfo} />
        </>
      )}
      {(dialog?.kind === "create" || dialog?.kind === "edit") && (
        <ProductFormModal
          key={dialog.kind === "edit" ? dialog.product.id : "new"}
          product={dialog.kind === "edit" ? dialog.product : null}
          onClose={close}
          onSaved={(name) => done(`${name} saved.`)}
        />
      )}
      {dialog?.kind === "delete" && <DeleteProductModal product={dialog.product} onClose={close} onDeleted={() => done(`${dialog.product.name} deleted.`)} />}
    </Stack>
  );
}
