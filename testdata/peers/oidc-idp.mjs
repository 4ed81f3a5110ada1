#!/usr/bin/env node
// A real upstream OpenID Connect IdP (node-oidc-provider) for fedgate's end-to-end tests.
//
// Usage: node oidc-idp.mjs [--port 0] [--clients clients.json] [--users users.json]
//   env OIDC_CLIENTS   JSON array of clients (used when --clients is absent)
//   env OIDC_TEST_MINT=1 enables POST /test/id-token (see mintIdToken below)
//
// Prints "PORT <n>" as the first stdout line once listening; the issuer is http://127.0.0.1:<n>.
// Any username signs in with any non-empty password; claims come from users.json (unknown
// users get only sub and name). Login and consent are small pages of our own (not the
// devInteractions ones, which pull web fonts) so that tests can drive them over plain HTTP:
//   GET  /interaction/:uid          login or consent page
//   POST /interaction/:uid/login    form fields: login, password
//   POST /interaction/:uid/confirm  grants the requested scopes and claims
//   POST /interaction/:uid/abort    ends the flow with access_denied
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const here = dirname(fileURLToPath(import.meta.url));
const maxBodyBytes = 64 * 1024;

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT || '0' },
    host: { type: 'string', default: '127.0.0.1' },
    // The issuer when the IdP is reached through a proxy (fault tests);
    // default http://host:port.
    issuer: { type: 'string' },
    clients: { type: 'string' },
    users: { type: 'string', default: join(here, 'users.json') },
  },
});

function loadClients() {
  const raw = args.clients ? readFileSync(args.clients, 'utf8') : process.env.OIDC_CLIENTS;
  const list = raw ? JSON.parse(raw) : [{
    client_id: 'fedgate',
    client_secret: 'fedgate-secret',
    redirect_uris: ['http://127.0.0.1:8080/callback'],
  }];
  // Fill in what a code-flow client needs; any other client metadata passes through as given.
  return list.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
    ...c,
  }));
}

const users = JSON.parse(readFileSync(args.users, 'utf8'));

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
signingJwk.kid = await calculateJwkThumbprint(signingJwk);

// Listen first: the issuer has to carry the port the kernel picked.
let handler = (_req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), args.host, resolve);
});
const { port } = server.address();
const issuer = args.issuer || `http://${args.host}:${port}`;

const provider = new Provider(issuer, {
  clients: loadClients(),
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, name: id, ...(users[id] || {}) }),
  }),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'department'],
    groups: ['groups'],
  },
  // Scope-requested claims go into the ID token too, not only into userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-idp server_error:', err));

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`
    + `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

function loginPage(res, uid, status, message) {
  const error = message ? `<p id="error">${escapeHtml(message)}</p>` : '';
  page(res, status, 'Sign-in', `${error}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login">
  <input id="login" name="login" type="text" required autofocus placeholder="any username">
  <input id="password" name="password" type="password" required placeholder="any password">
  <button id="submit" type="submit">Sign-in</button>
</form>`);
}

function consentPage(res, uid, details, clientId) {
  const scopes = (details.missingOIDCScope || []).map((s) => `<li>${escapeHtml(s)}</li>`).join('');
  page(res, 200, 'Authorize', `<p>${escapeHtml(clientId)} asks for:</p><ul id="scopes">${scopes}</ul>
<form id="consent-form" method="post" action="/interaction/${escapeHtml(uid)}/confirm">
  <button id="approve" type="submit">Continue</button>
</form>
<form id="abort-form" method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <button id="deny" type="submit">Deny</button>
</form>`);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function grantConsent(details) {
  const { grantId, session, params, prompt } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    page(res, 400, 'Error', '<p>interaction mismatch</p>');
    return;
  }
  const promptName = details.prompt.name;
  if (req.method === 'GET' && !action) {
    if (promptName === 'login') loginPage(res, uid, 200);
    else consentPage(res, uid, details.prompt.details, details.params.client_id);
    return;
  }
  if (req.method !== 'POST') {
    page(res, 405, 'Error', '<p>method not allowed</p>');
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  if (action === 'login' && promptName === 'login') {
    const login = (form.get('login') || '').trim();
    if (!login || !form.get('password')) {
      loginPage(res, uid, 400, 'username and password are required');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm' && promptName === 'consent') {
    const grantIdSaved = await grantConsent(details);
    await provider.interactionFinished(req, res, { consent: { grantId: grantIdSaved } }, { mergeWithLastSubmission: true });
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }
  page(res, 400, 'Error', `<p>unexpected ${escapeHtml(action)} during ${escapeHtml(promptName)}</p>`);
}

// POST /test/id-token {sub, aud, claims?, ttl_seconds?} -> {id_token}. Signs with the
// provider's own key, so the token verifies against its JWKS; a negative ttl gives an
// expired token, and claims override any standard claim (iss, iat, exp included).
const signingKey = await importJWK(signingJwk, 'RS256');
async function mintIdToken(req, res) {
  const body = JSON.parse(await readBody(req));
  if (typeof body.sub !== 'string' || !body.aud) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'sub (string) and aud are required' }));
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const ttl = Number.isInteger(body.ttl_seconds) ? body.ttl_seconds : 300;
  const exp = now + ttl;
  const iat = ttl > 0 ? now : exp - 300;
  const payload = { iss: issuer, sub: body.sub, aud: body.aud, iat, exp, ...(body.claims || {}) };
  const idToken = await new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid, typ: 'JWT' })
    .sign(signingKey);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ id_token: idToken }));
}

const providerCallback = provider.callback();
const mintEnabled = process.env.OIDC_TEST_MINT === '1';
const interactionPath = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/;

handler = async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  try {
    if (mintEnabled && pathname === '/test/id-token' && req.method === 'POST') {
      await mintIdToken(req, res);
      return;
    }
    const match = interactionPath.exec(pathname);
    if (match) {
      await interaction(req, res, match[1], match[2]);
      return;
    }
    providerCallback(req, res);
  } catch (err) {
    console.error('oidc-idp request error:', err.message);
    if (!res.headersSent) page(res, err.statusCode || 400, 'Error', `<p>${escapeHtml(err.message)}</p>`);
    else res.end();
  }
};

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

console.log(`PORT ${port}`);
