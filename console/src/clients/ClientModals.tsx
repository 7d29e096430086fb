import { useMutation } from "urql";
import { ConfirmModal } from "../core/ConfirmModal";
import { DeleteClientDocument, SetClientActiveDocument } from "./documents";
import { mutationErrors, oneLine } from "./parts";

/** Activate or deactivate a client after saying what it does to its apps. */
export function ActiveModal({
  client,
  onClose,
  onDone,
}: {
  client: { id: string; name: string; active: boolean };
  onClose: () => void;
  onDone: (active: boolean) => void;
}) {
  const [, setActive] = useMutation(SetClientActiveDocument);
  const active = !client.active;
  return (
    <ConfirmModal
      title={active ? `Activate ${client.name}?` : `Deactivate ${client.name}?`}
      action={active ? "Activate" : "Deactivate"}
      danger={!active}
      onClose={onClose}
      onConfirm={async () => {
        const result = await setActive({ input: { id: client.id, active } });
        const problem = oneLine(mutationErrors(result.data?.setClientActive, result.error));
        if (!problem) onDone(active);
        return problem;
      }}
    >
      {active
        ? `Every app of ${client.name} can call its APIs again from its next call.`
        : `Every app of ${client.name} stops on its next call: the gateway refuses its tokens until the client is active again.`}
    </ConfirmModal>
  );
}

/** Delete a client with its apps and their requests. */
export function DeleteClientModal({
  client,
  apps,
  onClose,
  onDeleted,
}: {
  client: { id: string; name: string };
  apps: number;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const [, remove] = useMutation(DeleteClientDocument);
  return (
    <ConfirmModal
      title={`Delete ${client.name}?`}
      action="Delete client"
      danger
      onClose={onClose}
      onConfirm={async () => {
        // The answer names no Client, so the document cache is told which lists it changes.
        const result = await remove({ input: { id: client.id } }, { additionalTypenames: ["Client"] });
        const problem = oneLine(mutationErrors(result.data?.deleteClient, result.error));
        if (!problem) onDeleted();
        return problem;
      }}
    >
      {apps === 1 ? "Its app and its access requests are" : `Its ${apps} apps and their access requests are`} deleted
      with it, and {apps === 1 ? "the app's token stops" : "their tokens stop"} at once. This cannot be undone.
    </ConfirmModal>
  );
}
