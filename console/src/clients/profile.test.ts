import { describe, expect, it } from "vitest";
import { createInput, initialProfile, localProblems, productsMethod, updateInput, withoutErrorsOf } from "./profile";

const values = {
  ...initialProfile(null),
  name: "Mobile app",
  products: [{ value: "p1", label: "Payments (JWT)" }],
  authMethod: "JWT" as const,
  trustedIssuer: " https://id.example.com ",
  requiredScopes: ["read"],
  plan: { value: "plan1", label: "Gold" },
  allowedIps: "10.0.0.1, 10.0.0.0/8\n::1",
};

describe("access profile values", () => {
  it("sends the token settings of a token method, trimmed, and the parsed addresses", () => {
    expect(createInput("c1", values)).toEqual({
      clientId: "c1",
      name: "Mobile app",
      authMethod: "JWT",
      productIds: ["p1"],
      planId: "plan1",
      allowedIps: ["10.0.0.1", "10.0.0.0/8", "::1"],
      trustedIssuer: "https://id.example.com",
      audience: "",
      tokenClientId: "",
      requiredScopes: ["read"],
      certificateBoundTokens: false,
    });
  });

  it("sends no token settings for an auth token app, whatever was typed before switching", () => {
    const input = updateInput("a1", { ...values, authMethod: "AUTH_TOKEN" });
    expect([input.trustedIssuer, input.requiredScopes]).toEqual(["", []]);
  });

  it("sends certificate-bound tokens only for a token method, and no token settings for an MTLS app", () => {
    expect(createInput("c1", { ...values, certificateBoundTokens: true }).certificateBoundTokens).toBe(true);
    const mtls = createInput("c1", { ...values, authMethod: "MTLS", certificateBoundTokens: true });
    expect([mtls.trustedIssuer, mtls.requiredScopes, mtls.certificateBoundTokens]).toEqual(["", [], false]);
    expect(localProblems({ ...values, authMethod: "MTLS", trustedIssuer: "" }, ["trustedIssuer"])).toEqual({});
    expect(productsMethod([{ value: "1", label: "A (MTLS)" }])).toBe("MTLS");
  });

  it("asks for the issuer of a token method and valid addresses before going on", () => {
    const problems = localProblems({ ...values, trustedIssuer: " ", allowedIps: "10.0.0.1/24", name: "" }, ["name", "trustedIssuer", "allowedIps"]);
    expect(Object.keys(problems)).toEqual(["name", "trustedIssuer", "allowedIps"]);
    expect(localProblems(values, ["name", "trustedIssuer", "allowedIps"])).toEqual({});
  });

  it("drops the errors of the fields a change touches", () => {
    const errors = { productIds: "Mixed methods.", planId: "Gone.", allowedIps: "Bad.", name: "Taken." };
    expect(withoutErrorsOf(errors, { products: [], allowedIps: "" })).toEqual({ planId: "Gone.", name: "Taken." });
    expect(withoutErrorsOf(errors, { plan: null })).toEqual({ productIds: "Mixed methods.", allowedIps: "Bad.", name: "Taken." });
  });

  it("knows the products' method only when they agree", () => {
    expect(productsMethod([{ value: "1", label: "A (OIDC)" }, { value: "2", label: "B (OIDC)" }])).toBe("OIDC");
    expect(productsMethod([{ value: "1", label: "A (OIDC)" }, { value: "2", label: "B (JWT)" }])).toBeNull();
    expect(productsMethod([])).toBeNull();
  });
});
