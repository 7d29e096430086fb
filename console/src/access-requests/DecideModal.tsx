import { Alert, Button, Group, Modal, Stack, Text, Textarea } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { usePermission } from "../core/workspace";
import type { AccessRequestFieldsFragment } from "../gql/graphql";
import { ApproveAccessRequestDocument, RejectAccessRequestDocument } from "./documents";
import { canReject } from "./status";

export type Decision = "approve" | "reject";

/**
 * Approves (with an optional note) or rejects (with a reason) one pending request. A request
 * decided elsewhere meanwhile comes back as a CONFLICT userError: handed to `onConflict`.
 */
export function DecideModal({
  decision,
  request,
  onClose,
  onDecided,
  onConflict,
}: {
  decision: Decision;
  request: AccessRequestFieldsFragment;
  onClose: () => void;
  onDecided: (request: AccessRequestFieldsFragment) => void;
  onConflict: (message: string) => void;
}) {
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [approveState, approve] = useMutation(ApproveAccessRequestDocument);
  const [rejectState, reject] = useMutation(RejectAccessRequestDocument);
  const withClients = usePermission("getClient").allowed;
  const approving = decision === "approve";
  const app = request.accessProfile.name;

  async function submit() {
    const input = { id: request.id, reason: reason.trim() };
    const result = approving ? await approve({ input, withClients }) : await reject({ input, withClients });
    const payload =
      result.data && ("approveAccessRequest" in result.data ? result.data.approveAccessRequest : result.data.rejectAccessRequest);
    if (!payload) return setErrors({ "": describeError(result.error) });
    const conflict = payload.userErrors.find((e) => e.code === "CONFLICT");
    if (conflict) return onConflict(conflict.message);
    if (payload.userErrors.length) return setErrors(byField(payload.userErrors));
    if (payload.accessRequest) onDecided(payload.accessRequest);
  }

  const formError = [errors[""], errors.id].filter(Boolean).join(" ");
  return (
    <Modal
      opened
      onClose={onClose}
      title={approving ? `Approve the request for ${app}?` : `Reject the request for ${app}?`}
    >
      <Stack>
        <Text size="sm">
          {approving
            ? `${app} gets ${request.products.map((p) => p.name).join(", ")} on the plan ${request.planName}; ${request.requester} is mailed.`
            : `${request.requester} is mailed the reason; ${app} gets nothing from this request.`}
        </Text>
        <Textarea
          label={approving ? "Note to the requester" : "Reason"}
          description={approving ? "Optional." : "Required: the requester reads it."}
          required={!approving}
          autosize
          minRows={2}
          value={reason}
          error={errors.reason}
          onChange={(event) => setReason(event.currentTarget.value)}
          data-autofocus
        />
        {formError && (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          {approving ? (
            <Button color="#1b5e20" loading={approveState.fetching} onClick={() => void submit()}>
              Approve
            </Button>
          ) : (
            <Button
              color="#a61b1b"
              loading={rejectState.fetching}
              disabled={!canReject(reason)}
              onClick={() => void submit()}
            >
              Reject
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
