import { Alert, Button, Group, Modal, Select, Stack, TagsInput, TextInput } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeFailure } from "../core/errors";
import type { ApiOperationFieldsFragment } from "../gql/graphql";
import { CreateApiOperationDocument, UpdateApiOperationDocument } from "./documents";
import { cleanScopes, HTTP_METHODS } from "./operations";

interface Values {
  method: string;
  path: string;
  name: string;
  scopes: string[];
}

/** Add an operation to an API, or edit one: method, path template, name and scopes; the
 * server's refusals (a malformed path, a duplicate) show on their field. */
export function OperationFormModal({
  apiId,
  operation,
  onClose,
  onSaved,
}: {
  apiId: string;
  operation: ApiOperationFieldsFragment | null;
  onClose: () => void;
  onSaved: (label: string) => void;
}) {
  const [values, setValues] = useState<Values>({
    method: operation?.method ?? "GET",
    path: operation?.path ?? "",
    name: operation?.name ?? "",
    scopes: [...(operation?.scopes ?? [])],
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreateApiOperationDocument);
  const [updated, update] = useMutation(UpdateApiOperationDocument);
  const patch = (change: Partial<Values>) => {
    setValues((current) => ({ ...current, ...change }));
    setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !(field in change))));
  };

  async function submit() {
    if (!values.path.trim()) return setErrors({ path: "A path is required, e.g. /invoices/{id}." });
    const fields = { method: values.method, path: values.path.trim(), name: values.name.trim(), scopes: cleanScopes(values.scopes) };
    const result = operation
      ? await update({ input: { id: operation.id, ...fields } }).then((r) => ({ payload: r.data?.updateApiOperation, error: r.error }))
      : await create({ input: { apiId, ...fields } }).then((r) => ({ payload: r.data?.createApiOperation, error: r.error }));
    if (!result.payload) return setErrors({ "": describeFailure(result.error) });
    if (result.payload.userErrors.length) return setErrors(byField(result.payload.userErrors));
    onSaved(`${fields.method} ${fields.path}`);
  }

  return (
    <Modal opened onClose={onClose} title={operation ? `Edit ${operation.method} ${operation.path}` : "Add operation"} size="lg">
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
          <Select
            label="Method"
            description="* matches any method."
            data={[...HTTP_METHODS]}
            value={values.method}
            allowDeselect={false}
            onChange={(method) => patch({ method: method ?? "GET" })}
            error={errors.method}
          />
          <TextInput
            label="Path"
            description="Starts with /; segments are literals or {name}; may end in /*."
            required
            value={values.path}
            onChange={(event) => patch({ path: event.currentTarget.value })}
            error={errors.path}
            styles={{ input: { fontFamily: "monospace" } }}
            data-autofocus
          />
          <TextInput label="Name" description="The OpenAPI operationId, if any." value={values.name} onChange={(event) => patch({ name: event.currentTarget.value })} error={errors.name} />
          <TagsInput
            label="Scopes"
            description="OAuth2 scopes a JWT must carry to call this operation; press Enter after each."
            value={values.scopes}
            onChange={(scopes) => patch({ scopes })}
            error={errors.scopes}
            clearable
            clearButtonProps={{ "aria-label": "Clear scopes" }}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={created.fetching || updated.fetching}>
              {operation ? "Save" : "Add operation"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
