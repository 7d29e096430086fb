import { Alert, Button, Group, Modal, Stack, TextInput, Textarea } from "@mantine/core";
import { useForm } from "@mantine/form";
import { notifications } from "@mantine/notifications";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { CreateGroupDocument, UpdateGroupDocument } from "./documents";

/** Create a group, or edit one's name and description. */
export function GroupFormModal({
  workspaceId,
  group,
  opened,
  onClose,
  onSaved,
}: {
  workspaceId: string;
  group?: { id: string; name: string; description: string };
  opened: boolean;
  onClose: () => void;
  onSaved: (id: string) => void;
}) {
  const form = useForm({
    initialValues: { name: group?.name ?? "", description: group?.description ?? "", general: "" },
    validate: { name: (value) => (value.trim() ? null : "A group needs a name.") },
  });
  const [create, createGroup] = useMutation(CreateGroupDocument);
  const [update, updateGroup] = useMutation(UpdateGroupDocument);

  async function submit(values: { name: string; description: string }) {
    const result = group
      ? await updateGroup({ input: { id: group.id, name: values.name, description: values.description } })
      : await createGroup({ input: { workspaceId, name: values.name, description: values.description } });
    const payload = result.data ? ("updateGroup" in result.data ? result.data.updateGroup : result.data.createGroup) : null;
    if (!payload) return form.setFieldError("general", describeError(result.error));
    if (payload.userErrors.length) {
      const errors = byField(payload.userErrors);
      form.setErrors({ name: errors.name, description: errors.description, general: errors[""] ?? errors.id });
      return;
    }
    notifications.show({ color: "green", message: group ? "Group saved." : `Group ${values.name} created.` });
    form.reset();
    onSaved(payload.group?.id ?? "");
  }

  return (
    <Modal opened={opened} onClose={onClose} title={group ? "Edit group" : "Create group"}>
      <form onSubmit={form.onSubmit(submit)} noValidate>
        <Stack>
          {form.errors.general && (
            <Alert color="red" role="alert">
              {form.errors.general}
            </Alert>
          )}
          <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
          <Textarea label="Description" autosize minRows={2} {...form.getInputProps("description")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.fetching || update.fetching}>
              {group ? "Save" : "Create group"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
