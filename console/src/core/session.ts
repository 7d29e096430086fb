// The console session lives in an HttpOnly cookie the app never sees; the app keeps only the
// CSRF token (in memory) that every GraphQL POST must carry. An API key typed at sign-in is sent
// once to /auth/key and then dropped: it is never stored anywhere in the browser.

export interface Session {
  authenticated: boolean;
  csrfToken?: string;
  expiresAt?: number;
  method?: "oidc" | "api_key";
}

export type SignInResult = { ok: true; session: Session } | { ok: false; message: string };

let current: Session = { authenticated: false };

export function csrfToken(): string | undefined {
  return current.csrfToken;
}

export function setSession(session: Session): Session {
  current = session;
  return session;
}

const JSON_HEADERS = { Accept: "application/json" };

export async function loadSession(): Promise<Session> {
  const response = await fetch("/auth/session", {
    credentials: "same-origin",
    headers: JSON_HEADERS,
    cache: "no-store",
  });
  if (!response.ok) return setSession({ authenticated: false });
  const body = (await response.json()) as Session;
  return setSession(body.authenticated ? body : { authenticated: false });
}

/** Exchange an API key for the session cookie; the key goes no further than this request. */
export async function signInWithKey(key: string): Promise<SignInResult> {
  let response: Response;
  try {
    response = await fetch("/auth/key", {
      method: "POST",
      credentials: "same-origin",
      headers: { ...JSON_HEADERS, "Content-Type": "application/json" },
      body: JSON.stringify({ key: key.trim() }),
    });
  } catch {
    return { ok: false, message: "The server cannot be reached. Check your connection and try again." };
  }
  return keyAnswer(response.status, await response.json().catch(() => ({})));
}

/** What a /auth/key answer means for the person signing in (exported for its unit test). */
export function keyAnswer(status: number, body: Record<string, unknown>): SignInResult {
  if (status === 200 && body.authenticated === true) {
    const session: Session = {
      authenticated: true,
      csrfToken: String(body.csrfToken ?? ""),
      expiresAt: Number(body.expiresAt ?? 0),
      method: "api_key",
    };
    return { ok: true, session: setSession(session) };
  }
  if (status === 401) {
    return {
      ok: false,
      message: "This API key is not valid: it may be mistyped, expired, regenerated or deleted.",
    };
  }
  if (status === 429) {
    return { ok: false, message: "Too many attempts from this address. Wait a minute and try again." };
  }
  if (status === 404) {
    return { ok: false, message: "This server does not accept API key sign-in." };
  }
  return { ok: false, message: "Sign-in failed on the server's side. Try again in a moment." };
}

export async function signOut(): Promise<void> {
  const token = csrfToken();
  setSession({ authenticated: false });
  await fetch("/auth/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: { ...JSON_HEADERS, ...(token ? { "X-CSRF-Token": token } : {}) },
    redirect: "manual",
  }).catch(() => undefined);
}

/** A path on this site to return to after sign-in; anything else becomes "/". */
export function safeNext(value: string | null | undefined): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return "/";
  if (value.startsWith("/sign-in")) return "/";
  return value;
}

export function signInPath(next: string): string {
  const target = safeNext(next);
  return target === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(target)}`;
}
