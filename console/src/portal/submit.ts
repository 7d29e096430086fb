// The cart's app, existing or new, as the form holds it; what submitAccessRequest is sent; and
// where the server's userErrors go on the form.
import { parseAllowedIps } from "../clients/allowedIps";
import { usesTokens } from "../clients/profile";
import type { AuthMethod, SubmitAccessRequestInput } from "../gql/graphql";
import { cartAuthMethod, plansOf, type Cart } from "./cart";

export interface AppChoice {
  mode: "existing" | "new";
  appId: string;
  name: string;
  clientId: string;
  allowedIps: string;
  trustedIssuer: string;
  audience: string;
  tokenClientId: string;
}

export const NO_APP: AppChoice = {
  mode: "new",
  appId: "",
  name: "",
  clientId: "",
  allowedIps: "",
  trustedIssuer: "",
  audience: "",
  tokenClientId: "",
};

/** What the form can say before sending, by field; empty when it may be sent. */
export function choiceProblems(choice: AppChoice, method: AuthMethod | null): Record<string, string> {
  const problems: Record<string, string> = {};
  if (choice.mode === "existing") {
    if (!choice.appId) problems.appId = "Choose an app.";
    return problems;
  }
  if (!choice.name.trim()) problems.name = "Name the new app.";
  if (!choice.clientId) problems.clientId = "Choose the client the app belongs to.";
  const ips = parseAllowedIps(choice.allowedIps);
  if (ips.errors.length) problems.allowedIps = ips.errors.join(" ");
  if (usesTokens(method) && !choice.trustedIssuer.trim().toLowerCase().startsWith("https://")) {
    problems.trustedIssuer = "Give the https address of the issuer of the app's tokens.";
  }
  return problems;
}

/** The mutation's input; call it only on a cart without problems. */
export function submitInput(cart: Cart, choice: AppChoice): SubmitAccessRequestInput {
  const plan = plansOf(cart)[0];
  const base = { productIds: cart.map((item) => item.product.id), planId: plan?.id ?? "" };
  if (choice.mode === "existing") return { ...base, accessProfileId: choice.appId };
  const method = cartAuthMethod(cart);
  const tokens = usesTokens(method)
    ? { trustedIssuer: choice.trustedIssuer.trim(), audience: choice.audience.trim(), tokenClientId: choice.tokenClientId.trim() }
    : {};
  return {
    ...base,
    newAccessProfile: {
      clientId: choice.clientId,
      name: choice.name.trim(),
      allowedIps: parseAllowedIps(choice.allowedIps).values,
      ...tokens,
    },
  };
}

const FIELDS: Record<string, keyof AppChoice> = {
  accessProfileId: "appId",
  "newAccessProfile.name": "name",
  "newAccessProfile.clientId": "clientId",
  "newAccessProfile.allowedIps": "allowedIps",
  "newAccessProfile.trustedIssuer": "trustedIssuer",
  "newAccessProfile.audience": "audience",
  "newAccessProfile.tokenClientId": "tokenClientId",
};

/** The server's userErrors on the form's fields; the rest (products, plan) under "". */
export function formErrors(errors: readonly { field?: string | null; message: string }[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const error of errors) {
    const key = FIELDS[error.field ?? ""] ?? "";
    result[key] = result[key] ? `${result[key]} ${error.message}` : error.message;
  }
  return result;
}
