import { notifications } from "@mantine/notifications";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { PickModal } from "../core/PickModal";
import { GrantApiAccessDocument } from "./documents";

/** "+ Add" on an API: grant it to more people or groups. */
export function AddGrantModal({
  apiId,
  kind,
  exclude,
  onClose,
  onDone,
}: {
  apiId: string;
  kind: "people" | "groups";
  exclude: string[];
  onClose: () => void;
  onDone: () => void;
}) {
  const [{ fetching }, grant] = useMutation(GrantApiAccessDocument);
  return (
    <PickModal
      title={kind === "people" ? "Add people" : "Add groups"}
      kind={kind}
      action="Grant access"
      exclude={exclude}
      onClose={onClose}
      busy={fetching}
      onSubmit={async (ids) => {
        const result = await grant({ input: { apiId, ...(kind === "people" ? { memberIds: ids } : { groupIds: ids }) } });
        const payload = result.data?.grantApiAccess;
        if (!payload) return describeError(result.error);
        if (payload.userErrors.length) return Object.values(byField(payload.userErrors)).join(" ");
        notifications.show({ color: "green", message: "Access granted." });
        onDone();
        return null;
      }}
    />
  );
}
