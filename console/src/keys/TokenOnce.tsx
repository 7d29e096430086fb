import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

/**
 * A new token, shown this once: the server keeps only its hash. Hide removes it from the page
 * (and from memory), which is also what leaving the page does.
 */
export function TokenOnce({ title, name, token, onHide }: { title: string; name: string; token: string; onHide: () => void }) {
  return (
    <Alert color="green" title={title} role="status" aria-label={title}>
      <Stack gap="xs">
        <Text size="sm" fw={600}>
          Copy the token of “{name}” now: you will not see it again.
        </Text>
        <Code block aria-label="New token" data-testid="new-token" style={{ wordBreak: "break-all" }}>
          {token}
        </Code>
        <Group gap="xs">
          <CopyButton value={token}>
            {({ copied, copy }) => (
              <Button size="xs" color={copied ? "teal" : undefined} onClick={copy}>
                {copied ? "Copied" : "Copy"}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={onHide}>
            Hide
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
