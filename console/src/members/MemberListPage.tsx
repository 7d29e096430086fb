import { ActionIcon, Badge, Button, Group, Menu, Select, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useNavigate } from "react-router";
import { useQuery } from "urql";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import { usePaging } from "../core/paging";
import { Empty, Loading, QueryError } from "../core/states";
import { permissionOf, useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { memberLabel } from "./labels";
import { ChangeRoleModal, InviteMemberModal, RemoveMemberModal } from "./MemberModals";

const MemberListDocument = graphql(`
  query MemberList($workspaceId: ID!, $first: Int!, $after: String, $filter: MemberFilter, $withRoles: Boolean!) {
    workspace(id: $workspaceId) {
      id
      members(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            id
            kind
            createdAt
            user {
              email
              name
            }
            role {
              id
              name
            }
            groups(first: 5) {
              totalCount
              edges {
                node {
                  id
                  name
                }
              }
            }
          }
        }
      }
      roles(first: 100) @include(if: $withRoles) {
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

type Target = { id: string; email: string; roleId: string };

export function MemberListPage() {
  const { membership } = useWorkspace();
  const navigate = useNavigate();
  const withRoles = permissionOf(membership, "getRole").allowed;
  const [search, setSearch] = useState("");
  const [roleFilter, setRoleFilter] = useState<string | null>(null);
  const [debounced] = useDebouncedValue(search, 250);
  const paging = usePaging();
  const [inviting, setInviting] = useState(false);
  const [changing, setChanging] = useState<Target | null>(null);
  const [removing, setRemoving] = useState<Target | null>(null);
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: MemberListDocument,
    variables: {
      workspaceId: membership.workspace.id,
      first: 25,
      after: paging.after,
      withRoles,
      filter: { search: debounced || null, roleIds: roleFilter ? [roleFilter] : null },
    },
  });
  const members = data?.workspace.members;
  const roles = (data?.workspace.roles?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }));
  const base = `/workspaces/${membership.workspace.id}`;
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const noRoles = withRoles ? "" : `Your role (${membership.roleName}) lacks the getRole permission, needed to pick a role.`;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Members</Title>
        <Guarded permission="manageMembers">
          {(disabled) => (
            <Button disabled={disabled || !withRoles} title={noRoles || undefined} onClick={() => setInviting(true)}>
              Invite member
            </Button>
          )}
        </Guarded>
      </Group>
      <Group align="flex-end">
        <TextInput
          label="Search"
          placeholder="Name or email"
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            paging.reset();
          }}
          w={260}
        />
        <Select
          label="Role"
          placeholder="Any role"
          clearable
          disabled={!withRoles}
          data={roles}
          value={roleFilter}
          onChange={(value) => {
            setRoleFilter(value);
            paging.reset();
          }}
          w={200}
        />
      </Group>
      {error && <QueryError error={error} />}
      {!members && fetching && <Loading />}
      {members && members.totalCount === 0 && <Empty title="No members match">Try another search.</Empty>}
      {members && members.totalCount > 0 && (
        <>
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover aria-label="Members">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Person</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Groups</Table.Th>
                  <Table.Th>Added</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.edges.map(({ node }) => {
                  const target = { id: node.id, email: node.user.email, roleId: node.role.id };
                  return (
                    <Table.Tr key={node.id}>
                      <Table.Td>
                        {memberLabel(node.user)}
                        {node.kind === "SERVICE" && (
                          <Badge ml="xs" size="xs" variant="outline" color="gray">
                            service
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>{node.role.name}</Table.Td>
                      <Table.Td>
                        <Text size="sm">
                          {node.groups.edges.map((e) => e.node.name).join(", ") || "—"}
                          {node.groups.totalCount > node.groups.edges.length && ` +${node.groups.totalCount - node.groups.edges.length}`}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <DateTime value={node.createdAt} />
                      </Table.Td>
                      <Table.Td ta="right">
                        <Menu position="bottom-end">
                          <Menu.Target>
                            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${node.user.email}`}>
                              ⋯
                            </ActionIcon>
                          </Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Item onClick={() => navigate(`${base}/apis?person=${encodeURIComponent(node.id)}`)}>
                              View API access
                            </Menu.Item>
                            <Menu.Item onClick={() => navigate(`${base}/explain?member=${encodeURIComponent(node.id)}`)}>
                              Explain access
                            </Menu.Item>
                            <Menu.Item
                              disabled={!permissionOf(membership, "manageMembers").allowed || !withRoles}
                              onClick={() => setChanging(target)}
                            >
                              Change role
                            </Menu.Item>
                            <Menu.Item
                              color="red"
                              disabled={!permissionOf(membership, "manageMembers").allowed}
                              onClick={() => setRemoving(target)}
                            >
                              Remove
                            </Menu.Item>
                          </Menu.Dropdown>
                        </Menu>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {members.totalCount} members · page {paging.page}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={paging.page === 1} onClick={paging.previous}>
                Previous
              </Button>
              <Button variant="default" size="xs" disabled={!members.pageInfo.hasNextPage} onClick={() => paging.next(members.pageInfo.endCursor)}>
                Next
              </Button>
            </Group>
          </Group>
        </>
      )}
      {inviting && <InviteMemberModal workspaceId={membership.workspace.id} roles={roles} onClose={() => setInviting(false)} onDone={refresh} />}
      {changing && <ChangeRoleModal member={changing} roles={roles} onClose={() => setChanging(null)} onDone={refresh} />}
      {removing && <RemoveMemberModal member={removing} onClose={() => setRemoving(null)} onDone={refresh} />}
    </Stack>
  );
}
