import { Alert, Button, Group, Modal, Stack } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import type { AccessProfileFieldsFragment } from "../gql/graphql";
import { DeleteAccessProfileDocument, RefreshAccessProfileTokenDocument, UpdateAccessProfileDocument } from "./documents";
import { mutationErrors, oneLine } from "./parts";
import { initialProfile, localProblems, updateInput, withoutErrorsOf, type ProfileValues } from "./profile";
import { AuthFields, NameField, PolicyFields, ProductsField } from "./ProfileFields";
import { TokenShown } from "./TokenShown";

const ALL_FIELDS = ["name", "trustedIssuer", "allowedIps"];

/** Edit an app's name, products, token settings, plan and allowed IPs (its method stays). */
export function EditProfileModal({ profile, onClose, onSaved }: { profile: AccessProfileFieldsFragment; onClose: () => void; onSaved: () => void }) {
  const [values, setValues] = useState<ProfileValues>(() => initialProfile(profile));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, update] = useMutation(UpdateAccessProfileDocument);
  const patch = (change: Partial<ProfileValues>) => {
    setValues((current) => ({ ...current, ...change }));
    setErrors((current) => withoutErrorsOf(current, change));
  };

  async function submit() {
    const problems = localProblems(values, ALL_FIELDS);
    if (Object.keys(problems).length) return setErrors(problems);
    const result = await update({ input: updateInput(profile.id, values) });
    const refused = mutationErrors(result.data?.updateAccessProfile, result.error);
    if (refused) return setErrors(refused);
    onSaved();
  }

  const fields = { values, errors, onChange: patch };
  return (
    <Modal opened onClose={onClose} title={`Edit ${profile.name}`} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Stack>
          {errors[""] && (
            <Alert color="red" role="alert">
              {errors[""]}
            </Alert>
          )}
          <NameField {...fields} />
          <ProductsField {...fields} />
          <AuthFields {...fields} fixedMethod />
          <PolicyFields {...fields} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={fetching}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** "Refresh token": asks first, then shows the new token once; the old one stops at once. */
export function RefreshTokenModal({ profile, onClose, onRefreshed }: { profile: { id: string; name: string }; onClose: () => void; onRefreshed: () => void }) {
  const [token, setToken] = useState<string | null>(null);
  const [, refresh] = useMutation(RefreshAccessProfileTokenDocument);
  if (token) {
    return (
      <Modal opened onClose={onClose} title={`New token for ${profile.name}`} size="lg" closeOnClickOutside={false}>
        <TokenShown name={profile.name} token={token} onDone={onClose} />
      </Modal>
    );
  }
  return (
    <ConfirmModal
      title={`Refresh the token of ${profile.name}?`}
      action="Refresh token"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await refresh({ input: { id: profile.id } });
        const problem = oneLine(mutationErrors(result.data?.refreshAccessProfileToken, result.error));
        const issued = result.data?.refreshAccessProfileToken.token;
        if (problem || !issued) return problem ?? "The server issued no token.";
        setToken(issued);
        onRefreshed();
        return null;
      }}
    >
      The current token stops working on the app&apos;s next call; the new one is shown once.
    </ConfirmModal>
  );
}

export function DeleteProfileModal({ profile, onClose, onDeleted }: { profile: { id: string; name: string }; onClose: () => void; onDeleted: () => void }) {
  const [, remove] = useMutation(DeleteAccessProfileDocument);
  return (
    <ConfirmModal
      title={`Delete ${profile.name}?`}
      action="Delete access profile"
      danger
      onClose={onClose}
      onConfirm={async () => {
        // The answer names neither type, so the document cache is told which lists it changes.
        const result = await remove({ input: { id: profile.id } }, { additionalTypenames: ["AccessProfile", "Client"] });
        const problem = oneLine(mutationErrors(result.data?.deleteAccessProfile, result.error));
        if (!problem) onDeleted();
        return problem;
      }}
    >
      The app and its access requests are deleted; its token stops at once. This cannot be undone.
    </ConfirmModal>
  );
}

