import { Alert, Badge, Button, Code, CopyButton, FileInput, Group, Modal, Paper, Stack, Table, Text, Textarea, Title, Tooltip, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import { DateTime } from "../core/dates";
import { Guarded } from "../core/Guarded";
import type { AccessProfileFieldsFragment, CertificateFieldsFragment } from "../gql/graphql";
import { MAX_PEM_BYTES, pemProblem, shortFingerprint, validity } from "./certificates";
import { AddAccessProfileCertificateDocument, RemoveAccessProfileCertificateDocument } from "./documents";
import { mutationErrors, oneLine } from "./parts";

// Darker than Mantine's defaults, for white text above 4.5:1.
const TONE_COLOUR = { expired: "#a51d24", soon: "#8a4b00", valid: "#1b5e20" } as const;

function Fingerprint({ fingerprint }: { fingerprint: string }) {
  return (
    <Group gap={4} wrap="nowrap">
      <Tooltip label={fingerprint} withArrow>
        <Code style={{ whiteSpace: "nowrap" }}>{shortFingerprint(fingerprint)}</Code>
      </Tooltip>
      <CopyButton value={fingerprint}>
        {({ copied, copy }) => (
          <Button size="compact-xs" variant="subtle" onClick={copy} aria-label={`Copy the fingerprint ${shortFingerprint(fingerprint)}`}>
            {copied ? "Copied" : "Copy"}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

function CertificateRow({ certificate, onRemove }: { certificate: CertificateFieldsFragment; onRemove: () => void }) {
  const state = validity(certificate.notAfter);
  return (
    <Table.Tr>
      <Table.Td maw={240} style={{ wordBreak: "break-word" }}>
        {certificate.subject}
      </Table.Td>
      <Table.Td maw={240} style={{ wordBreak: "break-word" }}>
        {certificate.issuer}
      </Table.Td>
      <Table.Td>
        <Fingerprint fingerprint={certificate.fingerprint} />
      </Table.Td>
      <Table.Td>
        <Stack gap={2}>
          <Badge color={TONE_COLOUR[state.tone]} variant="filled" tt="none">
            {state.label}
          </Badge>
          <Text size="xs" title={`Valid from ${certificate.notBefore}`}>
            until <DateTime value={certificate.notAfter} />
          </Text>
        </Stack>
      </Table.Td>
      <Table.Td ta="right">
        <Guarded permission="manageClients">
          {(disabled) => (
            <Button size="compact-xs" variant="subtle" color="red" disabled={disabled} onClick={onRemove} aria-label={`Remove ${certificate.subject}`}>
              Remove
            </Button>
          )}
        </Guarded>
      </Table.Td>
    </Table.Tr>
  );
}

/** Paste a PEM certificate or read one from a .pem file into the same field, then register it. */
function AddCertificateModal({ profile, onClose, onAdded }: { profile: AccessProfileFieldsFragment; onClose: () => void; onAdded: (subject: string) => void }) {
  const [pem, setPem] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, add] = useMutation(AddAccessProfileCertificateDocument);

  async function choose(chosen: File | null) {
    setFile(chosen);
    setErrors({});
    if (!chosen) return;
    if (chosen.size > MAX_PEM_BYTES) return setErrors({ pem: "The file is larger than 16 KB, the most the server reads." });
    setPem(await chosen.text());
  }

  async function submit() {
    const problem = pemProblem(pem);
    if (problem) return setErrors({ pem: problem });
    const result = await add({ input: { accessProfileId: profile.id, pem } });
    const refused = mutationErrors(result.data?.addAccessProfileCertificate, result.error);
    if (refused) return setErrors(refused.pem ? refused : { "": oneLine(refused) ?? "" });
    onAdded(result.data?.addAccessProfileCertificate.certificate?.subject ?? "The certificate");
  }

  return (
    <Modal opened onClose={onClose} title={`Add certificate to ${profile.name}`} size="lg">
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
          <Textarea
            label="Certificate (PEM)"
            description="The public certificate only, -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----; never the private key."
            autosize
            minRows={6}
            maxRows={14}
            value={pem}
            onChange={(event) => {
              setPem(event.currentTarget.value);
              setErrors({});
            }}
            error={errors.pem}
            // An invalid field keeps its text black: the error red on white is below 4.5:1 at this size.
            styles={{ input: { fontFamily: "monospace", fontSize: 12, color: "var(--mantine-color-text)" } }}
            data-autofocus
          />
          <FileInput
            label="Or choose a .pem file"
            accept=".pem,.crt,.cer,application/x-pem-file"
            clearable
            clearButtonProps={{ "aria-label": "Clear file" }}
            value={file}
            onChange={(chosen) => void choose(chosen)}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={fetching}>
              Add certificate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function RemoveCertificateModal({ certificate, app, onClose, onRemoved }: { certificate: CertificateFieldsFragment; app: string; onClose: () => void; onRemoved: () => void }) {
  const [, remove] = useMutation(RemoveAccessProfileCertificateDocument);
  return (
    <ConfirmModal
      title="Remove this certificate?"
      action="Remove certificate"
      danger
      onClose={onClose}
      onConfirm={async () => {
        const result = await remove({ input: { id: certificate.id } });
        const refused = oneLine(mutationErrors(result.data?.removeAccessProfileCertificate, result.error));
        if (refused) return refused;
        onRemoved();
        return null;
      }}
    >
      Requests presenting {certificate.subject} ({shortFingerprint(certificate.fingerprint)}) are refused as {app}&apos;s from the next decision on.
    </ConfirmModal>
  );
}

type Dialog = { kind: "add" } | { kind: "remove"; certificate: CertificateFieldsFragment };

/** An MTLS app's client certificates, the soonest to expire first, with Add and Remove. */
export function CertificatesPanel({ profile, done }: { profile: AccessProfileFieldsFragment; done: (message: string) => void }) {
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const headingId = `certificates-${profile.id}`;
  const finish = (message: string) => {
    setDialog(null);
    done(message);
  };
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={headingId}>
      <Group justify="space-between" mb="sm">
        <Title order={4} id={headingId}>
          Certificates of {profile.name} ({profile.certificates.length})
        </Title>
        <Guarded permission="manageClients">
          {(disabled) => (
            <Button size="xs" disabled={disabled} onClick={() => setDialog({ kind: "add" })} aria-label={`Add certificate to ${profile.name}`}>
              Add certificate
            </Button>
          )}
        </Guarded>
      </Group>
      {profile.certificates.length === 0 ? (
        <Text c="dimmed" size="sm">
          No certificate yet: the app&apos;s requests are refused until one is added.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={940}>
          <Table aria-label={`Certificates of ${profile.name}`} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Subject</Table.Th>
                <Table.Th>Issuer</Table.Th>
                <Table.Th style={{ whiteSpace: "nowrap" }}>Fingerprint (SHA-256)</Table.Th>
                <Table.Th>Validity</Table.Th>
                <Table.Th>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {profile.certificates.map((certificate) => (
                <CertificateRow key={certificate.id} certificate={certificate} onRemove={() => setDialog({ kind: "remove", certificate })} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {dialog?.kind === "add" && <AddCertificateModal profile={profile} onClose={() => setDialog(null)} onAdded={(subject) => finish(`${subject} added to ${profile.name}.`)} />}
      {dialog?.kind === "remove" && (
        <RemoveCertificateModal certificate={dialog.certificate} app={profile.name} onClose={() => setDialog(null)} onRemoved={() => finish(`Certificate removed from ${profile.name}.`)} />
      )}
    </Paper>
  );
}
