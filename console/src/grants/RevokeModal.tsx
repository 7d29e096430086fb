import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { RevokeApiAccessDocument } from "./documents";
import { impactSentence } from "./impact";

/** Confirms one or several revocations, saying who loses access. */
export function RevokeModal({
  apiId,
  memberIds,
  groupIds,
  losing,
  opened,
  onClose,
  onDone,
}: {
  apiId: string;
  memberIds: string[];
  groupIds: string[];
  losing: number;
  opened: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [error, setError] = useState("");
  const [{ fetching }, revoke] = useMutation(RevokeApiAccessDocument);

  async function submit() {
    const result = await revoke({ input: { apiId, memberIds, groupIds } });
    const payload = result.data?.revokeApiAccess;
    if (!payload) return setError(describeError(result.error));
    if (payload.userErrors.length) return setError(Object.values(byField(payload.userErrors)).join(" "));
    notifications.show({ color: "green", message: "Access revoked." });
    setError("");
    onClose();
    onDone();
  }

  return (
    <Modal opened={opened} onClose={onClose} title="Revoke access">
      <Stack>
        <Text>{impactSentence(memberIds.length, groupIds.length, losing)}</Text>
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
            Revoke
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
