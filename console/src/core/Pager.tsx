import { Button, Group, Text } from "@mantine/core";
import type { usePaging } from "./paging";

/** "12 clients · page 1" with Previous and Next, under a list paged by `usePaging`. */
export function Pager({
  total,
  noun,
  paging,
  pageInfo,
}: {
  total: number;
  noun: string; // plural, e.g. "clients"
  paging: ReturnType<typeof usePaging>;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}) {
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        {total} {noun} · page {paging.page}
      </Text>
      <Group gap="xs">
        <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
          Previous
        </Button>
        <Button variant="default" size="xs" disabled={!pageInfo.hasNextPage} onClick={() => paging.next(pageInfo.endCursor)}>
          Next
        </Button>
      </Group>
    </Group>
  );
}
