import { Alert, Button, Checkbox, Group, Modal, ScrollArea, Stack, Switch, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { CreateRoleDocument, DeleteRoleDocument, UpdateRoleDocument } from "./documents";
import { testPattern } from "./pattern";

export interface CatalogEntry {
  name: string;
  description: string;
  constraints: string[];
}

export interface RoleValue {
  id: string;
  name: string;
  description: string;
  builtIn: boolean;
  allApis: boolean;
  permissions: { name: string; namePattern?: string | null }[];
}

function PatternField({
  permission,
  value,
  error,
  onChange,
  readOnly,
}: {
  permission: string;
  value: string;
  error?: string;
  onChange: (value: string) => void;
  readOnly: boolean;
}) {
  const [sample, setSample] = useState("");
  const test = value && sample ? testPattern(value, sample) : null;
  return (
    <Group align="flex-start" ml="xl" gap="sm" wrap="wrap">
      <TextInput
        label={`namePattern of ${permission}`}
        description="Names must match it as a whole; empty: any name."
        placeholder="ci-.*"
        value={value}
        onChange={(event) => onChange(event.currentTarget.value)}
        error={error ?? (test && !test.valid ? test.message : undefined)}
        readOnly={readOnly}
        ff="monospace"
        w={260}
      />
      <TextInput
        label="Test a name"
        description={test?.valid ? (test.matches ? "✓ matches" : "✗ does not match") : "Type a name to try the pattern."}
        value={sample}
        onChange={(event) => setSample(event.currentTarget.value)}
        w={220}
      />
    </Group>
  );
}

/** A role's details: read-only for built-in roles, an editor for custom roles and new ones. */
export function RoleEditor({
  workspaceId,
  role,
  catalog,
  canEdit,
  canDelete,
  onClose,
  onDone,
}: {
  workspaceId: string;
  role: RoleValue | null; // null: a new role
  catalog: CatalogEntry[];
  canEdit: boolean;
  canDelete: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const readOnly = !canEdit || Boolean(role?.builtIn);
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [allApis, setAllApis] = useState(role?.allApis ?? false);
  const [held, setHeld] = useState<Record<string, string>>(
    Object.fromEntries((role?.permissions ?? []).map((p) => [p.name, p.namePattern ?? ""])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [create, createRole] = useMutation(CreateRoleDocument);
  const [update, updateRole] = useMutation(UpdateRoleDocument);
  const [removal, deleteRole] = useMutation(DeleteRoleDocument);

  async function save() {
    if (!name.trim()) return setErrors({ name: "A role needs a name." });
    const permissions = Object.entries(held).map(([permission, pattern]) => ({
      name: permission,
      namePattern: pattern.trim() || null,
    }));
    const result = role
      ? await updateRole({ input: { id: role.id, name, description, allApis, permissions } })
      : await createRole({ input: { workspaceId, name, description, allApis, permissions } });
    const payload = result.data ? ("updateRole" in result.data ? result.data.updateRole : result.data.createRole) : null;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length) return setErrors(byField(payload.userErrors));
    notifications.show({ color: "green", message: role ? `Role ${name} saved.` : `Role ${name} created.` });
    onDone();
    onClose();
  }

  async function remove() {
    if (!role) return;
    const result = await deleteRole({ input: { id: role.id } });
    const payload = result.data?.deleteRole;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length) return setErrors({ "": Object.values(byField(payload.userErrors)).join(" ") });
    notifications.show({ color: "green", message: `Role ${role.name} deleted.` });
    onDone();
    onClose();
  }

  const general = errors[""] ?? errors.id ?? errors.workspaceId;
  return (
    <Modal opened onClose={onClose} title={role ? role.name : "Create role"} size="lg">
      <Stack>
        {role?.builtIn && (
          <Alert color="gray" role="note">
            Built-in roles cannot be changed. Create a custom role to hold a different set of permissions.
          </Alert>
        )}
        {general && (
          <Alert color="red" role="alert">
            {general}
          </Alert>
        )}
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} readOnly={readOnly} />
        <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} readOnly={readOnly} autosize minRows={2} />
        <Switch
          label="Reaches every API (no grants needed)"
          checked={allApis}
          onChange={(e) => setAllApis(e.currentTarget.checked)}
          disabled={readOnly}
          error={errors.allApis}
        />
        <Text fw={600} size="sm">
          Permissions
        </Text>
        {errors.permissions && (
          <Text c="red" size="sm" role="alert">
            {errors.permissions}
          </Text>
        )}
        <ScrollArea.Autosize mah={360} type="auto">
          <Stack gap="xs">
            {catalog.map((entry) => {
              const checked = entry.name in held;
              return (
                <Stack key={entry.name} gap={4}>
                  <Checkbox
                    label={<Text size="sm" ff="monospace">{entry.name}</Text>}
                    description={entry.description}
                    checked={checked}
                    disabled={readOnly}
                    onChange={() =>
                      setHeld((current) =>
                        checked
                          ? Object.fromEntries(Object.entries(current).filter(([held]) => held !== entry.name))
                          : { ...current, [entry.name]: "" },
                      )
                    }
                  />
                  {checked && entry.constraints.includes("namePattern") && (
                    <PatternField
                      permission={entry.name}
                      value={held[entry.name] ?? ""}
                      error={errors[`permissions.${entry.name}`]}
                      readOnly={readOnly}
                      onChange={(value) => setHeld((current) => ({ ...current, [entry.name]: value }))}
                    />
                  )}
                </Stack>
              );
            })}
          </Stack>
        </ScrollArea.Autosize>
        <Group justify="space-between">
          <div>
            {role && !role.builtIn && canDelete && (
              <Button color="red" variant="subtle" onClick={remove} loading={removal.fetching}>
                Delete role
              </Button>
            )}
          </div>
          <Group>
            <Button variant="default" onClick={onClose}>
              {readOnly ? "Close" : "Cancel"}
            </Button>
            {!readOnly && (
              <Button onClick={save} loading={create.fetching || update.fetching}>
                {role ? "Save" : "Create role"}
              </Button>
            )}
          </Group>
        </Group>
      </Stack>
    </Modal>
  );
}
