// jose (npm): createRemoteJWKSet + jwtVerify on every access token the clients were issued
// (WORKDIR/tokens/*.jwt), against the JWKS of the server named by the token's `iss`.
//
// Usage: node verify_jose.mjs WORKDIR
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const work = process.argv[2];
const { issuer } = JSON.parse(readFileSync(join(work, 'state.json'), 'utf8'));
const servers = {
  [issuer]: { jwks: createRemoteJWKSet(new URL(`${issuer}/oauth2/v1/keys`)), audience: issuer, kind: 'org' },
  [`${issuer}/oauth2/default`]: {
    jwks: createRemoteJWKSet(new URL(`${issuer}/oauth2/default/v1/keys`)),
    audience: 'api://default',
    kind: 'default',
  },
};

function fail(msg) {
  console.log(msg);
  process.exit(1);
}

const seen = { org: 0, default: 0 };
const dir = join(work, 'tokens');
for (const name of readdirSync(dir).filter((n) => n.endsWith('.jwt')).sort()) {
  const token = readFileSync(join(dir, name), 'utf8').trim();
  const { iss } = decodeJwt(token);
  const server = servers[iss];
  if (!server) fail(`${name}: unexpected iss ${iss}`);
  try {
    const { payload, protectedHeader } = await jwtVerify(token, server.jwks, {
      issuer: iss,
      audience: server.audience,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    if (!protectedHeader.kid) fail(`${name}: no kid in the header`);
    if (payload.sub !== payload.cid) fail(`${name}: sub ${payload.sub} is not the client id ${payload.cid}`);
  } catch (e) {
    fail(`${name}: jwtVerify failed: ${e.code ?? e.name}: ${e.message}`);
  }
  seen[server.kind] += 1;
}
if (seen.org === 0 || seen.default === 0) {
  fail(`needs at least one org and one default token, had ${JSON.stringify(seen)} (did the clients fail?)`);
}
console.log(`${seen.org} org + ${seen.default} default access tokens verified via createRemoteJWKSet + jwtVerify`);
