import { Alert, Button, FileInput, Group, Image, Modal, Pill, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { UNCONFIRMED } from "../core/errors";
import { PickModal } from "../core/PickModal";
import { useWorkspace } from "../core/workspace";
import type { ClientFieldsFragment } from "../gql/graphql";
import { CreateClientDocument, UpdateClientDocument } from "./documents";
import { memberIdsToSave, membersEditable } from "./members";
import { ClientLogo, mutationErrors } from "./parts";

export interface MemberOption {
  id: string;
  label: string;
}

interface Values {
  name: string;
  description: string;
  logo: File | null;
  preview: string | null; // a data: URL of the chosen file (the page allows no blob: images)
  removeLogo: boolean;
  members: MemberOption[];
}

const LOGO_TYPES = "image/png,image/jpeg";

function readPreview(file: File, done: (url: string | null) => void) {
  const reader = new FileReader();
  reader.onload = () => done(typeof reader.result === "string" ? reader.result : null);
  reader.onerror = () => done(null);
  reader.readAsDataURL(file);
}

/** The logo field with a preview of the chosen file, or the current logo with Remove. */
function LogoField({
  client,
  values,
  error,
  onChange,
  onPreview,
  onClearError,
}: {
  client: ClientFieldsFragment | null;
  values: Values;
  error: string | undefined;
  onChange: (patch: Partial<Values>) => void;
  onPreview: (file: File, preview: string | null) => void; // a read that may end after another file was chosen
  onClearError: () => void; // the server's verdict was on the previous file
}) {
  const current = client?.logoUrl && !values.removeLogo && !values.logo;
  return (
    <Group align="flex-end" wrap="nowrap">
      <FileInput
        label="Logo"
        description="A PNG or JPEG image, at most 1 MiB."
        placeholder="Choose a file"
        accept={LOGO_TYPES}
        value={values.logo}
        clearable
        clearButtonProps={{ "aria-label": "Clear logo" }}
        onChange={(file) => {
          onChange({ logo: file, preview: null, removeLogo: false });
          onClearError();
          if (file) readPreview(file, (preview) => onPreview(file, preview));
        }}
        error={error}
        style={{ flex: 1 }}
      />
      {values.preview && <Image src={values.preview} alt="Preview of the new logo" w={48} h={48} fit="contain" radius="sm" />}
      {current && (
        <>
          <ClientLogo name={client.name} logoUrl={client.logoUrl} size="lg" />
          <Button variant="default" size="xs" onClick={() => onChange({ removeLogo: true })}>
            Remove logo
          </Button>
        </>
      )}
    </Group>
  );
}

function MembersField({ members, error, onChange }: { members: MemberOption[]; error: string | undefined; onChange: (members: MemberOption[]) => void }) {
  const [picking, setPicking] = useState(false);
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Text size="sm" fw={500} id="client-members-label">
          Members
        </Text>
        <Button variant="default" size="xs" onClick={() => setPicking(true)}>
          Add members
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        The people who request access for this client&apos;s apps.
      </Text>
      <Pill.Group aria-labelledby="client-members-label">
        {members.length === 0 && (
          <Text size="sm" c="dimmed">
            None yet
          </Text>
        )}
        {members.map((member) => (
          <Pill key={member.id} withRemoveButton removeButtonProps={{ "aria-label": `Remove ${member.label}` }} onRemove={() => onChange(members.filter((m) => m.id !== member.id))}>
            {member.label}
          </Pill>
        ))}
      </Pill.Group>
      {error && (
        <Text size="sm" c="red.8" role="alert">
          {error}
        </Text>
      )}
      {picking && (
        <PickModal
          title="Add members"
          kind="people"
          action="Add"
          exclude={members.map((m) => m.id)}
          busy={false}
          onClose={() => setPicking(false)}
          onSubmit={async (ids, labels) => {
            onChange([...members, ...ids.map((id) => ({ id, label: labels[id] ?? id }))]);
            return null;
          }}
        />
      )}
    </Stack>
  );
}

/** Creates the client, or saves its changes (members replaced, the logo replaced or removed). */
function useSaveClient(client: ClientFieldsFragment | null, membersLoaded: number, membersTotal: number) {
  const { membership } = useWorkspace();
  const [created, create] = useMutation(CreateClientDocument);
  const [updated, update] = useMutation(UpdateClientDocument);
  async function save(values: Values): Promise<{ client: ClientFieldsFragment } | { errors: Record<string, string> }> {
    const common = { name: values.name, description: values.description, memberIds: memberIdsToSave(values.members, membersLoaded, membersTotal) };
    const result = client
      ? await update({ input: { id: client.id, ...common, logo: values.logo, removeLogo: values.removeLogo } }).then((r) => ({
          payload: r.data?.updateClient,
          error: r.error,
        }))
      : await create({ input: { workspaceId: membership.workspace.id, ...common, logo: values.logo } }).then((r) => ({
          payload: r.data?.createClient,
          error: r.error,
        }));
    const problems = mutationErrors(result.payload, result.error);
    if (problems || !result.payload?.client) return { errors: problems ?? { "": UNCONFIRMED } };
    return { client: result.payload.client };
  }
  return { save, busy: created.fetching || updated.fetching };
}

/**
 * "New client" (name, description, logo upload with a preview, members picked on the server) or
 * editing one; the server judges the logo by its bytes, and its refusal shows on the field.
 */
export function ClientFormModal({
  client,
  members,
  membersTotal = members.length,
  onClose,
  onSaved,
}: {
  client: ClientFieldsFragment | null; // null: create
  members: MemberOption[];
  membersTotal?: number; // the client's members in all, when `members` may be only the first of them
  onClose: () => void;
  onSaved: (client: ClientFieldsFragment) => void;
}) {
  const [values, setValues] = useState<Values>({
    name: client?.name ?? "",
    description: client?.description ?? "",
    logo: null,
    preview: null,
    removeLogo: false,
    members,
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const { save, busy } = useSaveClient(client, members.length, membersTotal);
  const patch = (change: Partial<Values>) => setValues((current) => ({ ...current, ...change }));

  async function submit() {
    if (!values.name.trim()) return setErrors({ name: "A name is required." });
    const outcome = await save(values);
    if ("errors" in outcome) return setErrors(outcome.errors);
    onSaved(outcome.client);
  }

  return (
    <Modal opened onClose={onClose} title={client ? `Edit ${client.name}` : "New client"} size="lg">
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
          <TextInput
            label="Name"
            required
            maxLength={100}
            value={values.name}
            onChange={(event) => patch({ name: event.currentTarget.value })}
            error={errors.name}
            data-autofocus
          />
          <Textarea
            label="Description"
            autosize
            minRows={2}
            value={values.description}
            onChange={(event) => patch({ description: event.currentTarget.value })}
            error={errors.description}
          />
          <LogoField
            client={client}
            values={values}
            error={errors.logo ?? errors.logoUrl}
            onChange={patch}
            onPreview={(file, preview) => setValues((current) => (current.logo === file ? { ...current, preview } : current))}
            onClearError={() => setErrors(({ logo, logoUrl, ...rest }) => (logo || logoUrl ? rest : { ...rest }))}
          />
          {membersEditable(members.length, membersTotal) ? (
            <MembersField members={values.members} error={errors.memberIds} onChange={(list) => patch({ members: list })} />
          ) : (
            <Alert color="gray" title="Members">
              This client has {membersTotal} members, more than this form can show; saving leaves them unchanged. Manage them through the API.
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              {client ? "Save" : "Create client"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

