// GraphiQL at /graphql, served from the console's build so it needs no CDN. A signed-in
// console session is used as is (with its CSRF token); otherwise add an Authorization header.
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { csrfToken, loadSession } from "../core/session";

const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  fetch: (input, init) => {
    const headers = new Headers(init?.headers);
    const token = csrfToken();
    if (token && !headers.has("Authorization")) headers.set("X-CSRF-Token", token);
    return fetch(input, { ...init, headers, credentials: "same-origin" });
  },
});

const DEFAULT_QUERY = `# Welcome to AccessPlane's GraphQL API.
# Signed in to the console? Queries run as you. Otherwise add a header:
#   {"Authorization": "Bearer apk_..."}
{
  viewer {
    name
    memberships {
      workspace { id name }
      roleName
    }
  }
}
`;

const root = document.getElementById("graphiql");
if (root) {
  loadSession()
    .catch(() => undefined)
    .finally(() => {
      createRoot(root).render(
        <StrictMode>
          <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
        </StrictMode>,
      );
    });
}
