// A real upstream SAML 2.0 IdP for fedgate's end-to-end tests, built on npm
// samlify (with the node-xmllint schema validator).
//
// Usage: node samlify-idp.mjs --key KEY.pem --cert CERT.pem --users USERS.json --sp-metadata-url URL
//
// Prints "PORT <n>" once it listens on 127.0.0.1. Endpoints:
//   GET  /metadata            the IdP metadata (entity id = this URL)
//   GET  /sso                 HTTP-Redirect AuthnRequest: shows a login form
//   POST /login               checks the password, answers with an auto-posting
//                             HTTP-POST form carrying the signed SAMLResponse
//   GET  /idp-initiated?user= a signed unsolicited response for that user as JSON
//                             {"SAMLResponse","acs"} (test helper: no password)
// The SP (fedgate) metadata is fetched from --sp-metadata-url on each sign-in.
// USERS.json: {"alice": {"password": "...", "nameid": "...", "attributes": {"name": "v" | ["v1","v2"]}}}
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import * as samlify from 'samlify';
import * as validator from '@authenio/samlify-node-xmllint';

const { values: args } = parseArgs({
  options: {
    key: { type: 'string' }, cert: { type: 'string' }, users: { type: 'string' },
    'sp-metadata-url': { type: 'string' },
  },
});
for (const k of ['key', 'cert', 'users', 'sp-metadata-url']) {
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }
}
samlify.setSchemaValidator(validator);
const users = JSON.parse(fs.readFileSync(args.users, 'utf8'));

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

let idp;
let base;

async function serviceProvider() {
  const res = await fetch(args['sp-metadata-url']);
  if (!res.ok) throw new Error(`SP metadata: HTTP ${res.status}`);
  return samlify.ServiceProvider({ metadata: await res.text() });
}

// attributeStatement builds a multi-valued AttributeStatement (samlify's
// templates only do one value per attribute).
function attributeStatement(attrs) {
  const parts = Object.entries(attrs).map(([name, v]) => {
    const vals = (Array.isArray(v) ? v : [v])
      .map((x) => `<saml:AttributeValue xsi:type="xs:string">${esc(x)}</saml:AttributeValue>`).join('');
    return `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${vals}</saml:Attribute>`;
  });
  return `<saml:AttributeStatement>${parts.join('')}</saml:AttributeStatement>`;
}

async function loginResponse(sp, requestInfo, username, relayState) {
  const user = users[username];
  const tagReplacement = (template) => {
    const now = new Date();
    const later = new Date(now.getTime() + 5 * 60 * 1000);
    const id = idp.entitySetting.generateID();
    const assertionID = idp.entitySetting.generateID();
    const inResponseTo = requestInfo?.extract?.request?.id || '';
    let t = template;
    if (!inResponseTo) t = t.replace(/ InResponseTo="\{InResponseTo\}"/g, '');
    const acs = sp.entityMeta.getAssertionConsumerService('post');
    let xml = samlify.default.SamlLib.replaceTagsByValue(t, {
      ID: id, AssertionID: assertionID, Destination: acs, Audience: sp.entityMeta.getEntityID(),
      SubjectRecipient: acs, Issuer: idp.entityMeta.getEntityID(), IssueInstant: now.toISOString(),
      StatusCode: samlify.Constants.StatusCode.Success, ConditionsNotBefore: now.toISOString(),
      ConditionsNotOnOrAfter: later.toISOString(), SubjectConfirmationDataNotOnOrAfter: later.toISOString(),
      NameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', NameID: user.nameid,
      InResponseTo: inResponseTo,
    });
    const authn = `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${assertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
    xml = xml.replace('{AuthnStatement}', authn).replace('{AttributeStatement}', attributeStatement(user.attributes || {}));
    return { id, context: xml };
  };
  return idp.createLoginResponse(sp, requestInfo, 'post', { email: user.nameid }, { customTagReplacement: tagReplacement, relayState });
}

function page(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html><head><title>samlify test IdP</title></head><body>${body}</body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1 << 20) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  if (req.method === 'GET' && url.pathname === '/metadata') {
    res.writeHead(200, { 'Content-Type': 'application/samlmetadata+xml' });
    res.end(idp.getMetadata());
    return;
  }
  if (req.method === 'GET' && url.pathname === '/sso') {
    const sp = await serviceProvider();
    // Validates the AuthnRequest (schema, issuer = the SP) before showing the form.
    await idp.parseLoginRequest(sp, 'redirect', { query: Object.fromEntries(url.searchParams), octetString: url.search.slice(1) });
    page(res, 200, `<h1>samlify IdP</h1><form method="post" action="/login">
<input type="hidden" name="SAMLRequest" value="${esc(url.searchParams.get('SAMLRequest') || '')}">
<input type="hidden" name="RelayState" value="${esc(url.searchParams.get('RelayState') || '')}">
<label>Username <input name="username"></label> <label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>`);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/login') {
    const form = await readForm(req);
    const username = form.get('username') || '';
    if (!users[username] || users[username].password !== form.get('password')) {
      page(res, 401, '<p id="error">Wrong username or password.</p>');
      return;
    }
    const sp = await serviceProvider();
    const query = { SAMLRequest: form.get('SAMLRequest'), RelayState: form.get('RelayState') };
    const requestInfo = await idp.parseLoginRequest(sp, 'redirect', { query });
    const out = await loginResponse(sp, requestInfo, username, form.get('RelayState'));
    page(res, 200, `<form id="saml" method="post" action="${esc(out.entityEndpoint)}">
<input type="hidden" name="SAMLResponse" value="${esc(out.context)}">
<input type="hidden" name="RelayState" value="${esc(form.get('RelayState') || '')}">
<button type="submit">Continue</button></form>`);
    return;
  }
  if (req.method === 'GET' && url.pathname === '/idp-initiated') {
    const username = url.searchParams.get('user') || '';
    if (!users[username]) { page(res, 404, 'no such user'); return; }
    const sp = await serviceProvider();
    const out = await loginResponse(sp, null, username, '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ SAMLResponse: out.context, acs: out.entityEndpoint }));
    return;
  }
  page(res, 404, 'not found');
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('samlify idp:', err && err.stack ? err.stack : err);
    if (!res.headersSent) page(res, 400, `<p id="error">${esc(err.message || err)}</p>`);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  idp = samlify.IdentityProvider({
    entityID: `${base}/metadata`,
    signingCert: fs.readFileSync(args.cert, 'utf8'),
    privateKey: fs.readFileSync(args.key, 'utf8'),
    singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${base}/sso` }],
    nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    wantAuthnRequestsSigned: false,
  });
  console.log(`PORT ${port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
