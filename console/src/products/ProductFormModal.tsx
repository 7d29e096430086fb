import { Alert, Button, Checkbox, Group, Modal, Select, Stack, TextInput, Textarea } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { SearchMultiSelect, type Option } from "../core/SearchSelect";
import { useWorkspace } from "../core/workspace";
import { AUTH_METHODS } from "../clients/profile";
import type { AuthMethod, ProductFieldsFragment } from "../gql/graphql";
import { CreateProductDocument, UpdateProductDocument } from "./documents";
import { choiceOf, emptyChoices, operationIdsToSend, type OperationChoice } from "./operations";
import { ProductOperationsField } from "./ProductOperationsField";

interface Values {
  name: string;
  description: string;
  apis: Option[];
  operations: OperationChoice;
  authMethod: AuthMethod;
  published: boolean;
}

function initial(product: ProductFieldsFragment | null): Values {
  return {
    name: product?.name ?? "",
    description: product?.description ?? "",
    apis: (product?.apis ?? []).map((api) => ({ value: api.id, label: api.name })),
    operations: choiceOf(product?.operations.edges.map((e) => e.node) ?? []),
    authMethod: product?.authMethod ?? "AUTH_TOKEN",
    published: product?.published ?? false,
  };
}

/** Create or edit a product: name, description, its APIs, the auth method apps use, published. */
export function ProductFormModal({ product, onClose, onSaved }: { product: ProductFieldsFragment | null; onClose: () => void; onSaved: (name: string) => void }) {
  const { membership } = useWorkspace();
  const [values, setValues] = useState<Values>(() => initial(product));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreateProductDocument);
  const [updated, update] = useMutation(UpdateProductDocument);
  const patch = (change: Partial<Values>) => {
    setValues((current) => ({ ...current, ...change }));
    // The server's verdict on a changed field no longer holds (APIs are sent as apiIds).
    const changed = Object.keys(change).map((key) => (key === "apis" ? "apiIds" : key));
    const touchesOperations = "operations" in change || "apis" in change;
    setErrors((current) =>
      Object.fromEntries(Object.entries(current).filter(([field]) => !changed.includes(field) && !(touchesOperations && (field === "operationIds" || field.startsWith("operations:"))))),
    );
  };

  async function submit() {
    if (!values.name.trim()) return setErrors({ name: "A name is required." });
    const { apis, operations, ...rest } = values;
    const apiIds = apis.map((api) => api.value);
    const empty = emptyChoices(apiIds, operations, Object.fromEntries(apis.map((api) => [api.value, api.label])));
    if (Object.keys(empty).length) return setErrors(empty);
    // A product choosing more operations than its page loads keeps them: the form cannot know them all.
    const complete = !product || product.operations.totalCount <= product.operations.edges.length;
    const fields = { ...rest, apiIds, ...(complete ? { operationIds: operationIdsToSend(apiIds, operations) } : {}) };
    const result = product
      ? await update({ input: { id: product.id, ...fields } }).then((r) => ({ payload: r.data?.updateApiProduct, error: r.error }))
      : await create({ input: { workspaceId: membership.workspace.id, ...fields } }).then((r) => ({ payload: r.data?.createApiProduct, error: r.error }));
    if (!result.payload) return setErrors({ "": describeError(result.error) });
    if (result.payload.userErrors.length) return setErrors(byField(result.payload.userErrors));
    onSaved(result.payload.apiProduct?.name ?? values.name);
  }

  return (
    <Modal opened onClose={onClose} title={product ? `Edit ${product.name}` : "New product"} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Stack>
          {errors[""] && (
            <Alert color="red" role="alert">
              {errors[""]}
            </Alert>
          )}
          <TextInput label="Name" required maxLength={100} value={values.name} onChange={(e) => patch({ name: e.currentTarget.value })} error={errors.name} data-autofocus />
          <Textarea label="Description" autosize minRows={2} value={values.description} onChange={(e) => patch({ description: e.currentTarget.value })} error={errors.description} />
          <SearchMultiSelect kind="apis" label="APIs" description="The APIs an app holding this product may call." value={values.apis} onChange={(apis) => patch({ apis })} error={errors.apiIds} />
          <ProductOperationsField
            apis={values.apis}
            choice={values.operations}
            known={product?.operations.edges.map((e) => e.node) ?? []}
            errors={errors}
            onChange={(operations) => patch({ operations })}
          />
          <Select
            label="Authentication method"
            description="Apps must use this method to hold the product."
            data={AUTH_METHODS.map((m) => ({ value: m.value, label: `${m.label} (${m.value})` }))}
            value={values.authMethod}
            allowDeselect={false}
            onChange={(value) => patch({ authMethod: (value ?? "AUTH_TOKEN") as AuthMethod })}
            error={errors.authMethod}
          />
          <Checkbox
            label="Published"
            description="Consumers see published products in the catalogue and may request them."
            checked={values.published}
            onChange={(e) => patch({ published: e.currentTarget.checked })}
            error={errors.published}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={created.fetching || updated.fetching}>
              {product ? "Save" : "Create product"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
