import { Loader, MultiSelect, Radio, Stack, Text } from "@mantine/core";
import { useQuery } from "urql";
import { ApiOperationsDocument } from "../apis/documents";
import type { Option } from "../core/SearchSelect";
import type { ChosenOperation, OperationChoice } from "./operations";

// The most a page answers: an API with more operations offers its first 100 here.
const OPERATIONS_OFFERED = 100;

/** The operations of one API to pick from, asked when "Chosen operations" is first picked. */
function OperationsPicker({ api, value, known, error, onChange }: { api: Option; value: string[]; known: readonly ChosenOperation[]; error?: string; onChange: (ids: string[]) => void }) {
  const [{ data, fetching }] = useQuery({ query: ApiOperationsDocument, variables: { id: api.value, first: OPERATIONS_OFFERED, after: null } });
  const connection = data?.node.__typename === "Api" ? data.node.operations : null;
  const offered = new Map<string, string>();
  for (const operation of known) if (operation.apiId === api.value) offered.set(operation.id, `${operation.method} ${operation.path}`);
  for (const { node } of connection?.edges ?? []) offered.set(node.id, `${node.method} ${node.path}${node.name ? ` (${node.name})` : ""}`);
  const more = connection && connection.totalCount > OPERATIONS_OFFERED ? ` The first ${OPERATIONS_OFFERED} of ${connection.totalCount} are offered.` : "";
  if (connection && connection.totalCount === 0 && offered.size === 0) {
    return (
      <Text size="sm" c="dimmed">
        {api.label} declares no operations yet: add them on its page, or grant it whole.
      </Text>
    );
  }
  return (
    <MultiSelect
      label={`Operations of ${api.label}`}
      description={`Apps holding the product may call only these of ${api.label}.${more}`}
      data={[...offered].map(([id, label]) => ({ value: id, label }))}
      value={value}
      onChange={onChange}
      searchable
      rightSection={fetching ? <Loader size="xs" /> : undefined}
      error={error}
      nothingFoundMessage="No operation matches"
    />
  );
}

/** Per chosen API: "Whole API" (the default) or a pick of its operations. */
export function ProductOperationsField({
  apis,
  choice,
  known,
  errors,
  onChange,
}: {
  apis: Option[];
  choice: OperationChoice;
  known: readonly ChosenOperation[];
  errors: Record<string, string>;
  onChange: (choice: OperationChoice) => void;
}) {
  if (!apis.length) return null;
  const set = (apiId: string, ids: string[] | null) => {
    const others = Object.fromEntries(Object.entries(choice).filter(([id]) => id !== apiId));
    onChange(ids === null ? others : { ...others, [apiId]: ids });
  };
  return (
    <Stack gap="sm">
      {errors.operationIds && (
        <Text size="sm" c="red.8" role="alert">
          {errors.operationIds}
        </Text>
      )}
      {apis.map((api) => {
        const ids = choice[api.value];
        return (
          <Stack key={api.value} gap={4}>
            <Radio.Group label={`What of ${api.label} the product grants`} value={ids ? "chosen" : "whole"} onChange={(value) => set(api.value, value === "chosen" ? (ids ?? []) : null)}>
              <Stack gap={4} mt={4}>
                <Radio value="whole" label="Whole API" />
                <Radio value="chosen" label="Chosen operations" />
              </Stack>
            </Radio.Group>
            {ids && <OperationsPicker api={api} value={ids} known={known} error={errors[`operations:${api.value}`]} onChange={(picked) => set(api.value, picked)} />}
          </Stack>
        );
      })}
    </Stack>
  );
}
