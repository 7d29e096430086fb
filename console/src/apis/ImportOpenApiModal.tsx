import { Alert, Badge, Button, Checkbox, Code, FileInput, Group, Modal, SegmentedControl, Stack, Table, Text, Textarea } from "@mantine/core";
import { useState, type ReactNode } from "react";
import { useMutation } from "urql";
import { describeFailure } from "../core/errors";
import type { ImportOpenApiMutation } from "../gql/graphql";
import { ImportOpenApiDocument } from "./documents";
import { changeRows, describeChange, diffSummary, documentFileProblem, splitPointer, type ChangeKind, type ImportDiff } from "./operations";

type Source = "paste" | "file";
type Payload = ImportOpenApiMutation["importOpenApi"];

const KIND_COLOUR: Record<ChangeKind, string> = { added: "#1b5e20", changed: "#8a4b00", removed: "#a51d24" };

/** Each message of a field as its own line, the JSON pointer it names shown as code. */
function Messages({ messages }: { messages: string[] }): ReactNode {
  if (!messages.length) return null;
  return (
    <Stack gap={2} component="span">
      {messages.map((message, index) => {
        const { before, pointer, after } = splitPointer(message);
        return (
          <span key={index}>
            {before}
            {pointer && <Code>{pointer}</Code>}
            {after}
          </span>
        );
      })}
    </Stack>
  );
}

function DiffTable({ diff, prune }: { diff: ImportDiff; prune: boolean }) {
  const rows = changeRows(diff);
  return (
    <Stack gap="xs" aria-live="polite">
      <Text size="sm" fw={500}>
        {diffSummary(diff, prune)}
      </Text>
      {rows.length > 0 && (
        <Table.ScrollContainer minWidth={560} mah={320}>
          <Table aria-label="Changes" verticalSpacing={4} fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Change</Table.Th>
                <Table.Th>Method</Table.Th>
                <Table.Th>Path</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Scopes</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row) => (
                <Table.Tr key={`${row.kind} ${row.method} ${row.path}`}>
                  <Table.Td>
                    <Badge color={KIND_COLOUR[row.kind]} variant="filled" tt="none">
                      {row.kind}
                    </Badge>
                  </Table.Td>
                  <Table.Td ff="monospace">{row.method}</Table.Td>
                  <Table.Td ff="monospace">{row.path}</Table.Td>
                  <Table.Td>{row.name}</Table.Td>
                  <Table.Td>
                    {row.scopes.join(" ")}
                    {row.kind === "changed" && (
                      <Text size="xs" c="dimmed">
                        {describeChange(row)}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

const FIELDS = ["document", "file", "prune"];

/** The messages of a payload by field: `document`, `file` and `prune` under theirs, the rest for the form. */
function messagesByField(payload: Payload): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const error of payload.userErrors) {
    const key = error.field && FIELDS.includes(error.field) ? error.field : "";
    (result[key] ??= []).push(error.message);
  }
  return result;
}

/** Declare an API's operations from an OpenAPI document, pasted or chosen as a file: a dry run
 * shows what changes, Import applies it (removing the missing ones only with prune). */
export function ImportOpenApiModal({ apiId, apiName, onClose, onImported }: { apiId: string; apiName: string; onClose: () => void; onImported: (summary: string) => void }) {
  const [source, setSource] = useState<Source>("paste");
  const [document, setDocument] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [prune, setPrune] = useState(false);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [diff, setDiff] = useState<ImportDiff | null>(null);
  const [{ fetching }, run] = useMutation(ImportOpenApiDocument);
  const changed = () => {
    setDiff(null);
    setErrors({});
  };

  async function send(dryRun: boolean) {
    if (source === "paste" && !document.trim()) return setErrors({ document: ["Paste an OpenAPI 3 document (JSON or YAML)."] });
    if (source === "file") {
      const problem = file ? documentFileProblem(file) : "Choose a JSON or YAML file.";
      if (problem) return setErrors({ file: [problem] });
    }
    const input = { apiId, dryRun, prune, ...(source === "paste" ? { document } : { file }) };
    const result = await run({ input });
    const payload = result.data?.importOpenApi;
    if (!payload) return setErrors({ "": [describeFailure(result.error)] });
    if (payload.userErrors.length) {
      setDiff(null);
      return setErrors(messagesByField(payload));
    }
    setErrors({});
    if (dryRun) return setDiff(payload);
    onImported(diffSummary(payload, prune));
  }

  return (
    <Modal opened onClose={onClose} title={`Import OpenAPI into ${apiName}`} size="xl">
      <Stack>
        {errors[""] && (
          <Alert color="red" role="alert">
            <Messages messages={errors[""]} />
          </Alert>
        )}
        <SegmentedControl
          aria-label="Source of the document"
          value={source}
          onChange={(value) => {
            setSource(value as Source);
            changed();
          }}
          data={[
            { value: "paste", label: "Paste" },
            { value: "file", label: "Choose a file" },
          ]}
        />
        {source === "paste" ? (
          <Textarea
            label="OpenAPI document"
            description="OpenAPI 3.0 or 3.1, JSON or YAML; each path and method becomes an operation, its operationId the name."
            autosize
            minRows={8}
            maxRows={16}
            value={document}
            onChange={(event) => {
              setDocument(event.currentTarget.value);
              changed();
            }}
            error={errors.document ? <Messages messages={errors.document} /> : undefined}
            // An invalid field keeps its text black: the error red on white is below 4.5:1 at this size.
            styles={{ input: { fontFamily: "monospace", fontSize: 12, color: "var(--mantine-color-text)" } }}
            data-autofocus
          />
        ) : (
          <FileInput
            label="Document file"
            description="A .json, .yaml or .yml file of at most 2 MiB."
            accept=".json,.yaml,.yml,application/json,application/yaml"
            clearable
            clearButtonProps={{ "aria-label": "Clear file" }}
            value={file}
            onChange={(chosen) => {
              setFile(chosen);
              changed();
            }}
            error={errors.file ? <Messages messages={errors.file} /> : undefined}
          />
        )}
        <Checkbox
          label="Remove operations missing from the document"
          description="Without this, operations the document does not declare are kept."
          checked={prune}
          onChange={(event) => {
            setPrune(event.currentTarget.checked);
            changed();
          }}
          error={errors.prune ? <Messages messages={errors.prune} /> : undefined}
          // Mantine marks an invalid checkbox for the eye only; screen readers need this too.
          aria-invalid={Boolean(errors.prune)}
        />
        {diff && <DiffTable diff={diff} prune={prune} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="default" loading={fetching} onClick={() => void send(true)}>
            Dry run
          </Button>
          <Button loading={fetching} onClick={() => void send(false)}>
            Import
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
