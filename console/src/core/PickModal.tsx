import { Alert, Button, Group, Modal, MultiSelect, Stack } from "@mantine/core";
import { useState } from "react";

export interface Option {
  value: string;
  label: string;
}

/**
 * Pick several people or groups with a searchable multi-select, then act on them; `onSubmit`
 * answers an error to show, or null when done.
 */
export function PickModal({
  title,
  label,
  placeholder,
  action,
  options,
  onClose,
  onSubmit,
  busy,
}: {
  title: string;
  label: string;
  placeholder: string;
  action: string;
  options: Option[];
  onClose: () => void;
  onSubmit: (ids: string[]) => Promise<string | null>;
  busy: boolean;
}) {
  const [picked, setPicked] = useState<string[]>([]);
  const [error, setError] = useState("");

  async function submit() {
    if (!picked.length) return setError(`Pick at least one in ${label}.`);
    const problem = await onSubmit(picked);
    if (problem) return setError(problem);
    onClose();
  }

  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        <MultiSelect
          label={label}
          placeholder={placeholder}
          searchable
          data={options}
          value={picked}
          onChange={(value) => {
            setPicked(value);
            setError("");
          }}
          error={error || undefined}
          nothingFoundMessage="Nothing left to add"
          data-autofocus
        />
        {error && picked.length > 0 && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={submit} loading={busy}>
            {action}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
