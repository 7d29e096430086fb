import { Alert, Button, Group, Modal, Stack, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { RevokeAllApiAccessDocument } from "./documents";

export const CONFIRMATION = "REVOKE";

/** "Revoke all access": every direct and group grant goes once the user types REVOKE. */
export function RevokeAllModal({
  apiId,
  apiName,
  losing,
  opened,
  onClose,
  onDone,
}: {
  apiId: string;
  apiName: string;
  losing: number;
  opened: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [typed, setTyped] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, revokeAll] = useMutation(RevokeAllApiAccessDocument);

  function close() {
    setTyped("");
    setErrors({});
    onClose();
  }

  async function submit() {
    const result = await revokeAll({ input: { apiId, confirmation: typed } });
    const payload = result.data?.revokeAllApiAccess;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length) return setErrors(byField(payload.userErrors));
    notifications.show({ color: "green", message: `All access to ${apiName} revoked.` });
    close();
    onDone();
  }

  return (
    <Modal opened={opened} onClose={close} title="Revoke all access">
      <Stack>
        <Alert color="red" title="This cannot be undone" role="note">
          Every direct grant and every group grant of {apiName} will be removed: {losing}{" "}
          {losing === 1 ? "person loses" : "people lose"} access (except roles that reach all APIs).
        </Alert>
        {errors[""] && (
          <Alert color="red" role="alert">
            {errors[""]}
          </Alert>
        )}
        <TextInput
          label={`Type ${CONFIRMATION} to confirm`}
          value={typed}
          onChange={(event) => setTyped(event.currentTarget.value)}
          error={errors.confirmation}
          autoComplete="off"
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button color="red" disabled={typed !== CONFIRMATION} loading={fetching} onClick={submit}>
            Revoke all access
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
