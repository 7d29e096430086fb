import { Alert, Button, Group, Modal, Select, Stack, TagsInput, TextInput, Textarea } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { usePermission, useWorkspace } from "../core/workspace";
import type { ApiAccessFieldsFragment } from "../gql/graphql";
import { CreateApiAccessDocument, UpdateApiAccessDocument } from "./documents";
import { DEFAULT_EXPIRY, EXPIRY_PRESETS, expiresAt, localInputValue } from "./expiry";
import { normaliseTags } from "./filters";
import { patternError } from "./namePattern";

export interface RoleOption {
  value: string;
  label: string;
}

interface Values {
  name: string;
  description: string;
  tags: string[];
  roleId: string | null;
  expiry: string;
  customExpiry: string;
}

function initial(key: ApiAccessFieldsFragment | null): Values {
  return {
    name: key?.name ?? "",
    description: key?.description ?? "",
    tags: key ? [...key.tags] : [],
    roleId: key?.role?.id ?? null,
    expiry: DEFAULT_EXPIRY,
    customExpiry: "",
  };
}

/** The fields of a key that the expiry sits beside; server userErrors land on their field. */
function ExpiryFields({
  values,
  error,
  onChange,
}: {
  values: Values;
  error: string | undefined;
  onChange: (patch: Partial<Values>) => void;
}) {
  return (
    <>
      <Select
        label="Expiration"
        description="Keys must expire; the server allows at most one year ahead."
        data={EXPIRY_PRESETS.map((p) => ({ value: p.value, label: p.label }))}
        value={values.expiry}
        allowDeselect={false}
        onChange={(value) => onChange({ expiry: value ?? DEFAULT_EXPIRY })}
        error={values.expiry === "custom" ? undefined : error}
      />
      {values.expiry === "custom" && (
        <TextInput
          type="datetime-local"
          label="Expiration date"
          description="In your time zone."
          min={localInputValue(new Date())}
          value={values.customExpiry}
          onChange={(event) => onChange({ customExpiry: event.currentTarget.value })}
          error={error}
          required
        />
      )}
    </>
  );
}

/**
 * Create a key (the token is then shown once by the page) or edit one's name, description,
 * tags and role. Without getRole the role cannot be chosen: the field says why.
 */
export function ApiAccessFormModal({
  apiAccess,
  roles,
  namePattern,
  opened,
  onClose,
  onCreated,
  onSaved,
}: {
  apiAccess: ApiAccessFieldsFragment | null; // null: create
  roles: RoleOption[];
  namePattern: string | null; // of the viewer's createApiAccess permission
  opened: boolean;
  onClose: () => void;
  onCreated: (key: ApiAccessFieldsFragment, token: string) => void;
  onSaved: (key: ApiAccessFieldsFragment) => void;
}) {
  const { membership } = useWorkspace();
  const getRole = usePermission("getRole");
  const [values, setValues] = useState<Values>(() => initial(apiAccess));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreateApiAccessDocument);
  const [updated, update] = useMutation(UpdateApiAccessDocument);
  const editing = apiAccess !== null;
  const patch = (change: Partial<Values>) => setValues((current) => ({ ...current, ...change }));

  async function submit() {
    const local: Record<string, string> = {};
    if (!values.name.trim()) local.name = "A name is required.";
    const expiry = expiresAt(values.expiry, values.customExpiry);
    if (!editing && !expiry) local.expiresAt = "Choose a date and time.";
    if (!editing && !values.roleId) local.roleId = "Choose the role the key acts with.";
    if (Object.keys(local).length) return setErrors(local);
    const withRoles = getRole.allowed;
    const tags = normaliseTags(values.tags);
    if (apiAccess) {
      const result = await update({
        withRoles,
        input: {
          id: apiAccess.id,
          name: values.name,
          description: values.description,
          tags,
          roleId: getRole.allowed && values.roleId !== (apiAccess.role?.id ?? null) ? values.roleId : null,
        },
      });
      const payload = result.data?.updateApiAccess;
      if (!payload) return setErrors({ "": describeError(result.error) });
      if (payload.userErrors.length || !payload.apiAccess) return setErrors(byField(payload.userErrors));
      onSaved(payload.apiAccess);
      return;
    }
    const result = await create({
      withRoles,
      input: {
        workspaceId: membership.workspace.id,
        name: values.name,
        description: values.description,
        tags,
        roleId: values.roleId ?? "",
        expiresAt: expiry ?? "",
      },
    });
    const payload = result.data?.createApiAccess;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length || !payload.apiAccess || !payload.token) {
      return setErrors(byField(payload.userErrors));
    }
    onCreated(payload.apiAccess, payload.token);
  }

  const roleReason = getRole.allowed ? undefined : `${getRole.reason} It is needed to assign a role.`;
  return (
    <Modal opened={opened} onClose={onClose} title={editing ? `Edit ${apiAccess.name}` : "Create API Access"} size="lg">
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
          <TextInput
            label="Access Name"
            required
            maxLength={100}
            description={namePattern ? `Must match ${namePattern} (your createApiAccess permission).` : undefined}
            value={values.name}
            onChange={(event) => {
              patch({ name: event.currentTarget.value });
              // The server's verdict on the old name no longer applies.
              setErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => field !== "name")));
            }}
            error={errors.name ?? patternError(namePattern, values.name)}
            data-autofocus
          />
          <Textarea
            label="Description"
            autosize
            minRows={2}
            value={values.description}
            onChange={(event) => patch({ description: event.currentTarget.value })}
            error={errors.description}
          />
          <TagsInput
            label="Tags"
            description="Lower-case words such as ci or team:web; press Enter after each."
            value={values.tags}
            onChange={(tags) => patch({ tags })}
            error={errors.tags}
            clearable
            clearButtonProps={{ "aria-label": "Clear tags" }}
          />
          <Select
            label="Role"
            description={roleReason ?? "The key acts with this role's permissions."}
            placeholder={getRole.allowed ? "Choose a role" : "Not available"}
            data={roles}
            value={values.roleId}
            onChange={(roleId) => patch({ roleId })}
            disabled={!getRole.allowed}
            required={!editing}
            searchable
            error={errors.roleId}
          />
          {!editing && <ExpiryFields values={values} error={errors.expiresAt} onChange={patch} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={created.fetching || updated.fetching} disabled={!editing && !getRole.allowed}>
              {editing ? "Save" : "Create"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
