import { ActionIcon, Button, Group, Menu, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import { byField, describeError } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Pager } from "../core/Pager";
import { usePaging } from "../core/paging";
import { useReload } from "../core/reload";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import type { PlanFieldsFragment } from "../gql/graphql";
import { DeletePlanDocument, PlanListDocument } from "./documents";
import { describeQuota, describeRate, describeWindow } from "./plan";
import { PlanFormModal } from "./PlanFormModal";

const PAGE_SIZE = 25;

type Dialog = { kind: "create" } | { kind: "edit" | "delete"; plan: PlanFieldsFragment };

function PlanRow({ plan, onDialog }: { plan: PlanFieldsFragment; onDialog: (dialog: Dialog) => void }) {
  const manage = usePermission("managePlans");
  return (
    <Table.Tr>
      <Table.Td>
        <Text fw={500} size="sm">
          {plan.name}
        </Text>
        <Text size="xs" c="dimmed" lineClamp={1}>
          {plan.description}
        </Text>
      </Table.Td>
      <Table.Td>{describeRate(plan.rateLimit)}</Table.Td>
      <Table.Td>{describeQuota(plan.quota)}</Table.Td>
      <Table.Td>{describeWindow(plan.timeWindow)}</Table.Td>
      <Table.Td>{plan.autoApprove ? "Yes" : "No"}</Table.Td>
      <Table.Td ta="right">
        <Menu position="bottom-end">
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${plan.name}`}>
              ⋯
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            <Menu.Item disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "edit", plan })}>
              Edit
            </Menu.Item>
            <Menu.Item color="red" disabled={!manage.allowed} title={manage.reason || undefined} onClick={() => onDialog({ kind: "delete", plan })}>
              Delete
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function DeletePlanModal({ plan, onClose, onDeleted }: { plan: PlanFieldsFragment; onClose: () => void; onDeleted: () => void }) {
  const [, remove] = useMutation(DeletePlanDocument);
  return (
    <ConfirmModal
      title={`Delete ${plan.name}?`}
      action="Delete plan"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await remove({ input: { id: plan.id } });
        const payload = result.data?.deletePlan;
        if (!payload) return describeError(result.error);
        if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
        onDeleted();
        return null;
      }}
    >
      A plan that an app is on or a pending request names cannot be deleted: the server says so.
    </ConfirmModal>
  );
}

function PlanTable({ plans, onDialog }: { plans: PlanFieldsFragment[]; onDialog: (dialog: Dialog) => void }) {
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table highlightOnHover aria-label="Plans" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Rate limit</Table.Th>
            <Table.Th>Quota</Table.Th>
            <Table.Th>Time window</Table.Th>
            <Table.Th>Auto approve</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plans.map((plan) => (
            <PlanRow key={plan.id} plan={plan} onDialog={onDialog} />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Plans: the limits (rate, quota, time window) an app's calls get, and whether requests auto-approve. */
export function PlanListPage() {
  const allowed = usePermission("getProduct");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Plans</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <PlanList />;
}

function PlanList() {
  const { membership } = useWorkspace();
  const [search, setSearch] = useState("");
  const [term] = useDebouncedValue(search, 250);
  const paging = usePaging();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: PlanListDocument,
    variables: { workspaceId: membership.workspace.id, first: PAGE_SIZE, after: paging.after, search: term || null },
  });
  const reload = useReload(fetching, refetch);
  const plans = data?.workspace.plans;
  const close = () => setDialog(null);
  const done = (message: string) => {
    close();
    notifications.show({ color: "green", message });
    reload();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Plans</Title>
        <Guarded permission="managePlans">
          {(disabled) => (
            <Button disabled={disabled} onClick={() => setDialog({ kind: "create" })}>
              New plan
            </Button>
          )}
        </Guarded>
      </Group>
      <TextInput
        label="Search"
        placeholder="Name"
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          paging.reset();
        }}
        maw={320}
      />
      {error && <QueryError error={error} />}
      {!plans && fetching && <Loading />}
      {plans && plans.totalCount === 0 && <Empty title="No plans">{term ? "Try another search." : "A plan sets the limits an app's calls get."}</Empty>}
      {plans && plans.totalCount > 0 && (
        <>
          <PlanTable plans={plans.edges.map((e) => e.node)} onDialog={setDialog} />
          <Pager total={plans.totalCount} noun="plans" paging={paging} pageInfo={plans.pageInfo} />
        </>
      )}
      {(dialog?.kind === "create" || dialog?.kind === "edit") && (
        <PlanFormModal
          key={dialog.kind === "edit" ? dialog.plan.id : "new"}
          plan={dialog.kind === "edit" ? dialog.plan : null}
          onClose={close}
          onSaved={(name) => done(`${name} saved.`)}
        />
      )}
      {dialog?.kind === "delete" && <DeletePlanModal plan={dialog.plan} onClose={close} onDeleted={() => done(`${dialog.plan.name} deleted.`)} />}
    </Stack>
  );
}
