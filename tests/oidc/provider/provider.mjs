// A real OpenID Provider (oidc-provider, OpenID Certified) for AccessPlane's OIDC tests.
// Loopback only, in-memory, development interactions (any login and password is accepted).
//
// Environment: PORT (required), APP_BASE_URL (the AccessPlane under test, for redirect URIs),
// ACCESS_TOKEN_TTL (seconds, default 300).
//
// Test-only endpoints (loopback, no authentication):
//   POST /__test__/rotate            new signing key first in the JWKS, the old one kept after it
//   POST /__test__/accounts/<id>     JSON {email, name, groups, email_verified} for an account's
//                                    claims (email_verified: true unless given)
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
if (!port) throw new Error('PORT is required');
const issuer = `http://127.0.0.1:${port}`;
const appBase = (process.env.APP_BASE_URL || 'http://testserver').replace(/\/$/, '');
const accessTokenTTL = Number(process.env.ACCESS_TOKEN_TTL || 300);

export const API = 'urn:accessplane:api';
export const OTHER_API = 'urn:other:api';

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const accounts = new Map();
function account(id) {
  return accounts.get(id) || { email: `${id}@example.com`, name: `User ${id}`, groups: [] };
}

const clients = [
  {
    // AccessPlane's console login: confidential, PKCE required like every client here.
    client_id: 'accessplane-console',
    client_secret: 'console-secret',
    redirect_uris: [`${appBase}/auth/callback`],
    post_logout_redirect_uris: [`${appBase}/`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
  {
    // An SPA with its own PKCE login whose access tokens call AccessPlane's GraphQL API.
    client_id: 'accessplane-spa',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/spa/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
  {
    // A partner's machine client (client credentials).
    client_id: 'partner-billing',
    client_secret: 'partner-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  },
  {
    client_id: 'partner-unlinked',
    client_secret: 'unlinked-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  },
];

let keys = [newSigningKey()];

function configuration() {
  return {
    clients,
    jwks: { keys },
    cookies: { keys: ['accessplane-test-provider-cookies'] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups', 'api'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          const { email, name, groups, email_verified = true } = account(id);
          return { sub: id, email, email_verified, name, groups };
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // JWT access tokens for AccessPlane's API; the console login keeps opaque ones.
        defaultResource: (_ctx, client, oneOf) =>
          oneOf || (client.clientId === 'accessplane-console' ? undefined : API),
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource) {
          if (resource === API || resource === OTHER_API) {
            return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL };
          }
          throw new errors.InvalidTarget();
        },
      },
    },
    formats: {
      customizers: {
        // Like Keycloak's mappers: a user's access token carries email and groups.
        jwt(_ctx, token, jwt) {
          if (token.accountId) {
            const { email, groups } = account(token.accountId);
            jwt.payload.email = email;
            jwt.payload.groups = groups;
          }
        },
      },
    },
    ttl: { IdToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  };
}

let provider = new Provider(issuer, configuration());

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

async function testEndpoint(req, res) {
  if (req.method === 'POST' && req.url === '/__test__/rotate') {
    keys = [newSigningKey(), ...keys];
    // A new Provider with the new key first; sessions and grants live in the shared
    // in-memory adapter, so they survive the swap.
    provider = new Provider(issuer, configuration());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  const match = req.url.match(/^\/__test__\/accounts\/([^/]+)$/);
  if (req.method === 'POST' && match) {
    accounts.set(decodeURIComponent(match[1]), await readJson(req));
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(404);
  res.end();
}

const server = createServer((req, res) => {
  if (req.url.startsWith('/__test__/')) {
    testEndpoint(req, res).catch((error) => {
      res.writeHead(500);
      res.end(String(error));
    });
    return;
  }
  provider.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
