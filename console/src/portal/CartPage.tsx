import { Alert, Anchor, Button, Group, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { useMutation, useQuery } from "urql";
import { TokenShown } from "../clients/TokenShown";
import { describeFailure, UNCONFIRMED } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { AppFields } from "./AppFields";
import { cartAuthMethod, cartProblems, type Cart } from "./cart";
import { CartItems } from "./CartItems";
import { PortalAppsDocument, SubmitAccessRequestDocument } from "./documents";
import { PortalPage, usePortalPath } from "./parts";
import { useCart } from "./store";
import { choiceProblems, formErrors, NO_APP, submitInput, type AppChoice } from "./submit";

/** After a submission: what happens next, and a new app's token this once. The token lives only
 * in this state: Done drops it. (A new app's token reaches nothing until its request is approved.) */
interface Outcome {
  status: "approved" | "pending";
  app: string;
  token: string | null;
}

function StatusAlert({ outcome }: { outcome: Outcome }) {
  const path = usePortalPath();
  if (outcome.status === "pending") {
    return (
      <Alert color="yellow" title="Waiting for approval" role="status">
        <Text size="sm">
          The request for {outcome.app} waits for an API owner&apos;s decision. You will be mailed when it is approved or rejected; its status is under{" "}
          <Anchor component={Link} to={path("requests")}>
            My requests
          </Anchor>
          .
        </Text>
      </Alert>
    );
  }
  return (
    <Alert color="green" title="Approved" role="status">
      <Text size="sm">
        {outcome.app} may call the products now. Its products, plan and token hint are under{" "}
        <Anchor component={Link} to={path("apps")}>
          My apps
        </Anchor>
        .
      </Text>
    </Alert>
  );
}

function Submitted({ outcome, onDone }: { outcome: Outcome; onDone: () => void }) {
  return (
    <>
      <StatusAlert outcome={outcome} />
      {outcome.token && <TokenShown name={outcome.app} token={outcome.token} onDone={onDone} />}
    </>
  );
}

type Submission = { outcome: Outcome } | { errors: Record<string, string> };

/** Sends the cart; an auto-approved new app's token comes back this once. */
function useSubmit(cart: Cart, choice: AppChoice, apps: Map<string, string>): () => Promise<Submission> {
  const [, submit] = useMutation(SubmitAccessRequestDocument);
  return async () => {
    const result = await submit({ input: submitInput(cart, choice) });
    const payload = result.data?.submitAccessRequest;
    if (!payload) return { errors: { "": describeFailure(result.error) } };
    if (payload.userErrors.length) return { errors: formErrors(payload.userErrors) };
    if (!payload.accessRequest) return { errors: { "": UNCONFIRMED } };
    const app = choice.mode === "new" ? choice.name.trim() : (apps.get(choice.appId) ?? "");
    const status = payload.accessRequest.status === "PENDING" ? "pending" : "approved";
    return { outcome: { status, app, token: payload.token ?? null } };
  };
}

function CartForm({ cart, setCart, onSubmitted }: { cart: Cart; setCart: (next: Cart) => void; onSubmitted: (outcome: Outcome) => void }) {
  const { membership } = useWorkspace();
  const [{ data, error, fetching }] = useQuery({ query: PortalAppsDocument, variables: { workspaceId: membership.workspace.id } });
  const [choice, setChoice] = useState<AppChoice>(NO_APP);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const clients = data?.workspace.clients.edges.map((edge) => edge.node) ?? [];
  const apps = new Map(clients.flatMap((c) => c.accessProfiles.edges.map((e) => [e.node.id, e.node.name] as const)));
  const method = cartAuthMethod(cart);
  const local = choiceProblems(choice, method);
  const send = useSubmit(cart, choice, apps);
  const blocked = cartProblems(cart).length > 0 || Object.keys(local).length > 0;

  async function onSubmit() {
    setBusy(true);
    const outcome = await send();
    setBusy(false);
    if ("errors" in outcome) return setServerErrors(outcome.errors);
    onSubmitted(outcome.outcome); // before the cart empties, so the outcome replaces it at once
    setCart([]);
  }

  if (error) return <QueryError error={error} />;
  if (fetching && !data) return <Loading />;
  const change = (next: AppChoice) => {
    setChoice(next);
    setServerErrors({});
  };
  return (
    <>
      <CartItems cart={cart} setCart={setCart} />
      <Title order={3} size="h4">
        For which app
      </Title>
      <AppFields choice={choice} setChoice={change} clients={clients} method={method} errors={{ ...local, ...serverErrors }} />
      {serverErrors[""] && (
        <Alert color="red" title="The request was refused" role="alert">
          {serverErrors[""]}
        </Alert>
      )}
      <Group>
        <Guarded permission="requestAccess">
          {(disabled) => (
            <Button disabled={disabled || blocked} loading={busy} onClick={() => void onSubmit()}>
              Submit request
            </Button>
          )}
        </Guarded>
      </Group>
    </>
  );
}

/** The cart: the products and ONE plan, the app they are for, and the submission. */
export function CartPage() {
  const { membership } = useWorkspace();
  const [cart, setCart] = useCart(membership.workspace.id);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const path = usePortalPath();
  if (outcome) {
    return (
      <PortalPage title="Cart">
        <Submitted outcome={outcome} onDone={() => setOutcome({ ...outcome, token: null })} />
      </PortalPage>
    );
  }
  if (cart.length === 0) {
    return (
      <PortalPage title="Cart">
        <Empty title="Your cart is empty">
          Pick a product in the{" "}
          <Anchor component={Link} to={path()}>
            catalogue
          </Anchor>{" "}
          and a plan with “Access with this Plan”.
        </Empty>
      </PortalPage>
    );
  }
  return (
    <PortalPage title="Cart">
      <CartForm cart={cart} setCart={setCart} onSubmitted={setOutcome} />
    </PortalPage>
  );
}
