import { Client, cacheExchange, fetchExchange, mapExchange } from "urql";
import { isUnauthenticated } from "./errors";
import { csrfToken } from "./session";

/** The one GraphQL client: same-origin cookie, CSRF header, and a hook for expired sessions. */
export function createClient(onUnauthenticated: () => void): Client {
  return new Client({
    url: "/graphql",
    requestPolicy: "cache-and-network",
    fetchOptions: (): RequestInit => {
      const headers: Record<string, string> = {};
      const token = csrfToken();
      if (token) headers["X-CSRF-Token"] = token;
      return { credentials: "same-origin", headers };
    },
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error)) onUnauthenticated();
        },
      }),
      fetchExchange,
    ],
  });
}
