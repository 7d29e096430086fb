// A product's chosen operations by API, as the editor holds them and the list shows them (tested in Vitest).

export interface ChosenOperation {
  id: string;
  apiId: string;
  method: string;
  path: string;
}

/** Per API id: the ids of its chosen operations; an API left out is granted as a whole. */
export type OperationChoice = Record<string, string[]>;

/** The product's chosen operations grouped by their API. */
export function choiceOf(operations: readonly ChosenOperation[]): OperationChoice {
  const choice: OperationChoice = {};
  for (const operation of operations) (choice[operation.apiId] ??= []).push(operation.id);
  return choice;
}

/** The operation ids to send: those of the APIs still chosen, in the order of the APIs. */
export function operationIdsToSend(apiIds: readonly string[], choice: OperationChoice): string[] {
  return apiIds.flatMap((apiId) => choice[apiId] ?? []);
}

/** APIs set to "Chosen operations" with none picked: field key -> message. */
export function emptyChoices(apiIds: readonly string[], choice: OperationChoice, names: Record<string, string>): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const apiId of apiIds) {
    if (choice[apiId]?.length === 0) problems[`operations:${apiId}`] = `Pick operations of ${names[apiId] ?? "this API"}, or choose Whole API.`;
  }
  return problems;
}

/** "GET /a, POST /a" for the chosen operations of one API; "" when it is granted as a whole. */
export function operationsLabel(apiId: string, operations: readonly ChosenOperation[]): string {
  return operations
    .filter((operation) => operation.apiId === apiId)
    .map((operation) => `${operation.method} ${operation.path}`)
    .join(", ");
}
