// openid-client (panva, v6): discovery on the org server and on `default`; client credentials with
// private_key_jwt (RS256 and ES256 keys, the library's default assertion) at both, and with
// client_secret_basic / client_secret_post at `default` (scope api.read); then a protected-resource call
// (GET /api/v1/users) with an org token.
//
// Usage: node openid_client.mjs WORKDIR
import * as client from 'openid-client';
import { importPKCS8 } from 'jose';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const work = process.argv[2];
const state = JSON.parse(readFileSync(join(work, 'state.json'), 'utf8'));
const { issuer, apps } = state;
const insecure = { execute: [client.allowInsecureRequests] };

function fail(msg) {
  console.log(msg);
  process.exit(1);
}

async function discover(path, clientId, metadata, auth) {
  const url = new URL(issuer + path);
  try {
    return await client.discovery(url, clientId, metadata, auth, insecure);
  } catch (e) {
    fail(`discovery of ${url.href} failed: ${e.name}: ${e.message}${e.cause ? ` (${JSON.stringify(e.cause)})` : ''}`);
  }
}

async function grant(label, config, scope) {
  let tokens;
  try {
    tokens = await client.clientCredentialsGrant(config, { scope });
  } catch (e) {
    const detail = e.error ? ` ${e.error}: ${e.error_description}` : '';
    fail(`${label}: clientCredentialsGrant failed: ${e.name}: ${e.message}${detail}`);
  }
  if (tokens.token_type?.toLowerCase() !== 'bearer' || !tokens.access_token) {
    fail(`${label}: unexpected token response ${JSON.stringify(tokens)}`);
  }
  if (tokens.scope !== scope) fail(`${label}: granted scope ${tokens.scope}, asked ${scope}`);
  if (!(tokens.expiresIn() > 0)) fail(`${label}: no expires_in`);
  return tokens.access_token;
}

function save(name, token) {
  writeFileSync(join(work, 'tokens', `${name}.jwt`), token);
}

const done = [];
let orgToken;
for (const name of ['oidc-rs256', 'oidc-es256']) {
  const app = apps[name];
  const key = await importPKCS8(readFileSync(app.pem, 'utf8'), app.alg);
  const auth = client.PrivateKeyJwt({ key, kid: app.kid });

  const org = await discover('', app.client_id, { token_endpoint_auth_signing_alg: app.alg }, auth);
  if (org.serverMetadata().issuer !== issuer) fail(`org discovery issuer ${org.serverMetadata().issuer}`);
  const token = await grant(`${app.alg} org`, org, 'okta.users.read');
  save(`${name}.org`, token);
  const info = await client.tokenIntrospection(org, token).catch((e) => fail(`${app.alg} org tokenIntrospection: ${e.name}: ${e.message}`));
  if (info.active !== true || info.sub !== app.client_id || info.scope !== 'okta.users.read') {
    fail(`${app.alg} org tokenIntrospection disagrees: ${JSON.stringify(info)}`);
  }
  orgToken ??= token;

  const dflt = await discover('/oauth2/default', app.client_id, { token_endpoint_auth_signing_alg: app.alg }, auth);
  if (dflt.serverMetadata().issuer !== `${issuer}/oauth2/default`) {
    fail(`default discovery issuer ${dflt.serverMetadata().issuer}`);
  }
  save(`${name}.default`, await grant(`${app.alg} default`, dflt, 'api.read'));
  done.push(`private_key_jwt ${app.alg}`);
}

for (const [name, auth] of [
  ['oidc-basic', client.ClientSecretBasic],
  ['oidc-post', client.ClientSecretPost],
]) {
  const app = apps[name];
  const config = await discover('/oauth2/default', app.client_id, app.client_secret, auth(app.client_secret));
  const token = await grant(`${app.method} default`, config, 'api.read');
  save(`${name}.default`, token);
  done.push(app.method);

  // Introspection and revocation through the library, authenticated the same way.
  if (name === 'oidc-basic') {
    const info = await client.tokenIntrospection(config, token).catch((e) => fail(`tokenIntrospection: ${e.name}: ${e.message}`));
    if (info.active !== true || info.client_id !== app.client_id || info.scope !== 'api.read') {
      fail(`tokenIntrospection disagrees: ${JSON.stringify(info)}`);
    }
    const doomed = await grant(`${app.method} default (to revoke)`, config, 'api.read');
    await client.tokenRevocation(config, doomed).catch((e) => fail(`tokenRevocation: ${e.name}: ${e.message}`));
    const after = await client.tokenIntrospection(config, doomed).catch((e) => fail(`tokenIntrospection: ${e.message}`));
    if (after.active !== false) fail(`a revoked token still introspects as ${JSON.stringify(after)}`);
  }
}

// A protected-resource call with the org token.
const org = await discover('', apps['oidc-rs256'].client_id, undefined, client.None());
let response;
try {
  response = await client.fetchProtectedResource(org, orgToken, new URL(`${issuer}/api/v1/users?limit=5`), 'GET');
} catch (e) {
  fail(`fetchProtectedResource GET /api/v1/users failed: ${e.name}: ${e.message}`);
}
if (response.status !== 200) fail(`GET /api/v1/users answered HTTP ${response.status}: ${await response.text()}`);
const users = await response.json();
if (!Array.isArray(users)) fail(`GET /api/v1/users did not return an array`);

// Errors surface as the library's typed errors: a wrong secret as ResponseBodyError invalid_client, a bad
// token at the resource as a parsed WWW-Authenticate Bearer challenge.
{
  const app = apps['oidc-basic'];
  const wrong = 'wrong-secret-0123456789abcdef';
  const config = await discover('/oauth2/default', app.client_id, wrong, client.ClientSecretBasic(wrong));
  try {
    await client.clientCredentialsGrant(config, { scope: 'api.read' });
    fail('a wrong client secret was accepted');
  } catch (e) {
    if (!(e instanceof client.ResponseBodyError) || e.error !== 'invalid_client' || e.status !== 401) {
      fail(`wrong secret: expected ResponseBodyError invalid_client 401, got ${e.name}: ${e.error ?? e.message} ${e.status}`);
    }
  }
  try {
    await client.fetchProtectedResource(org, 'not-a-token', new URL(`${issuer}/api/v1/users`), 'GET');
    fail('GET /api/v1/users accepted a bad token');
  } catch (e) {
    const challenge = e.cause?.[0];
    if (!(e instanceof client.WWWAuthenticateChallengeError) || challenge?.scheme !== 'bearer' ||
        challenge.parameters.error !== 'invalid_token') {
      fail(`bad token: expected a Bearer invalid_token challenge, got ${e.name}: ${e.message} ${JSON.stringify(e.cause)}`);
    }
  }
}

console.log(`discovery (org, default); client credentials with ${done.join(', ')}; tokenIntrospection (private_key_jwt at the org server, client_secret_basic at default), tokenRevocation; fetchProtectedResource GET /api/v1/users; typed errors (invalid_client, Bearer invalid_token challenge)`);
