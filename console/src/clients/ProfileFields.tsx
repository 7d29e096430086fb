import { Checkbox, Radio, Stack, TagsInput, TextInput, Textarea } from "@mantine/core";
import { SearchMultiSelect, SearchSelect } from "../core/SearchSelect";
import { parseAllowedIps } from "./allowedIps";
import { AUTH_METHODS, usesTokens, type ProfileValues } from "./profile";

export interface FieldsProps {
  values: ProfileValues;
  errors: Record<string, string>;
  onChange: (patch: Partial<ProfileValues>) => void;
}

export function NameField({ values, errors, onChange }: FieldsProps) {
  return (
    <TextInput
      label="Profile name"
      description="How the client's people and the audit log name this app."
      required
      maxLength={100}
      value={values.name}
      onChange={(event) => onChange({ name: event.currentTarget.value })}
      error={errors.name}
      data-autofocus
    />
  );
}

export function ProductsField({ values, errors, onChange }: FieldsProps) {
  return (
    <SearchMultiSelect
      kind="products"
      label="Products to include"
      description="All must use the app's authentication method."
      value={values.products}
      onChange={(products) => onChange({ products })}
      error={errors.productIds}
    />
  );
}

/** The token settings a token method checks: only the issuer is required. */
function TokenFields({ values, errors, onChange }: FieldsProps) {
  return (
    <>
      <TextInput
        label="Trusted issuer"
        description="The iss of the app's tokens: an https URL."
        required
        value={values.trustedIssuer}
        onChange={(event) => onChange({ trustedIssuer: event.currentTarget.value })}
        error={errors.trustedIssuer}
      />
      <TextInput
        label="Audience"
        description="The aud the tokens must carry; empty: not checked."
        value={values.audience}
        onChange={(event) => onChange({ audience: event.currentTarget.value })}
        error={errors.audience}
      />
      <TextInput
        label="Client ID"
        description="The client_id or azp (or sub) that names this app in its tokens."
        value={values.tokenClientId}
        onChange={(event) => onChange({ tokenClientId: event.currentTarget.value })}
        error={errors.tokenClientId}
      />
      <TagsInput
        label="Required scopes"
        description="Scopes every token must hold; press Enter after each."
        value={values.requiredScopes}
        onChange={(requiredScopes) => onChange({ requiredScopes })}
        error={errors.requiredScopes}
        clearable
        clearButtonProps={{ "aria-label": "Clear scopes" }}
      />
      <Checkbox
        label="Certificate-bound tokens"
        description="Tokens must be bound (RFC 8705) to the client certificate the app presents to the gateway."
        checked={values.certificateBoundTokens}
        onChange={(event) => onChange({ certificateBoundTokens: event.currentTarget.checked })}
        error={errors.certificateBoundTokens}
      />
    </>
  );
}

/** The method (only when creating: an app keeps its method) and what the method needs. */
export function AuthFields({ values, errors, onChange, fixedMethod = false }: FieldsProps & { fixedMethod?: boolean }) {
  return (
    <Stack>
      {!fixedMethod && (
        <Radio.Group
          label="Authentication method"
          value={values.authMethod}
          onChange={(value) => onChange({ authMethod: value as ProfileValues["authMethod"] })}
          error={errors.authMethod}
        >
          <Stack gap="xs" mt="xs">
            {AUTH_METHODS.map((method) => (
              <Radio key={method.value} value={method.value} label={`${method.label} (${method.value})`} description={method.description} />
            ))}
          </Stack>
        </Radio.Group>
      )}
      {usesTokens(values.authMethod) && <TokenFields values={values} errors={errors} onChange={onChange} />}
    </Stack>
  );
}

export function PolicyFields({ values, errors, onChange }: FieldsProps) {
  const typed = parseAllowedIps(values.allowedIps).errors.join(" ");
  return (
    <Stack>
      <SearchSelect
        kind="plans"
        label="Policy (plan)"
        description="Its rate limit, quota and time window apply to every call of the app."
        value={values.plan}
        onChange={(plan) => onChange({ plan })}
        error={errors.planId}
      />
      <Textarea
        label="Allowed IPs"
        description="IPv4 or IPv6 addresses and CIDR ranges, comma-separated or one per line; empty: any address."
        autosize
        minRows={3}
        value={values.allowedIps}
        onChange={(event) => onChange({ allowedIps: event.currentTarget.value })}
        error={typed || errors.allowedIps}
        styles={{ input: { fontFamily: "monospace" } }}
      />
    </Stack>
  );
}
