import { Anchor, Button, Checkbox, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { useClient, useQuery } from "urql";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import type { GrantedGroupFragment, GrantedPersonFragment } from "../gql/graphql";
import { AddGrantModal } from "../grants/AddGrantModal";
import { peopleLosingAccess } from "../grants/impact";
import { RevokeAllModal } from "../grants/RevokeAllModal";
import { RevokeModal } from "../grants/RevokeModal";
import { memberLabel } from "../members/labels";
import { OPERATIONS_PAGE, OperationsSection } from "./OperationsSection";

export const GrantedPersonFragmentDoc = graphql(`
  fragment GrantedPerson on Member {
    id
    user {
      email
      name
    }
    role {
      id
      name
    }
  }
`);

export const GrantedGroupFragmentDoc = graphql(`
  fragment GrantedGroup on Group {
    id
    name
    membersCount
    members(first: 100) {
      edges {
        node {
          id
        }
      }
    }
  }
`);

const ApiGrantsMoreDocument = graphql(`
  query ApiGrantsMore($id: ID!, $peopleAfter: String, $groupsAfter: String, $withPeople: Boolean!, $withGroups: Boolean!) {
    node(id: $id) {
      __typename
      ... on Api {
        id
        people(first: 100, after: $peopleAfter) @include(if: $withPeople) {
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              ...GrantedPerson
            }
          }
        }
        groups(first: 100, after: $groupsAfter) @include(if: $withGroups) {
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              ...GrantedGroup
            }
          }
        }
      }
    }
  }
`);

const ApiDetailDocument = graphql(`
  query ApiDetail($id: ID!, $operationsFirst: Int!) {
    node(id: $id) {
      __typename
      ... on Api {
        id
        name
        identifier
        baseUrl
        description
        createdAt
        peopleCount
        groupsCount
        people(first: 100) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              ...GrantedPerson
            }
          }
        }
        groups(first: 100) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              ...GrantedGroup
            }
          }
        }
        operations(first: $operationsFirst) {
          ...ApiOperationPage
        }
      }
    }
  }
`);

type Revocation = { memberIds: string[]; groupIds: string[] } | null;
type Person = GrantedPersonFragment;
type GrantedGroup = GrantedGroupFragment;
type Cursor = string | null | undefined;

/** The rest of the lists beyond the first page of 100, asked only when the person wants them. */
function useRestOfLists(apiId: string) {
  const client = useClient();
  const [rest, setRest] = useState<{ people: Person[]; groups: GrantedGroup[] }>({ people: [], groups: [] });
  const [loading, setLoading] = useState(false);
  const load = async (peopleAfter: Cursor, groupsAfter: Cursor) => {
    setLoading(true);
    const people: Person[] = [];
    const groups: GrantedGroup[] = [];
    while (peopleAfter || groupsAfter) {
      const result = await client
        .query(ApiGrantsMoreDocument, {
          id: apiId,
          peopleAfter: peopleAfter ?? null,
          groupsAfter: groupsAfter ?? null,
          withPeople: Boolean(peopleAfter),
          withGroups: Boolean(groupsAfter),
        })
        .toPromise();
      const node = result.data?.node;
      if (!node || node.__typename !== "Api") break;
      people.push(...(node.people?.edges.map((e) => e.node) ?? []));
      groups.push(...(node.groups?.edges.map((e) => e.node) ?? []));
      peopleAfter = node.people?.pageInfo.hasNextPage ? node.people.pageInfo.endCursor : null;
      groupsAfter = node.groups?.pageInfo.hasNextPage ? node.groups.pageInfo.endCursor : null;
    }
    setRest({ people, groups });
    setLoading(false);
  };
  return { rest, loading, load, reset: () => setRest({ people: [], groups: [] }) };
}

export function ApiDetailPage() {
  const { apiId = "" } = useParams();
  const { membership } = useWorkspace();
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: ApiDetailDocument,
    variables: { id: apiId, operationsFirst: OPERATIONS_PAGE },
  });
  const [selectedPeople, setSelectedPeople] = useState<string[]>([]);
  const [selectedGroups, setSelectedGroups] = useState<string[]>([]);
  const [adding, setAdding] = useState<"people" | "groups" | null>(null);
  const [revoking, setRevoking] = useState<Revocation>(null);
  const [revokingAll, setRevokingAll] = useState(false);
  const more = useRestOfLists(apiId);

  const api = data?.node.__typename === "Api" ? data.node : null;
  if (!api) {
    if (error) return <QueryError error={error} />;
    if (fetching) return <Loading />;
    return <Empty title="API not found" />;
  }
  const base = `/workspaces/${membership.workspace.id}`;
  const people = [...api.people.edges.map((e) => e.node), ...more.rest.people];
  const groups = [...api.groups.edges.map((e) => e.node), ...more.rest.groups];
  const incomplete = people.length < api.people.totalCount || groups.length < api.groups.totalCount;
  const directIds = people.map((p) => p.id);
  const grantedGroups = groups.map((g) => ({ id: g.id, memberIds: g.members.edges.map((e) => e.node.id) }));
  const losing = (memberIds: string[], groupIds: string[]) =>
    peopleLosingAccess(directIds, grantedGroups, memberIds, groupIds);
  const refresh = () => {
    more.reset();
    setSelectedPeople([]);
    setSelectedGroups([]);
    reexecute({ requestPolicy: "network-only" });
  };
  const toggle = (list: string[], id: string) => (list.includes(id) ? list.filter((x) => x !== id) : [...list, id]);

  return (
    <Stack>
      <Anchor component={Link} to={`${base}/apis`} size="sm">
        ← API access
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2}>{api.name}</Title>
          <Text size="sm" c="dimmed" ff="monospace">
            {api.identifier}
          </Text>
          <Text size="sm">
            URL: <span>{api.baseUrl || "—"}</span> · Created <DateTime value={api.createdAt} />
          </Text>
          {api.description && <Text size="sm">{api.description}</Text>}
        </Stack>
        <Group>
          <Button component={Link} to={`${base}/explain?api=${encodeURIComponent(api.id)}`} variant="default">
            Explain access
          </Button>
          <Guarded permission="revokeApiAccess">
            {(disabled) => (
              <Button color="red" variant="outline" disabled={disabled || api.peopleCount + api.groupsCount === 0} onClick={() => setRevokingAll(true)}>
                Revoke all access
              </Button>
            )}
          </Guarded>
        </Group>
      </Group>

      {incomplete && (
        <Group>
          <Text size="sm">
            Showing the first {api.people.edges.length} people and {api.groups.edges.length} groups.
          </Text>
          <Button
            size="xs"
            variant="default"
            loading={more.loading}
            onClick={() =>
              more.load(
                api.people.pageInfo.hasNextPage ? api.people.pageInfo.endCursor : null,
                api.groups.pageInfo.hasNextPage ? api.groups.pageInfo.endCursor : null,
              )
            }
          >
            Show all
          </Button>
        </Group>
      )}
      <Paper withBorder p="md" component="section" aria-labelledby="people-heading">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4" id="people-heading">
            People ({api.peopleCount})
          </Title>
          <Group gap="xs">
            <Guarded permission="revokeApiAccess">
              {(disabled) => (
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  disabled={disabled || !selectedPeople.length}
                  onClick={() => setRevoking({ memberIds: selectedPeople, groupIds: [] })}
                >
                  Revoke selected
                </Button>
              )}
            </Guarded>
            <Guarded permission="grantApiAccess">
              {(disabled) => (
                <Button size="xs" disabled={disabled} onClick={() => setAdding("people")}>
                  + Add
                </Button>
              )}
            </Guarded>
          </Group>
        </Group>
        {people.length === 0 ? (
          <Text c="dimmed" size="sm">
            Nobody has a direct grant to this API.
          </Text>
        ) : (
          <Table aria-label="People with a direct grant">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox
                    aria-label="Select all people"
                    checked={selectedPeople.length === people.length}
                    indeterminate={selectedPeople.length > 0 && selectedPeople.length < people.length}
                    onChange={() => setSelectedPeople(selectedPeople.length === people.length ? [] : directIds)}
                  />
                </Table.Th>
                <Table.Th>Person</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {people.map((person) => (
                <Table.Tr key={person.id}>
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${person.user.email}`}
                      checked={selectedPeople.includes(person.id)}
                      onChange={() => setSelectedPeople(toggle(selectedPeople, person.id))}
                    />
                  </Table.Td>
                  <Table.Td>{memberLabel(person.user)}</Table.Td>
                  <Table.Td>{person.role.name}</Table.Td>
                  <Table.Td ta="right">
                    <Guarded permission="revokeApiAccess">
                      {(disabled) => (
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          disabled={disabled}
                          aria-label={`Revoke ${person.user.email}`}
                          onClick={() => setRevoking({ memberIds: [person.id], groupIds: [] })}
                        >
                          Revoke
                        </Button>
                      )}
                    </Guarded>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="groups-heading">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4" id="groups-heading">
            Groups ({api.groupsCount})
          </Title>
          <Group gap="xs">
            <Guarded permission="revokeApiAccess">
              {(disabled) => (
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  disabled={disabled || !selectedGroups.length}
                  onClick={() => setRevoking({ memberIds: [], groupIds: selectedGroups })}
                >
                  Revoke selected
                </Button>
              )}
            </Guarded>
            <Guarded permission="grantApiAccess">
              {(disabled) => (
                <Button size="xs" disabled={disabled} onClick={() => setAdding("groups")}>
                  + Add
                </Button>
              )}
            </Guarded>
          </Group>
        </Group>
        {groups.length === 0 ? (
          <Text c="dimmed" size="sm">
            No group has a grant to this API.
          </Text>
        ) : (
          <Table aria-label="Groups with a grant">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <Checkbox
                    aria-label="Select all groups"
                    checked={selectedGroups.length === groups.length}
                    indeterminate={selectedGroups.length > 0 && selectedGroups.length < groups.length}
                    onChange={() => setSelectedGroups(selectedGroups.length === groups.length ? [] : groups.map((g) => g.id))}
                  />
                </Table.Th>
                <Table.Th>Group</Table.Th>
                <Table.Th>Members</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {groups.map((group) => (
                <Table.Tr key={group.id}>
                  <Table.Td>
                    <Checkbox
                      aria-label={`Select ${group.name}`}
                      checked={selectedGroups.includes(group.id)}
                      onChange={() => setSelectedGroups(toggle(selectedGroups, group.id))}
                    />
                  </Table.Td>
                  <Table.Td>{group.name}</Table.Td>
                  <Table.Td>{group.membersCount}</Table.Td>
                  <Table.Td ta="right">
                    <Guarded permission="revokeApiAccess">
                      {(disabled) => (
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          disabled={disabled}
                          aria-label={`Revoke ${group.name}`}
                          onClick={() => setRevoking({ memberIds: [], groupIds: [group.id] })}
                        >
                          Revoke
                        </Button>
                      )}
                    </Guarded>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>

      <OperationsSection apiId={api.id} apiName={api.name} operations={api.operations} onChanged={() => reexecute({ requestPolicy: "network-only" })} />

      {adding && (
        <AddGrantModal
          apiId={api.id}
          kind={adding}
          exclude={adding === "people" ? directIds : groups.map((g) => g.id)}
          onClose={() => setAdding(null)}
          onDone={refresh}
        />
      )}
      {revoking && (
        <RevokeModal
          apiId={api.id}
          memberIds={revoking.memberIds}
          groupIds={revoking.groupIds}
          losing={losing(revoking.memberIds, revoking.groupIds)}
          opened
          onClose={() => setRevoking(null)}
          onDone={refresh}
        />
      )}
      <RevokeAllModal
        apiId={api.id}
        apiName={api.name}
        losing={losing(directIds, grantedGroups.map((g) => g.id))}
        opened={revokingAll}
        onClose={() => setRevokingAll(false)}
        onDone={refresh}
      />
    </Stack>
  );
}
