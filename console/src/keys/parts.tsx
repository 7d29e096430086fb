import { Badge, Group, Text } from "@mantine/core";

export function StatusBadge({ status }: { status: string }) {
  return (
    // Darker than Mantine's darkest green and red, for white text above 4.5:1.
    <Badge color={status === "ACTIVE" ? "#1b5e20" : "#a61b1b"} variant="filled" tt="none" style={{ flexShrink: 0 }}>
      {status === "ACTIVE" ? "Active" : "Expired"}
    </Badge>
  );
}

export function TagList({ tags }: { tags: readonly string[] }) {
  if (!tags.length) return <Text c="dimmed">None</Text>;
  return (
    <Group gap={4}>
      {tags.map((tag) => (
        <Badge key={tag} variant="outline" color="gray.8" tt="none">
          {tag}
        </Badge>
      ))}
    </Group>
  );
}
