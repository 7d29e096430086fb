import { Alert, Center, Loader, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { describeError } from "./errors";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-label={label} aria-busy="true">
      <Loader size="sm" />
    </Center>
  );
}

export function QueryError({ error }: { error: CombinedError }) {
  return (
    <Alert color="red" title="Could not load this page" role="alert">
      {describeError(error)}
    </Alert>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Stack align="center" gap={4} py="xl">
      <Text fw={600}>{title}</Text>
      {children && (
        <Text c="dimmed" size="sm">
          {children}
        </Text>
      )}
    </Stack>
  );
}
