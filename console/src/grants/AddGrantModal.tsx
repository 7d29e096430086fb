import { notifications } from "@mantine/notifications";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { PickModal, type Option } from "../core/PickModal";
import { GrantApiAccessDocument } from "./documents";

/** "+ Add" on an API: grant it to more people or groups. */
export function AddGrantModal({
  apiId,
  kind,
  options,
  onClose,
  onDone,
}: {
  apiId: string;
  kind: "people" | "groups";
  options: Option[];
  onClose: () => void;
  onDone: () => void;
}) {
  const [{ fetching }, grant] = useMutation(GrantApiAccessDocument);
  return (
    <PickModal
      title={kind === "people" ? "Add people" : "Add groups"}
      label={kind === "people" ? "People" : "Groups"}
      placeholder={kind === "people" ? "Search by name or email" : "Search by name"}
      action="Grant access"
      options={options}
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
