import { Alert, Anchor, Button, Group, Modal, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useClient, useMutation, useQuery } from "urql";
import { DateTime } from "../core/dates";
import { byField, describeError } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import type { GrantedPersonFragment } from "../gql/graphql";
import { PickModal } from "../core/PickModal";
import { memberLabel } from "../members/labels";
import { AddGroupMembersDocument, DeleteGroupDocument, RemoveGroupMembersDocument } from "./documents";
import { GroupFormModal } from "./GroupFormModal";

const GroupDetailDocument = graphql(`
  query GroupDetail($id: ID!) {
    node(id: $id) {
      __typename
      ... on Group {
        id
        name
        description
        createdAt
        membersCount
        members(first: 100) {
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
      }
    }
  }
`);

const GroupMembersMoreDocument = graphql(`
  query GroupMembersMore($id: ID!, $after: String) {
    node(id: $id) {
      __typename
      ... on Group {
        id
        members(first: 100, after: $after) {
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
      }
    }
  }
`);

export function GroupDetailPage() {
  const { groupId = "" } = useParams();
  const { membership } = useWorkspace();
  const navigate = useNavigate();
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: GroupDetailDocument,
    variables: { id: groupId },
  });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [problem, setProblem] = useState("");
  const [addState, addMembers] = useMutation(AddGroupMembersDocument);
  const [, removeMembers] = useMutation(RemoveGroupMembersDocument);
  const [deleteState, deleteGroup] = useMutation(DeleteGroupDocument);
  const client = useClient();
  const [rest, setRest] = useState<GrantedPersonFragment[]>([]);
  const [loadingRest, setLoadingRest] = useState(false);

  const group = data?.node.__typename === "Group" ? data.node : null;
  if (!group) {
    if (error) return <QueryError error={error} />;
    if (fetching) return <Loading />;
    return <Empty title="Group not found" />;
  }
  const base = `/workspaces/${membership.workspace.id}`;
  const members = [...group.members.edges.map((e) => e.node), ...rest];
  // Beyond the first 100, the rest of the members come when asked for.
  const showAll = async () => {
    setLoadingRest(true);
    const more: GrantedPersonFragment[] = [];
    let after = group.members.pageInfo.endCursor;
    while (after) {
      const result = await client.query(GroupMembersMoreDocument, { id: group.id, after }).toPromise();
      const node = result.data?.node;
      if (!node || node.__typename !== "Group") break;
      more.push(...node.members.edges.map((e) => e.node));
      after = node.members.pageInfo.hasNextPage ? node.members.pageInfo.endCursor : null;
    }
    setRest(more);
    setLoadingRest(false);
  };
  const refresh = () => {
    setRest([]);
    reexecute({ requestPolicy: "network-only" });
  };

  const remove = async (memberId: string, email: string) => {
    const result = await removeMembers({ input: { groupId: group.id, memberIds: [memberId] } });
    const payload = result.data?.removeGroupMembers;
    if (!payload) return setProblem(describeError(result.error));
    if (payload.userErrors.length) return setProblem(Object.values(byField(payload.userErrors)).join(" "));
    setProblem("");
    notifications.show({ color: "green", message: `${email} removed from ${group.name}.` });
    refresh();
  };

  const confirmDelete = async () => {
    const result = await deleteGroup({ input: { id: group.id } });
    const payload = result.data?.deleteGroup;
    if (!payload) return setProblem(describeError(result.error));
    if (payload.userErrors.length) return setProblem(Object.values(byField(payload.userErrors)).join(" "));
    notifications.show({ color: "green", message: `Group ${group.name} deleted.` });
    navigate(`${base}/groups`);
  };

  return (
    <Stack>
      <Anchor component={Link} to={`${base}/groups`} size="sm">
        ← Groups
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <Stack gap={2}>
          <Title order={2}>{group.name}</Title>
          {group.description && <Text size="sm">{group.description}</Text>}
          <Text size="sm" c="dimmed">
            Created <DateTime value={group.createdAt} />
          </Text>
        </Stack>
        <Group>
          <Button component={Link} to={`${base}/apis?group=${encodeURIComponent(group.id)}`} variant="default">
            APIs this group grants
          </Button>
          <Guarded permission="manageGroups">
            {(disabled) => (
              <Button variant="default" disabled={disabled} onClick={() => setEditing(true)}>
                Edit
              </Button>
            )}
          </Guarded>
          <Guarded permission="manageGroups">
            {(disabled) => (
              <Button color="red" variant="outline" disabled={disabled} onClick={() => setDeleting(true)}>
                Delete
              </Button>
            )}
          </Guarded>
        </Group>
      </Group>
      {problem && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setProblem("")}>
          {problem}
        </Alert>
      )}
      <Paper withBorder p="md" component="section" aria-labelledby="members-heading">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4" id="members-heading">
            Members ({group.membersCount})
          </Title>
          {members.length < group.membersCount && (
            <Button size="xs" variant="default" loading={loadingRest} onClick={showAll}>
              Show all
            </Button>
          )}
          <Guarded permission="manageGroups">
            {(disabled) => (
              <Button size="xs" disabled={disabled} onClick={() => setAdding(true)}>
                + Add
              </Button>
            )}
          </Guarded>
        </Group>
        {members.length === 0 ? (
          <Text c="dimmed" size="sm">
            This group has no members yet.
          </Text>
        ) : (
          <Table aria-label="Members of the group">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Person</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {members.map((member) => (
                <Table.Tr key={member.id}>
                  <Table.Td>{memberLabel(member.user)}</Table.Td>
                  <Table.Td>{member.role.name}</Table.Td>
                  <Table.Td ta="right">
                    <Guarded permission="manageGroups">
                      {(disabled) => (
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          disabled={disabled}
                          aria-label={`Remove ${member.user.email}`}
                          onClick={() => remove(member.id, member.user.email)}
                        >
                          Remove
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
      {adding && (
        <AddMembersModal
          exclude={members.map((m) => m.id)}
          onClose={() => setAdding(false)}
          submit={async (memberIds) => {
            const result = await addMembers({ input: { groupId: group.id, memberIds } });
            const payload = result.data?.addGroupMembers;
            if (!payload) return describeError(result.error);
            if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
            refresh();
            return null;
          }}
          busy={addState.fetching}
        />
      )}
      {editing && (
        <GroupFormModal
          workspaceId={membership.workspace.id}
          group={group}
          opened
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            refresh();
          }}
        />
      )}
      <Modal opened={deleting} onClose={() => setDeleting(false)} title="Delete group">
        <Stack>
          <Text>
            Delete {group.name}? Its {group.membersCount} members stay in the workspace, but lose the APIs they reach only
            through this group.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(false)}>
              Cancel
            </Button>
            <Button color="red" loading={deleteState.fetching} onClick={confirmDelete}>
              Delete group
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function AddMembersModal({
  exclude,
  onClose,
  submit,
  busy,
}: {
  exclude: string[];
  onClose: () => void;
  submit: (memberIds: string[]) => Promise<string | null>;
  busy: boolean;
}) {
  return (
    <PickModal
      title="Add members"
      kind="people"
      action="Add to group"
      exclude={exclude}
      onClose={onClose}
      onSubmit={submit}
      busy={busy}
    />
  );
}
