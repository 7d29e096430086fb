import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

/**
 * An app's new token, shown this once inside its dialog: the server keeps only its hash, and
 * the token lives in the dialog's state alone (never storage, the address or the cache), so
 * Done forgets it.
 */
export function TokenShown({ name, token, onDone }: { name: string; token: string; onDone: () => void }) {
  return (
    <Stack>
      <Alert color="green" title={`The token of “${name}”`} role="status">
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            Copy it now: you will not see it again.
          </Text>
          <Code block aria-label="New token" data-testid="new-token" style={{ wordBreak: "break-all" }}>
            {token}
          </Code>
        </Stack>
      </Alert>
      <Group justify="flex-end">
        <CopyButton value={token}>
          {({ copied, copy }) => (
            <Button variant="default" color={copied ? "teal" : undefined} onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}
