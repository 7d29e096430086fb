// An access profile (app) as the wizard and the edit form hold it, and what they send.
import type { Option } from "../core/SearchSelect";
import type { AccessProfileFieldsFragment, AuthMethod, CreateAccessProfileInput, UpdateAccessProfileInput } from "../gql/graphql";
import { parseAllowedIps } from "./allowedIps";

export const AUTH_METHODS: { value: AuthMethod; label: string; description: string }[] = [
  { value: "AUTH_TOKEN", label: "Auth token", description: "AccessPlane issues the app a token, shown once." },
  { value: "OAUTH2", label: "OAuth 2.0", description: "Access tokens from your authorization server." },
  { value: "JWT", label: "JWT", description: "Signed JSON Web Tokens from a trusted issuer." },
  { value: "OIDC", label: "OpenID Connect", description: "Tokens from an OpenID Provider." },
  { value: "MTLS", label: "Client certificate (mutual TLS)", description: "The app presents a registered client certificate to the gateway." },
];

export interface ProfileValues {
  name: string;
  products: Option[];
  authMethod: AuthMethod;
  trustedIssuer: string;
  audience: string;
  tokenClientId: string;
  requiredScopes: string[];
  certificateBoundTokens: boolean;
  plan: Option | null;
  allowedIps: string;
}

export function initialProfile(profile: AccessProfileFieldsFragment | null): ProfileValues {
  return {
    name: profile?.name ?? "",
    products: (profile?.products ?? []).map((p) => ({ value: p.id, label: `${p.name} (${p.authMethod})` })),
    authMethod: profile?.authMethod ?? "AUTH_TOKEN",
    trustedIssuer: profile?.trustedIssuer ?? "",
    audience: profile?.audience ?? "",
    tokenClientId: profile?.tokenClientId ?? "",
    requiredScopes: [...(profile?.requiredScopes ?? [])],
    certificateBoundTokens: profile?.certificateBoundTokens ?? false,
    plan: profile?.plan ? { value: profile.plan.id, label: profile.plan.name } : null,
    allowedIps: (profile?.allowedIps ?? []).join("\n"),
  };
}

/** The token methods name a trusted issuer (and may check audience, client id and scopes); an
 * auth token app gets its token from us, an MTLS app presents a certificate. No method chosen yet: none. */
export function usesTokens(method: AuthMethod | null): boolean {
  return method !== null && method !== "AUTH_TOKEN" && method !== "MTLS";
}

function tokenSettings(values: ProfileValues) {
  const tokens = usesTokens(values.authMethod);
  return {
    trustedIssuer: tokens ? values.trustedIssuer.trim() : "",
    audience: tokens ? values.audience.trim() : "",
    tokenClientId: tokens ? values.tokenClientId.trim() : "",
    requiredScopes: tokens ? values.requiredScopes : [],
    // The server refuses the setting on AUTH_TOKEN and MTLS apps.
    certificateBoundTokens: tokens && values.certificateBoundTokens,
  };
}

export function createInput(clientId: string, values: ProfileValues): CreateAccessProfileInput {
  return {
    clientId,
    name: values.name,
    authMethod: values.authMethod,
    productIds: values.products.map((p) => p.value),
    planId: values.plan?.value ?? null,
    allowedIps: parseAllowedIps(values.allowedIps).values,
    ...tokenSettings(values),
  };
}

export function updateInput(id: string, values: ProfileValues): UpdateAccessProfileInput {
  return {
    id,
    name: values.name,
    productIds: values.products.map((p) => p.value),
    planId: values.plan?.value ?? null,
    allowedIps: parseAllowedIps(values.allowedIps).values,
    ...tokenSettings(values),
  };
}

/** What the person must fix before going on: field -> message (empty when nothing). */
export function localProblems(values: ProfileValues, fields: readonly string[]): Record<string, string> {
  const problems: Record<string, string> = {};
  if (fields.includes("name") && !values.name.trim()) problems.name = "A name is required.";
  if (fields.includes("trustedIssuer") && usesTokens(values.authMethod) && !values.trustedIssuer.trim()) {
    problems.trustedIssuer = "The issuer of the app's tokens is required for this method.";
  }
  if (fields.includes("allowedIps")) {
    const { errors } = parseAllowedIps(values.allowedIps);
    if (errors.length) problems.allowedIps = errors.join(" ");
  }
  return problems;
}

/** The one method all chosen products use, if they agree. */
export function productsMethod(products: Option[]): AuthMethod | null {
  const methods = new Set(products.map((p) => /\(([A-Z_0-9]+)\)$/.exec(p.label)?.[1]));
  const [only] = [...methods];
  return methods.size === 1 && AUTH_METHODS.some((m) => m.value === only) ? (only as AuthMethod) : null;
}

// The field of a userError for each value of the form, where the two names differ.
const ERROR_FIELD: Partial<Record<keyof ProfileValues, string>> = { products: "productIds", plan: "planId" };

/** The errors left once `patch` has changed their fields: a verdict on the old value no longer holds. */
export function withoutErrorsOf(errors: Record<string, string>, patch: Partial<ProfileValues>): Record<string, string> {
  const changed = new Set(Object.keys(patch).map((key) => ERROR_FIELD[key as keyof ProfileValues] ?? key));
  return Object.fromEntries(Object.entries(errors).filter(([field]) => !changed.has(field)));
}
