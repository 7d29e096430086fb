import { Alert, Button, List, Select, Table, Text, VisuallyHidden } from "@mantine/core";
import { AUTH_METHOD_LABELS, cartProblems, plansOf, removeFromCart, withOnePlan, type Cart } from "./cart";

function OnePlan({ cart, setCart }: { cart: Cart; setCart: (next: Cart) => void }) {
  const plans = plansOf(cart);
  if (plans.length < 2) return null;
  return (
    <Select
      label="One plan for the whole request"
      description="A request has a single plan: choose which one every product gets."
      placeholder="Choose a plan"
      data={plans.map((plan) => ({ value: plan.id, label: plan.name }))}
      value={null}
      onChange={(id) => {
        const plan = plans.find((p) => p.id === id);
        if (plan) setCart(withOnePlan(cart, plan));
      }}
      maw={360}
    />
  );
}

/** The cart's products with their plans, the rules a request follows, and what breaks them. */
export function CartItems({ cart, setCart }: { cart: Cart; setCart: (next: Cart) => void }) {
  const problems = cartProblems(cart);
  return (
    <>
      <Table.ScrollContainer minWidth={560}>
        <Table aria-label="Cart">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Product</Table.Th>
              <Table.Th>Authentication</Table.Th>
              <Table.Th>Plan</Table.Th>
              <Table.Th>
                <VisuallyHidden>Remove</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {cart.map((item) => (
              <Table.Tr key={item.product.id}>
                <Table.Td>{item.product.name}</Table.Td>
                <Table.Td>{AUTH_METHOD_LABELS[item.product.authMethod]}</Table.Td>
                <Table.Td>
                  {item.plan.name} ({item.plan.autoApprove ? "automatic approval" : "manual approval"})
                </Table.Td>
                <Table.Td ta="right">
                  <Button size="xs" variant="subtle" color="red" aria-label={`Remove ${item.product.name}`} onClick={() => setCart(removeFromCart(cart, item.product.id))}>
                    Remove
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Alert color="blue" title="A request's rules" variant="light">
        <List size="sm">
          <List.Item>All products use the same authentication method (the app's).</List.Item>
          <List.Item>A single plan for all of them.</List.Item>
        </List>
      </Alert>
      <OnePlan cart={cart} setCart={setCart} />
      {problems.length > 0 && (
        <Alert color="red" title="This cart cannot be submitted yet" role="alert">
          {problems.map((problem) => (
            <Text size="sm" key={problem}>
              {problem}
            </Text>
          ))}
        </Alert>
      )}
    </>
  );
}
