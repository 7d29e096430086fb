// Errors as the person using the console should read them: never raw server text or stacks.
import type { CombinedError } from "urql";

export interface UserErrorLike {
  field?: string | null;
  message: string;
  code: string;
}

export function errorCodes(error: CombinedError | undefined): string[] {
  if (!error) return [];
  return error.graphQLErrors.map((e) => String(e.extensions?.code ?? ""));
}

export function isUnauthenticated(error: CombinedError | undefined): boolean {
  if (!error) return false;
  if ((error.response as Response | undefined)?.status === 401) return true;
  return errorCodes(error).includes("UNAUTHENTICATED");
}

export function describeError(error: CombinedError | undefined): string {
  if (!error) return "";
  if (error.networkError) return "The server cannot be reached. Check your connection and try again.";
  const codes = errorCodes(error);
  if (codes.includes("FORBIDDEN")) return "Your role does not allow this.";
  if (codes.includes("NOT_FOUND")) return "This item does not exist, or is in another workspace.";
  if (codes.includes("UNAUTHENTICATED")) return "Your session has ended. Sign in again.";
  if (codes.includes("BAD_USER_INPUT")) {
    const first = error.graphQLErrors.find((e) => e.extensions?.code === "BAD_USER_INPUT");
    return first?.message ?? "The request was not valid.";
  }
  return "Something went wrong on the server's side. Try again in a moment.";
}

/** Said when a mutation answers neither its result nor an error: it may not have happened. */
export const UNCONFIRMED = "The server did not confirm the change.";

/** Why a mutation without its payload failed; never "" (which its callers read as success). */
export function describeFailure(error: CombinedError | undefined): string {
  return describeError(error) || UNCONFIRMED;
}

/** userErrors by field (camelCase input name), the rest under "" for a form-level alert. */
export function byField(errors: readonly UserErrorLike[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const error of errors) {
    const key = error.field ?? "";
    result[key] = result[key] ? `${result[key]} ${error.message}` : error.message;
  }
  return result;
}
