import { Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { GroupFormModal } from "./GroupFormModal";

const GroupListDocument = graphql(`
  query GroupList($workspaceId: ID!, $first: Int!, $after: String, $search: String) {
    workspace(id: $workspaceId) {
      id
      groups(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            name
            description
            membersCount
            createdAt
          }
        }
      }
    }
  }
`);

export function GroupListPage() {
  const { membership } = useWorkspace();
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const [creating, setCreating] = useState(false);
  const paging = usePaging();
  const [{ data, error, fetching }] = useQuery({
    query: GroupListDocument,
    variables: { workspaceId: membership.workspace.id, first: 25, after: paging.after, search: debounced || null },
  });
  const groups = data?.workspace.groups;
  const base = `/workspaces/${membership.workspace.id}/groups`;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Groups</Title>
        <Guarded permission="manageGroups">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setCreating(true)}>
              Create group
            </Button>
          )}
        </Guarded>
      </Group>
      <TextInput
        label="Search"
        placeholder="Group name"
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          paging.reset();
        }}
        w={280}
      />
      {error && <QueryError error={error} />}
      {!groups && fetching && <Loading />}
      {groups && groups.totalCount === 0 && <Empty title="No groups">{debounced ? "Try another search." : "Create a group to grant APIs to a team."}</Empty>}
      {groups && groups.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={520}>
            <Table highlightOnHover aria-label="Groups">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Group</Table.Th>
                  <Table.Th>Members</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {groups.edges.map(({ node }) => (
                  <Table.Tr key={node.id}>
                    <Table.Td>
                      <Link to={`${base}/${node.id}`}>{node.name}</Link>
                      {node.description && (
                        <Text size="xs" c="dimmed">
                          {node.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{node.membersCount}</Table.Td>
                    <Table.Td>
                      <DateTime value={node.createdAt} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {groups.totalCount} groups · page {paging.page}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button variant="default" size="xs" disabled={!groups.pageInfo.hasNextPage} onClick={() => paging.next(groups.pageInfo.endCursor)}>
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}
      {creating && (
        <GroupFormModal
          workspaceId={membership.workspace.id}
          opened
          onClose={() => setCreating(false)}
          onSaved={(id) => navigate(`${base}/${id}`)}
        />
      )}
    </Stack>
  );
}
