import { Anchor, Badge, Button, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useQuery } from "urql";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { permissionOf, useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { RoleEditor, type RoleValue } from "./RoleEditor";

const RoleListDocument = graphql(`
  query RoleList($workspaceId: ID!) {
    permissionCatalog {
      name
      description
      constraints
    }
    workspace(id: $workspaceId) {
      id
      roles(first: 100) {
        totalCount
        edges {
          node {
            ...RoleFields
          }
        }
      }
    }
  }
`);

export function RoleListPage() {
  const { membership } = useWorkspace();
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: RoleListDocument,
    variables: { workspaceId: membership.workspace.id },
  });
  const [open, setOpen] = useState<RoleValue | "new" | null>(null);
  const roles = data?.workspace.roles;
  const catalog = data?.permissionCatalog ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Roles</Title>
        <Guarded permission="createRole">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setOpen("new")}>
              Create role
            </Button>
          )}
        </Guarded>
      </Group>
      <Text size="sm" c="dimmed">
        A role says what its members may do; reaching an API also takes a grant (or a role that reaches every API).
      </Text>
      {error && <QueryError error={error} />}
      {!roles && fetching && <Loading />}
      {roles && roles.totalCount === 0 && <Empty title="No roles" />}
      {roles && roles.totalCount > 0 && (
        <Table.ScrollContainer minWidth={600}>
          <Table highlightOnHover aria-label="Roles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Role</Table.Th>
                <Table.Th>Description</Table.Th>
                <Table.Th>Permissions</Table.Th>
                <Table.Th>APIs</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {roles.edges.map(({ node }) => (
                <Table.Tr key={node.id}>
                  <Table.Td>
                    <Anchor component="button" type="button" onClick={() => setOpen(node)}>
                      {node.name}
                    </Anchor>
                    {node.builtIn && (
                      <Badge ml="xs" size="xs" variant="outline" color="gray">
                        built-in
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{node.description}</Text>
                  </Table.Td>
                  <Table.Td>
                    {node.permissions.length} of {catalog.length}
                  </Table.Td>
                  <Table.Td>{node.allApis ? "Every API" : "Through grants"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {open && (
        <RoleEditor
          workspaceId={membership.workspace.id}
          role={open === "new" ? null : open}
          catalog={catalog}
          canEdit={open === "new" ? permissionOf(membership, "createRole").allowed : permissionOf(membership, "updateRole").allowed}
          canDelete={permissionOf(membership, "deleteRole").allowed}
          onClose={() => setOpen(null)}
          onDone={() => reexecute({ requestPolicy: "network-only" })}
        />
      )}
    </Stack>
  );
}
