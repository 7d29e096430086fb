import { Alert, Button, Group, Modal, MultiSelect, Stack } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { memberLabel } from "../members/labels";
import { useWorkspace } from "./workspace";

export interface Option {
  value: string;
  label: string;
}

const PickOptionsDocument = graphql(`
  query PickOptions($workspaceId: ID!, $search: String, $people: Boolean!, $groups: Boolean!) {
    workspace(id: $workspaceId) {
      id
      members(first: 50, filter: { search: $search }) @include(if: $people) {
        edges {
          node {
            id
            user {
              email
              name
            }
          }
        }
      }
      groups(first: 50, search: $search) @include(if: $groups) {
        edges {
          node {
            id
            name
          }
        }
      }
    }
  }
`);

/**
 * Pick several people or groups with a multi-select searched on the server (any workspace
 * size), then act on them (`labels` names them); `onSubmit` answers an error to show, or null
 * when done.
 */
export function PickModal({
  title,
  kind,
  action,
  exclude,
  onClose,
  onSubmit,
  busy,
}: {
  title: string;
  kind: "people" | "groups";
  action: string;
  exclude: string[]; // already there: not offered
  onClose: () => void;
  onSubmit: (ids: string[], labels: Record<string, string>) => Promise<string | null>;
  busy: boolean;
}) {
  const { membership } = useWorkspace();
  const [picked, setPicked] = useState<string[]>([]);
  const [labels, setLabels] = useState<Record<string, string>>({});
  const [search, setSearch] = useState("");
  const [term] = useDebouncedValue(search, 250);
  const [error, setError] = useState("");
  const [{ data }] = useQuery({
    query: PickOptionsDocument,
    variables: { workspaceId: membership.workspace.id, search: term || null, people: kind === "people", groups: kind === "groups" },
  });
  const found: Option[] =
    kind === "people"
      ? (data?.workspace.members?.edges ?? []).map(({ node }) => ({ value: node.id, label: memberLabel(node.user) }))
      : (data?.workspace.groups?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }));
  const options = [
    ...picked.map((id) => ({ value: id, label: labels[id] ?? id })),
    ...found.filter((o) => !exclude.includes(o.value) && !picked.includes(o.value)),
  ];
  const label = kind === "people" ? "People" : "Groups";

  async function submit() {
    if (!picked.length) return setError(kind === "people" ? "Pick at least one person." : "Pick at least one group.");
    const problem = await onSubmit(picked, labels);
    if (problem) return setError(problem);
    onClose();
  }

  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        <MultiSelect
          label={label}
          placeholder={kind === "people" ? "Search by name or email" : "Search by name"}
          searchable
          searchValue={search}
          onSearchChange={setSearch}
          filter={({ options: shown }) => shown}
          data={options}
          value={picked}
          onChange={(value) => {
            setLabels((known) => ({ ...known, ...Object.fromEntries(options.map((o) => [o.value, o.label])) }));
            setPicked(value);
            setError("");
          }}
          error={picked.length ? undefined : error || undefined}
          nothingFoundMessage="Nobody left to add"
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
