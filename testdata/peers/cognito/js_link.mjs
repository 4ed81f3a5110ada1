// A JS SDK v3 app that links a second sign-in to its Cognito identity,
// pointed at fedgate.
//
// Reads a plan (JSON) on stdin:
//   {"endpoint", "region", "pool", "first": {KEY: TOKEN}, "second": {KEY: TOKEN}}
// and does what an app with two sign-in buttons does: GetId with the first
// login, GetId with both (which links the second), credentials through
// fromCognitoIdentityPool with each login alone, UnlinkIdentity of the
// second (proved by the first), then each login alone again.
// Prints {"steps": {NAME: {"identity_id", "credentials"} | {"error"}}}.
import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  UnlinkIdentityCommand,
} from "@aws-sdk/client-cognito-identity";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const plan = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const clientConfig = { region: plan.region, endpoint: plan.endpoint, maxAttempts: 1 };
const client = new CognitoIdentityClient(clientConfig);
const both = { ...plan.first, ...plan.second };
const steps = {};

function creds(c) {
  return {
    access_key_id: c.accessKeyId ?? c.AccessKeyId,
    secret_key: c.secretAccessKey ?? c.SecretKey,
    session_token: c.sessionToken ?? c.SessionToken,
    expiration: (c.expiration ?? c.Expiration).toISOString(),
  };
}

async function step(name, fn) {
  try {
    steps[name] = await fn();
  } catch (err) {
    steps[name] = { error: { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode } };
  }
  return steps[name];
}

async function vendAlone(logins) {
  // A fresh provider each time: what an app signing in with one button does.
  const c = await fromCognitoIdentityPool({ identityPoolId: plan.pool, logins, clientConfig })();
  return { identity_id: c.identityId, credentials: creds(c) };
}

const first = await step("get_id_first", async () => ({
  identity_id: (await client.send(new GetIdCommand({ IdentityPoolId: plan.pool, Logins: plan.first }))).IdentityId,
}));
await step("get_id_both", async () => ({
  identity_id: (await client.send(new GetIdCommand({ IdentityPoolId: plan.pool, Logins: both }))).IdentityId,
}));
await step("vend_first", () => vendAlone(plan.first));
await step("vend_second", () => vendAlone(plan.second));
await step("unlink_second", async () => {
  await client.send(
    new UnlinkIdentityCommand({ IdentityId: first.identity_id, Logins: plan.first, LoginsToRemove: Object.keys(plan.second) }),
  );
  return {};
});
await step("vend_first_after_unlink", () => vendAlone(plan.first));
await step("second_on_old_identity", async () => {
  const out = await client.send(new GetCredentialsForIdentityCommand({ IdentityId: first.identity_id, Logins: plan.second }));
  return { identity_id: out.IdentityId, credentials: creds(out.Credentials) };
});
await step("vend_second_after_unlink", () => vendAlone(plan.second));
process.stdout.write(JSON.stringify({ steps }) + "\n");
