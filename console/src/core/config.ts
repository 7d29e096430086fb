// What the server tells the sign-in page before anyone is signed in (a <meta> it fills in).

export interface Provider {
  key: string;
  name: string;
}

export interface ConsoleConfig {
  providers: Provider[];
}

export function readConfig(doc: Document = document): ConsoleConfig {
  const content = doc.querySelector('meta[name="accessplane-config"]')?.getAttribute("content");
  if (!content) return { providers: [] };
  try {
    const parsed = JSON.parse(content) as Partial<ConsoleConfig>;
    return { providers: Array.isArray(parsed.providers) ? parsed.providers : [] };
  } catch {
    return { providers: [] };
  }
}

export function loginUrl(provider: Provider, next: string): string {
  const query = new URLSearchParams({ issuer: provider.key });
  if (next !== "/") query.set("return_to", next);
  return `/auth/login?${query.toString()}`;
}
