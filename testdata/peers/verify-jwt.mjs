#!/usr/bin/env node
// Independent verification of a JWT: node verify-jwt.mjs ISSUER AUDIENCE TOKEN
// Fetches ISSUER/.well-known/openid-configuration, then its jwks_uri, and verifies the
// signature, iss, aud, exp and nbf with jose. Prints the payload JSON and exits 0, or
// prints the error and exits 1.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, audience, token] = process.argv.slice(2);
if (!issuer || !audience || !token) {
  console.error('usage: verify-jwt.mjs ISSUER AUDIENCE TOKEN');
  process.exit(2);
}

try {
  const discoveryUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(discoveryUrl, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`discovery ${discoveryUrl}: HTTP ${response.status}`);
  const discovery = await response.json();
  if (discovery.issuer !== issuer) {
    throw new Error(`discovery issuer ${JSON.stringify(discovery.issuer)} != ${JSON.stringify(issuer)}`);
  }
  if (!discovery.jwks_uri) throw new Error('discovery document has no jwks_uri');
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: 10_000 });
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'],
  });
  if (!protectedHeader.kid) throw new Error('token header has no kid');
  console.log(JSON.stringify(payload));
} catch (err) {
  console.error(`${err.code || err.name}: ${err.message}`);
  process.exit(1);
}
