import { Alert, Anchor, Button, Code, Group, Table, Text, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { useQuery } from "urql";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import type { PlanFieldsFragment, PortalProductQuery } from "../gql/graphql";
import { describeQuota, describeRate, describeWindow } from "../plans/plan";
import { addToCart, AUTH_METHOD_LABELS } from "./cart";
import { PortalProductDocument } from "./documents";
import { AuthMethodBadge, PortalPage, usePortalPath } from "./parts";
import { useCart } from "./store";

type Product = Extract<PortalProductQuery["node"], { __typename: "ApiProduct" }>;

function ApisTable({ product }: { product: Product }) {
  if (product.apis.length === 0) return <Text c="dimmed">This product bundles no API yet.</Text>;
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label="APIs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>API</Table.Th>
            <Table.Th>Base URL</Table.Th>
            <Table.Th>Description</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {product.apis.map((api) => (
            <Table.Tr key={api.id}>
              <Table.Td>{api.name}</Table.Td>
              <Table.Td>{api.baseUrl ? <Code>{api.baseUrl}</Code> : "—"}</Table.Td>
              <Table.Td>{api.description || "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function PlansTable({ plans, onChoose }: { plans: PlanFieldsFragment[]; onChoose: (plan: PlanFieldsFragment) => void }) {
  if (plans.length === 0) return <Empty title="No plan yet">Ask the API owners to add one.</Empty>;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table aria-label="Plans">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Plan</Table.Th>
            <Table.Th>Rate limit</Table.Th>
            <Table.Th>Quota</Table.Th>
            <Table.Th>Time window</Table.Th>
            <Table.Th>Approval</Table.Th>
            <Table.Th>
              <VisuallyHidden>Action</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plans.map((plan) => (
            <Table.Tr key={plan.id}>
              <Table.Td>
                <Text fw={500} size="sm">
                  {plan.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {plan.description}
                </Text>
              </Table.Td>
              <Table.Td>{describeRate(plan.rateLimit)}</Table.Td>
              <Table.Td>{describeQuota(plan.quota)}</Table.Td>
              <Table.Td>{describeWindow(plan.timeWindow)}</Table.Td>
              <Table.Td>{plan.autoApprove ? "Automatic" : "Manual"}</Table.Td>
              <Table.Td ta="right">
                <Guarded permission="requestAccess">
                  {(disabled) => (
                    <Button size="xs" disabled={disabled} onClick={() => onChoose(plan)}>
                      Access with this Plan
                    </Button>
                  )}
                </Guarded>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function ProductView({ product, plans }: { product: Product; plans: PlanFieldsFragment[] }) {
  const { membership } = useWorkspace();
  const [cart, setCart] = useCart(membership.workspace.id);
  const [added, setAdded] = useState<string | null>(null);
  const path = usePortalPath();
  const choose = (plan: PlanFieldsFragment) => {
    setCart(addToCart(cart, { id: product.id, name: product.name, authMethod: product.authMethod }, plan));
    setAdded(plan.name);
  };
  return (
    <PortalPage title={product.name} actions={<AuthMethodBadge method={product.authMethod} />}>
      <Anchor component={Link} to={path()} size="sm">
        ← All products
      </Anchor>
      <Text>{product.description || "No description."}</Text>
      <Text size="sm">Apps reach this product with the authentication method {AUTH_METHOD_LABELS[product.authMethod]}.</Text>
      <ApisTable product={product} />
      {added && (
        <Alert color="green" role="status" title="In your cart">
          <Group justify="space-between">
            <Text size="sm">
              {product.name} with the plan {added}.
            </Text>
            <Button component={Link} to={path("cart")} size="xs">
              Go to the cart ({cart.length})
            </Button>
          </Group>
        </Alert>
      )}
      <PlansTable plans={plans} onChoose={choose} />
    </PortalPage>
  );
}

/** A product's page: its APIs and every plan, each with “Access with this Plan”. */
export function ProductPage() {
  const { membership } = useWorkspace();
  const { productId = "" } = useParams();
  const [{ data, error, fetching }] = useQuery({
    query: PortalProductDocument,
    variables: { workspaceId: membership.workspace.id, id: productId },
  });
  if (error) return <QueryError error={error} />;
  if (fetching && !data) return <Loading />;
  const node = data?.node;
  if (node?.__typename !== "ApiProduct" || !node.published) {
    return <Empty title="Product not found">It is not in the catalogue.</Empty>;
  }
  const plans = data?.workspace.plans.edges.map((edge) => edge.node) ?? [];
  return <ProductView product={node} plans={plans} />;
}
