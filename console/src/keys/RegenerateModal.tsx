import { Alert, Button, Group, Modal, Select, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { usePermission } from "../core/workspace";
import type { ApiAccessFieldsFragment } from "../gql/graphql";
import { RegenerateApiAccessDocument } from "./documents";
import { DEFAULT_EXPIRY, EXPIRY_PRESETS, GRACE_PERIODS, expiresAt, gracePeriodSeconds, localInputValue } from "./expiry";

/** A new token and a new expiry; the old token stops at once or after the grace period. */
export function RegenerateModal({
  apiAccess,
  onClose,
  onRegenerated,
}: {
  apiAccess: ApiAccessFieldsFragment;
  onClose: () => void;
  onRegenerated: (key: ApiAccessFieldsFragment, token: string) => void;
}) {
  const withRoles = usePermission("getRole").allowed;
  const [expiry, setExpiry] = useState<string>(DEFAULT_EXPIRY);
  const [custom, setCustom] = useState("");
  const [grace, setGrace] = useState<string>("0");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, regenerate] = useMutation(RegenerateApiAccessDocument);

  async function submit() {
    const when = expiresAt(expiry, custom);
    if (!when) return setErrors({ expiresAt: "Choose a date and time." });
    const result = await regenerate({
      withRoles,
      input: { id: apiAccess.id, expiresAt: when, gracePeriodSeconds: gracePeriodSeconds(grace) },
    });
    const payload = result.data?.regenerateApiAccess;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length || !payload.apiAccess || !payload.token) {
      return setErrors(byField(payload.userErrors));
    }
    onRegenerated(payload.apiAccess, payload.token);
  }

  return (
    <Modal opened onClose={onClose} title={`Regenerate ${apiAccess.name}`}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Stack>
          <Text size="sm">
            A new token replaces the current one (ending in <code>{apiAccess.tokenHint}</code>). Without a grace period,
            anything still using the current token is refused from the next request on.
          </Text>
          {errors[""] && (
            <Alert color="red" role="alert">
              {errors[""]}
            </Alert>
          )}
          <Select
            label="New expiration"
            data={EXPIRY_PRESETS.map((p) => ({ value: p.value, label: p.label }))}
            value={expiry}
            allowDeselect={false}
            onChange={(value) => setExpiry(value ?? DEFAULT_EXPIRY)}
            error={expiry === "custom" ? undefined : errors.expiresAt}
            data-autofocus
          />
          {expiry === "custom" && (
            <TextInput
              type="datetime-local"
              label="New expiration date"
              description="In your time zone."
              min={localInputValue(new Date())}
              value={custom}
              onChange={(event) => setCustom(event.currentTarget.value)}
              error={errors.expiresAt}
              required
            />
          )}
          <Select
            label="Grace period"
            description="How long the current token keeps working, for a rotation without downtime."
            data={GRACE_PERIODS.map((p) => ({ value: p.value, label: p.label }))}
            value={grace}
            allowDeselect={false}
            onChange={(value) => setGrace(value ?? "0")}
            error={errors.gracePeriodSeconds}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={fetching}>
              Regenerate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
