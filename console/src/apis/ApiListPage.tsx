import { ActionIcon, Button, Group, Menu, MultiSelect, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { permissionOf, useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { memberLabel } from "../members/labels";

export const PAGE_SIZES = ["25", "50", "100"];

const ApiListDocument = graphql(`
  query ApiList(
    $workspaceId: ID!
    $first: Int!
    $after: String
    $filter: ApiFilter
    $withPeople: Boolean!
    $withGroups: Boolean!
  ) {
    workspace(id: $workspaceId) {
      id
      apis(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            name
            identifier
            peopleCount
            groupsCount
          }
        }
      }
      members(first: 100) @include(if: $withPeople) {
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
      groups(first: 100) @include(if: $withGroups) {
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

export function ApiListPage() {
  const { membership } = useWorkspace();
  // The filters' choices need these permissions; without them the filter is disabled.
  const withPeople = permissionOf(membership, "getMember").allowed;
  const withGroups = permissionOf(membership, "getGroup").allowed;
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  // ?person= and ?group= preselect the filters (links from a member's or a group's page).
  const [params] = useSearchParams();
  const [people, setPeople] = useState<string[]>(params.getAll("person"));
  const [groups, setGroups] = useState<string[]>(params.getAll("group"));
  const [debounced] = useDebouncedValue(search, 250);
  const paging = usePaging();
  const [pageSize, setPageSize] = useState("25");
  const [{ data, error, fetching }] = useQuery({
    query: ApiListDocument,
    variables: {
      workspaceId: membership.workspace.id,
      first: Number(pageSize),
      withPeople,
      withGroups,
      after: paging.after,
      filter: {
        search: debounced || null,
        peopleIds: people.length ? people : null,
        groupIds: groups.length ? groups : null,
      },
    },
  });
  const workspace = data?.workspace;
  const base = `/workspaces/${membership.workspace.id}/apis`;

  return (
    <Stack>
      <Title order={2}>API access</Title>
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label="Search"
          placeholder="Name or identifier"
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            paging.reset();
          }}
          w={240}
        />
        <MultiSelect
          label="People"
          placeholder="Filter by people"
          searchable
          clearable
          disabled={!withPeople}
          data={(workspace?.members?.edges ?? []).map(({ node }) => ({ value: node.id, label: memberLabel(node.user) }))}
          value={people}
          onChange={(value) => {
            setPeople(value);
            paging.reset();
          }}
          w={280}
        />
        <MultiSelect
          label="Groups"
          placeholder="Filter by groups"
          searchable
          clearable
          disabled={!withGroups}
          data={(workspace?.groups?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }))}
          value={groups}
          onChange={(value) => {
            setGroups(value);
            paging.reset();
          }}
          w={240}
        />
      </Group>
      {error && <QueryError error={error} />}
      {!workspace && fetching && <Loading />}
      {workspace && workspace.apis.totalCount === 0 && (
        <Empty title="No APIs match">
          {debounced || people.length || groups.length ? "Try other filters." : "You have access to no API yet."}
        </Empty>
      )}
      {workspace && workspace.apis.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={560}>
            <Table highlightOnHover aria-label="APIs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>API</Table.Th>
                  <Table.Th>People</Table.Th>
                  <Table.Th>Groups</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {workspace.apis.edges.map(({ node }) => (
                  <Table.Tr key={node.id}>
                    <Table.Td>
                      <Link to={`${base}/${node.id}`}>{node.name}</Link>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {node.identifier}
                      </Text>
                    </Table.Td>
                    <Table.Td>{node.peopleCount}</Table.Td>
                    <Table.Td>{node.groupsCount}</Table.Td>
                    <Table.Td ta="right">
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${node.name}`}>
                            ⋯
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item onClick={() => navigate(`${base}/${node.id}`)}>View API access</Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {workspace.apis.totalCount} APIs · page {paging.page}
            </Text>
            <Group gap="xs">
              <Select
                aria-label="Rows per page"
                size="xs"
                w={90}
                data={PAGE_SIZES}
                value={pageSize}
                allowDeselect={false}
                onChange={(value) => {
                  setPageSize(value ?? "25");
                  paging.reset();
                }}
              />
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button
                variant="default"
                size="xs"
                disabled={!workspace.apis.pageInfo.hasNextPage}
                onClick={() => paging.next(workspace.apis.pageInfo.endCursor)}
              >
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}
    </Stack>
  );
}
