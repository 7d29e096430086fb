import { Alert, Button, Group, Modal, Select, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { AddMemberDocument, RemoveMemberDocument, UpdateMemberRoleDocument } from "./documents";

type Option = { value: string; label: string };

/** Invite a person by email with a role; the user is created if new. */
export function InviteMemberModal({
  workspaceId,
  roles,
  onClose,
  onDone,
}: {
  workspaceId: string;
  roles: Option[];
  onClose: () => void;
  onDone: () => void;
}) {
  const form = useForm({
    initialValues: { email: "", name: "", roleId: "", general: "" },
    validate: {
      email: (value) => (/^\S+@\S+\.\S+$/.test(value.trim()) ? null : "Enter an email address."),
      roleId: (value) => (value ? null : "Pick a role."),
    },
  });
  const [{ fetching }, addMember] = useMutation(AddMemberDocument);

  async function submit(values: { email: string; name: string; roleId: string }) {
    const result = await addMember({ input: { workspaceId, email: values.email.trim(), name: values.name.trim(), roleId: values.roleId } });
    const payload = result.data?.addMember;
    if (!payload) return form.setFieldError("general", describeError(result.error));
    if (payload.userErrors.length) {
      const errors = byField(payload.userErrors);
      return form.setErrors({ email: errors.email, name: errors.name, roleId: errors.roleId, general: errors[""] ?? errors.workspaceId });
    }
    notifications.show({ color: "green", message: `${values.email.trim()} added.` });
    onDone();
    onClose();
  }

  return (
    <Modal opened onClose={onClose} title="Invite member">
      <form onSubmit={form.onSubmit(submit)} noValidate>
        <Stack>
          {form.errors.general && (
            <Alert color="red" role="alert">
              {form.errors.general}
            </Alert>
          )}
          <TextInput label="Email" type="email" required data-autofocus {...form.getInputProps("email")} />
          <TextInput label="Name" description="Optional; their identity provider may set it at sign-in." {...form.getInputProps("name")} />
          <Select label="Role" required data={roles} allowDeselect={false} {...form.getInputProps("roleId")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={fetching}>
              Invite
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function ChangeRoleModal({
  member,
  roles,
  onClose,
  onDone,
}: {
  member: { id: string; email: string; roleId: string };
  roles: Option[];
  onClose: () => void;
  onDone: () => void;
}) {
  const [roleId, setRoleId] = useState<string | null>(member.roleId);
  const [error, setError] = useState("");
  const [{ fetching }, update] = useMutation(UpdateMemberRoleDocument);

  async function submit() {
    if (!roleId) return setError("Pick a role.");
    const result = await update({ input: { id: member.id, roleId } });
    const payload = result.data?.updateMemberRole;
    if (!payload) return setError(describeError(result.error));
    if (payload.userErrors.length) return setError(Object.values(byField(payload.userErrors)).join(" "));
    notifications.show({ color: "green", message: `${member.email} is now ${payload.member?.role.name ?? "updated"}.` });
    onDone();
    onClose();
  }

  return (
    <Modal opened onClose={onClose} title={`Change role of ${member.email}`}>
      <Stack>
        <Select label="Role" data={roles} value={roleId} onChange={setRoleId} allowDeselect={false} error={error || undefined} data-autofocus />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={submit} loading={fetching}>
            Save
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function RemoveMemberModal({
  member,
  onClose,
  onDone,
}: {
  member: { id: string; email: string };
  onClose: () => void;
  onDone: () => void;
}) {
  const [error, setError] = useState("");
  const [{ fetching }, remove] = useMutation(RemoveMemberDocument);

  async function submit() {
    const result = await remove({ input: { id: member.id } });
    const payload = result.data?.removeMember;
    if (!payload) return setError(describeError(result.error));
    if (payload.userErrors.length) return setError(Object.values(byField(payload.userErrors)).join(" "));
    notifications.show({ color: "green", message: `${member.email} removed from the workspace.` });
    onDone();
    onClose();
  }

  return (
    <Modal opened onClose={onClose} title="Remove member">
      <Stack>
        <Text>
          Remove {member.email} from this workspace? Their grants and group memberships here go with them.
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" onClick={submit} loading={fetching}>
            Remove
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
