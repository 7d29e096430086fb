import { Alert, Button, Group, List, Modal, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { DeleteApiAccessesDocument } from "./documents";

/** Deletes one or many keys, all or nothing, after saying what stops working. */
export function DeleteModal({
  keys,
  onClose,
  onDeleted,
}: {
  keys: { id: string; name: string }[];
  onClose: () => void;
  onDeleted: (ids: string[]) => void;
}) {
  const [error, setError] = useState("");
  const [{ fetching }, remove] = useMutation(DeleteApiAccessesDocument);
  const one = keys.length === 1;
  const title = one ? `Delete ${keys[0]?.name ?? "this key"}?` : `Delete ${keys.length} API Access keys?`;

  async function submit() {
    const result = await remove({ input: { ids: keys.map((k) => k.id) } });
    const payload = result.data?.deleteApiAccesses;
    if (!payload) return setError(describeError(result.error));
    if (payload.userErrors.length) return setError(Object.values(byField(payload.userErrors)).join(" "));
    onDeleted(payload.deletedApiAccessIds);
  }

  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        <Text size="sm">
          {one ? "Its token stops" : "Their tokens stop"} working at once, including any grace period. This cannot be
          undone.
        </Text>
        {!one && (
          <List size="sm" aria-label="Keys to delete">
            {keys.map((k) => (
              <List.Item key={k.id}>{k.name}</List.Item>
            ))}
          </List>
        )}
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            Cancel
          </Button>
          <Button color="red" loading={fetching} onClick={() => void submit()}>
            {one ? "Delete" : `Delete ${keys.length} keys`}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
