import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useState, type ReactNode } from "react";

/**
 * Asks before an action that cannot be taken back, saying what it does; `onConfirm` answers an
 * error to show (the dialog stays), or null when done.
 */
export function ConfirmModal({
  title,
  children,
  action,
  danger = false,
  onClose,
  onConfirm,
}: {
  title: string;
  children: ReactNode;
  action: string;
  danger?: boolean;
  onClose: () => void;
  onConfirm: () => Promise<string | null>;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function confirm() {
    setBusy(true);
    const problem = await onConfirm();
    setBusy(false);
    if (problem) setError(problem);
  }

  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        <Text size="sm" component="div">
          {children}
        </Text>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            Cancel
          </Button>
          <Button color={danger ? "red" : undefined} loading={busy} onClick={() => void confirm()}>
            {action}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
