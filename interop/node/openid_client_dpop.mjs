// openid-client (panva, v6) with DPoP (RFC 9449) against a DPoP-bound app: a generated ES256 key pair,
// getDPoPHandle, clientCredentialsGrant with the handle (the library answers use_dpop_nonce itself, with a
// new private_key_jwt assertion), a token of type DPoP, then fetchProtectedResource GET /api/v1/users with
// the same handle (Authorization: DPoP + a proof with ath). Also checks that the same token is refused
// without its proof.
//
// Usage: node openid_client_dpop.mjs WORKDIR
import * as client from 'openid-client';
import { importPKCS8 } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const work = process.argv[2];
const { issuer, apps } = JSON.parse(readFileSync(join(work, 'state.json'), 'utf8'));
const app = apps['oidc-dpop'];

function fail(msg) {
  console.log(msg);
  process.exit(1);
}
const why = (e) => `${e.name}: ${e.message}${e.error ? ` ${e.error}: ${e.error_description}` : ''}`;

const key = await importPKCS8(readFileSync(app.pem, 'utf8'), app.alg);
const config = await client
  .discovery(new URL(issuer), app.client_id, { token_endpoint_auth_signing_alg: app.alg },
    client.PrivateKeyJwt({ key, kid: app.kid }), { execute: [client.allowInsecureRequests] })
  .catch((e) => fail(`discovery failed: ${why(e)}`));
if (!config.serverMetadata().dpop_signing_alg_values_supported?.includes('ES256')) {
  fail(`discovery lacks dpop_signing_alg_values_supported: ${JSON.stringify(config.serverMetadata())}`);
}

const keyPair = await client.randomDPoPKeyPair('ES256');
const DPoP = client.getDPoPHandle(config, keyPair);
const tokens = await client
  .clientCredentialsGrant(config, { scope: 'okta.users.read' }, { DPoP })
  .catch((e) => fail(`clientCredentialsGrant with DPoP failed: ${why(e)}`));
if (tokens.token_type?.toLowerCase() !== 'dpop') fail(`token_type ${tokens.token_type}, expected DPoP`);

const url = new URL(`${issuer}/api/v1/users?limit=5`);
for (let i = 0; i < 2; i++) {
  const response = await client
    .fetchProtectedResource(config, tokens.access_token, url, 'GET', undefined, undefined, { DPoP })
    .catch((e) => fail(`fetchProtectedResource with DPoP failed: ${why(e)} ${JSON.stringify(e.cause ?? '')}`));
  if (response.status !== 200) fail(`GET /api/v1/users answered HTTP ${response.status}: ${await response.text()}`);
  if (!Array.isArray(await response.json())) fail('GET /api/v1/users did not return an array');
}

// Without the proof (as a plain Bearer token) the bound token is refused.
const bare = await fetch(url, { headers: { authorization: `Bearer ${tokens.access_token}` } });
if (bare.status < 400) fail(`the DPoP-bound token was accepted as Bearer (HTTP ${bare.status})`);

console.log('getDPoPHandle (ES256): clientCredentialsGrant with the nonce round trip gave a DPoP token; fetchProtectedResource GET /api/v1/users twice; refused as Bearer');
