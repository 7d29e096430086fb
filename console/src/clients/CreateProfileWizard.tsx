import { Alert, Button, Group, Modal, Stack, Stepper, Table, Text } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { parseAllowedIps } from "./allowedIps";
import { CreateAccessProfileDocument } from "./documents";
import { mutationErrors } from "./parts";
import { createInput, initialProfile, localProblems, productsMethod, usesTokens, withoutErrorsOf, type ProfileValues } from "./profile";
import { AuthFields, NameField, PolicyFields, ProductsField } from "./ProfileFields";
import { TokenShown } from "./TokenShown";

// The fields of each step, to check before Next and to return to a step the server refused.
const STEPS = [
  { label: "Name", fields: ["name"] },
  { label: "Products", fields: ["productIds"] },
  { label: "Authentication", fields: ["authMethod", "trustedIssuer", "audience", "tokenClientId", "requiredScopes", "certificateBoundTokens"] },
  { label: "Policy", fields: ["planId", "allowedIps"] },
] as const;
const CONFIRM = STEPS.length;

function firstStepOf(errors: Record<string, string>): number {
  const index = STEPS.findIndex((step) => step.fields.some((field) => field in errors));
  return index === -1 ? CONFIRM : index;
}

/** What will be created, for the confirmation step. */
function Summary({ values }: { values: ProfileValues }) {
  const ips = parseAllowedIps(values.allowedIps).values;
  const rows: [string, string][] = [
    ["Profile name", values.name],
    ["Products", values.products.map((p) => p.label).join(", ") || "None yet"],
    ["Authentication method", values.authMethod],
    ...(usesTokens(values.authMethod)
      ? ([
          ["Trusted issuer", values.trustedIssuer],
          ["Audience", values.audience || "Not checked"],
          ["Client ID", values.tokenClientId || "Not checked"],
          ["Required scopes", values.requiredScopes.join(" ") || "None"],
          ["Certificate-bound tokens", values.certificateBoundTokens ? "Yes" : "No"],
        ] as [string, string][])
      : []),
    ["Policy (plan)", values.plan?.label ?? "None yet"],
    ["Allowed IPs", ips.join(", ") || "Any address"],
  ];
  return (
    <Table aria-label="New access profile" withRowBorders={false} verticalSpacing={4}>
      <Table.Tbody>
        {rows.map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Th w={180}>{label}</Table.Th>
            <Table.Td style={{ wordBreak: "break-word" }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The last step: an auth token app's token, shown this once; a token method app has none. */
function Finished({ issued, onDone }: { issued: { name: string; token: string | null; mtls: boolean }; onDone: () => void }) {
  if (issued.token) return <TokenShown name={issued.name} token={issued.token} onDone={onDone} />;
  return (
    <Stack>
      <Text size="sm">
        {issued.mtls
          ? `“${issued.name}” is created: add its client certificates under Certificates on this page.`
          : `“${issued.name}” is created: its tokens come from the trusted issuer.`}
      </Text>
      <Group justify="flex-end">
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}

/**
 * "Create new access profile" in steps: name, products, authentication method, policy and
 * allowed IPs, a confirmation, then the token shown once (auth token apps) until Done.
 */
export function CreateProfileWizard({ client, onClose, onCreated }: { client: { id: string; name: string }; onClose: () => void; onCreated: () => void }) {
  const [values, setValues] = useState<ProfileValues>(() => initialProfile(null));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [active, setActive] = useState(0);
  const [issued, setIssued] = useState<{ name: string; token: string | null; mtls: boolean } | null>(null);
  const [{ fetching }, create] = useMutation(CreateAccessProfileDocument);
  const patch = (change: Partial<ProfileValues>) => {
    setValues((current) => ({ ...current, ...change }));
    setErrors((current) => withoutErrorsOf(current, change));
  };

  function next() {
    const step = STEPS[active];
    const problems = step ? localProblems(values, step.fields) : {};
    setErrors(problems);
    if (Object.keys(problems).length) return;
    const method = active === 1 ? productsMethod(values.products) : null;
    if (method) patch({ authMethod: method }); // the products decide the method they accept
    setActive(active + 1);
  }

  async function submit() {
    const result = await create({ input: createInput(client.id, values) });
    const problems = mutationErrors(result.data?.createAccessProfile, result.error);
    if (problems) {
      setErrors(problems);
      return setActive(firstStepOf(problems));
    }
    const payload = result.data?.createAccessProfile;
    setIssued({ name: payload?.accessProfile?.name ?? values.name, token: payload?.token ?? null, mtls: values.authMethod === "MTLS" });
    onCreated();
  }

  const fields = { values, errors, onChange: patch };
  return (
    <Modal opened onClose={onClose} title={`Create new access profile for ${client.name}`} size="xl" closeOnClickOutside={!issued}>
      <Stack>
        <Stepper active={issued ? CONFIRM + 1 : active} onStepClick={(step) => !issued && step < active && setActive(step)} size="sm">
          <Stepper.Step label={STEPS[0].label}>
            <NameField {...fields} />
          </Stepper.Step>
          <Stepper.Step label={STEPS[1].label}>
            <ProductsField {...fields} />
          </Stepper.Step>
          <Stepper.Step label={STEPS[2].label}>
            <AuthFields {...fields} />
          </Stepper.Step>
          <Stepper.Step label={STEPS[3].label}>
            <PolicyFields {...fields} />
          </Stepper.Step>
          <Stepper.Step label="Confirm">
            <Summary values={values} />
          </Stepper.Step>
          <Stepper.Completed>{issued && <Finished issued={issued} onDone={onClose} />}</Stepper.Completed>
        </Stepper>
        {errors[""] && (
          <Alert color="red" role="alert">
            {errors[""]}
          </Alert>
        )}
        {!issued && (
          <Group justify="flex-end">
            {active > 0 && (
              <Button variant="default" onClick={() => setActive(active - 1)}>
                Back
              </Button>
            )}
            <Button loading={fetching} onClick={active < CONFIRM ? next : () => void submit()}>
              {active < CONFIRM ? "Next" : "Create access profile"}
            </Button>
          </Group>
        )}
      </Stack>
    </Modal>
  );
}
