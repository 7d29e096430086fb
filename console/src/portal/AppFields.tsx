import { SegmentedControl, Select, Stack, Textarea, TextInput } from "@mantine/core";
import type { AuthMethod, PortalAppsQuery } from "../gql/graphql";
import { usesTokens } from "../clients/profile";
import { type AppChoice } from "./submit";

export type PortalClient = PortalAppsQuery["workspace"]["clients"]["edges"][number]["node"];

interface Props {
  choice: AppChoice;
  setChoice: (next: AppChoice) => void;
  clients: PortalClient[];
  method: AuthMethod | null;
  errors: Record<string, string>;
}

/** The apps the cart can go to: those of active clients with the products' method. */
function appOptions(clients: PortalClient[], method: AuthMethod | null) {
  return clients
    .filter((client) => client.active)
    .map((client) => ({
      group: client.name,
      items: client.accessProfiles.edges
        .map((edge) => edge.node)
        .filter((app) => app.authMethod === method)
        .map((app) => ({ value: app.id, label: app.name })),
    }))
    .filter((group) => group.items.length > 0);
}

function TokenFields({ choice, setChoice, errors }: Omit<Props, "clients" | "method">) {
  return (
    <>
      <TextInput
        label="Trusted issuer"
        description="The https address of the issuer of the app's tokens."
        required
        value={choice.trustedIssuer}
        error={errors.trustedIssuer}
        onChange={(e) => setChoice({ ...choice, trustedIssuer: e.currentTarget.value })}
      />
      <TextInput label="Audience" description="Optional." value={choice.audience} error={errors.audience} onChange={(e) => setChoice({ ...choice, audience: e.currentTarget.value })} />
      <TextInput
        label="Client ID in the tokens"
        description="Optional: the client_id, azp or sub that names the app."
        value={choice.tokenClientId}
        error={errors.tokenClientId}
        onChange={(e) => setChoice({ ...choice, tokenClientId: e.currentTarget.value })}
      />
    </>
  );
}

function NewAppFields({ choice, setChoice, clients, method, errors }: Props) {
  return (
    <>
      <TextInput label="App name" required value={choice.name} error={errors.name} onChange={(e) => setChoice({ ...choice, name: e.currentTarget.value })} />
      <Select
        label="Client"
        description="The organisation the app belongs to."
        required
        data={clients.filter((c) => c.active).map((c) => ({ value: c.id, label: c.name }))}
        value={choice.clientId || null}
        error={errors.clientId}
        onChange={(id) => setChoice({ ...choice, clientId: id ?? "" })}
      />
      <Textarea
        label="Allowed IPs"
        description="Addresses and CIDR ranges, separated by commas or lines; empty: any address."
        autosize
        minRows={2}
        value={choice.allowedIps}
        error={errors.allowedIps}
        onChange={(e) => setChoice({ ...choice, allowedIps: e.currentTarget.value })}
      />
      {usesTokens(method) && <TokenFields choice={choice} setChoice={setChoice} errors={errors} />}
    </>
  );
}

/** Which app the request is for: one of the consumer's apps, or a new one created with it. */
export function AppFields(props: Props) {
  const { choice, setChoice, clients, method, errors } = props;
  const options = appOptions(clients, method);
  return (
    <Stack gap="sm" maw={520}>
      <SegmentedControl
        aria-label="App"
        value={choice.mode}
        onChange={(mode) => setChoice({ ...choice, mode: mode === "existing" ? "existing" : "new" })}
        data={[
          { value: "new", label: "A new app" },
          { value: "existing", label: "An existing app" },
        ]}
      />
      {choice.mode === "existing" ? (
        <Select
          label="App"
          description="Your clients' apps with the products' authentication method."
          placeholder={options.length ? "Choose an app" : "No app of yours uses this method"}
          data={options}
          value={choice.appId || null}
          error={errors.appId}
          onChange={(id) => setChoice({ ...choice, appId: id ?? "" })}
        />
      ) : (
        <NewAppFields {...props} />
      )}
    </Stack>
  );
}
