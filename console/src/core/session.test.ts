import { describe, expect, it } from "vitest";
import { loginUrl } from "./config";
import { csrfToken, keyAnswer, safeNext, setSession, signInPath } from "./session";

describe("API key sign-in answers", () => {
  it("keeps the CSRF token of a new session in memory", () => {
    setSession({ authenticated: false });
    const result = keyAnswer(200, { authenticated: true, csrfToken: "t0k", expiresAt: 1800000000 });
    expect(result).toEqual({
      ok: true,
      session: { authenticated: true, csrfToken: "t0k", expiresAt: 1800000000, method: "api_key" },
    });
    expect(csrfToken()).toBe("t0k");
  });

  it("explains refusals without the server's raw text", () => {
    expect(keyAnswer(401, { error: "invalid_key", message: "internal detail" })).toEqual({
      ok: false,
      message: "This API key is not valid: it may be mistyped, expired, regenerated or deleted.",
    });
    expect(keyAnswer(429, {})).toMatchObject({ ok: false, message: expect.stringContaining("Too many attempts") });
    expect(keyAnswer(500, {})).toMatchObject({ ok: false, message: expect.stringContaining("Try again") });
  });
});

describe("the page to come back to", () => {
  it("is a path on this site only", () => {
    expect(safeNext("/workspaces/w/apis?x=1")).toBe("/workspaces/w/apis?x=1");
    expect(safeNext("//evil.example/")).toBe("/");
    expect(safeNext("https://evil.example/")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/sign-in?next=/x")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });

  it("travels in the sign-in URL and to the provider's login", () => {
    expect(signInPath("/workspaces/w/members")).toBe("/sign-in?next=%2Fworkspaces%2Fw%2Fmembers");
    expect(signInPath("/")).toBe("/sign-in");
    expect(loginUrl({ key: "acme", name: "Acme" }, "/workspaces/w")).toBe("/auth/login?issuer=acme&return_to=%2Fworkspaces%2Fw");
    expect(loginUrl({ key: "acme", name: "Acme" }, "/")).toBe("/auth/login?issuer=acme");
  });
});
