import { Alert, Button, Group, Modal, MultiSelect, Stack } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { GrantApiAccessDocument } from "./documents";

export interface Option {
  value: string;
  label: string;
}

/** "+ Add": grant the API to more people or groups, picked with a searchable multi-select. */
export function AddGrantModal({
  apiId,
  kind,
  options,
  opened,
  onClose,
  onDone,
}: {
  apiId: string;
  kind: "people" | "groups";
  options: Option[];
  opened: boolean;
  onClose: () => void;
  onDone: () => void;
}) {
  const [picked, setPicked] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, grant] = useMutation(GrantApiAccessDocument);
  const field = kind === "people" ? "memberIds" : "groupIds";

  function close() {
    setPicked([]);
    setErrors({});
    onClose();
  }

  async function submit() {
    if (!picked.length) {
      setErrors({ [field]: kind === "people" ? "Pick at least one person." : "Pick at least one group." });
      return;
    }
    const result = await grant({ input: { apiId, [field]: picked } });
    const payload = result.data?.grantApiAccess;
    if (!payload) {
      setErrors({ "": describeError(result.error) });
      return;
    }
    if (payload.userErrors.length) {
      setErrors(byField(payload.userErrors));
      return;
    }
    notifications.show({ color: "green", message: `Access granted to ${picked.length} ${kind === "people" ? (picked.length === 1 ? "person" : "people") : picked.length === 1 ? "group" : "groups"}.` });
    close();
    onDone();
  }

  const generalError = errors[""] ?? errors.apiId;
  return (
    <Modal opened={opened} onClose={close} title={kind === "people" ? "Add people" : "Add groups"}>
      <Stack>
        {generalError && (
          <Alert color="red" role="alert">
            {generalError}
          </Alert>
        )}
        <MultiSelect
          label={kind === "people" ? "People" : "Groups"}
          placeholder={kind === "people" ? "Search by name or email" : "Search by name"}
          searchable
          data={options}
          value={picked}
          onChange={setPicked}
          error={errors[field]}
          nothingFoundMessage="Nobody left to add"
          comboboxProps={{ withinPortal: true }}
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button onClick={submit} loading={fetching}>
            Grant access
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
