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
    $peopleSearch: String
    $groupsSearch: String
    $personId: ID!
    $withPerson: Boolean!
    $groupId: ID!
    $withGroup: Boolean!
  ) {
    person: node(id: $personId) @include(if: $withPerson) {
      ... on Member {
        id
        user {
          email
          name
        }
      }
    }
    group: node(id: $groupId) @include(if: $withGroup) {
      ... on Group {
        id
        name
      }
    }
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
      members(first: 50, filter: { search: $peopleSearch }) @include(if: $withPeople) {
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
      groups(first: 50, search: $groupsSearch) @include(if: $withGroups) {
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
  // The filters' choices are searched on the server; chosen ones keep their labels here, and a
  // link's preselection comes by id in the screen's one request.
  const [peopleSearch, setPeopleSearch] = useState("");
  const [groupsSearch, setGroupsSearch] = useState("");
  const [peopleTerm] = useDebouncedValue(peopleSearch, 250);
  const [groupsTerm] = useDebouncedValue(groupsSearch, 250);
  const [labels, setLabels] = useState<Record<string, string>>({});
  const [linked] = useState({ person: params.get("person") ?? "", group: params.get("group") ?? "" });
  const paging = usePaging();
  const [pageSize, setPageSize] = useState("25");
  const [{ data, error, fetching }] = useQuery({
    query: ApiListDocument,
    variables: {
      workspaceId: membership.workspace.id,
      first: Number(pageSize),
      withPeople,
      withGroups,
      peopleSearch: peopleTerm || null,
      groupsSearch: groupsTerm || null,
      personId: linked.person,
      withPerson: Boolean(linked.person && withPeople),
      groupId: linked.group,
      withGroup: Boolean(linked.group && withGroups),
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
  const known = { ...labels };
  if (data?.person && "user" in data.person) known[data.person.id] = memberLabel(data.person.user);
  if (data?.group && "name" in data.group) known[data.group.id] = data.group.name;
  const choices = (found: { value: string; label: string }[], chosen: string[]) => [
    ...chosen.map((id) => ({ value: id, label: known[id] ?? "…" })),
    ...found.filter((o) => !chosen.includes(o.value)),
  ];
  const peopleFound = (workspace?.members?.edges ?? []).map(({ node }) => ({ value: node.id, label: memberLabel(node.user) }));
  const groupsFound = (workspace?.groups?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }));
  const remember = (options: { value: string; label: string }[]) =>
    setLabels((current) => ({ ...current, ...Object.fromEntries(options.map((o) => [o.value, o.label])) }));

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
          data={choices(peopleFound, people)}
          filter={({ options }) => options}
          searchValue={peopleSearch}
          onSearchChange={setPeopleSearch}
          value={people}
          onChange={(value) => {
            remember(peopleFound);
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
          data={choices(groupsFound, groups)}
          filter={({ options }) => options}
          searchValue={groupsSearch}
          onSearchChange={setGroupsSearch}
          value={groups}
          onChange={(value) => {
            remember(groupsFound);
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
