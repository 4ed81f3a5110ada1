// A JS SDK v3 app of the Cognito Identity API, pointed at fedgate.
//
// Reads a plan (JSON) on stdin:
//   {"endpoint", "region", "pool", "logins": {KEY: TOKEN}, "identity_id"?,
//    "custom_role_arn"?, "mode": "provider" | "identity" | "client"}
// "provider" is what web apps do: fromCognitoIdentityPool from
// @aws-sdk/credential-providers (GetId, then GetCredentialsForIdentity).
// "identity" is fromCognitoIdentity with a known identity_id, as apps of
// developer-authenticated identities do with their backend's token.
// "client" calls GetCredentialsForIdentity with CognitoIdentityClient.
// Prints {"identity_id", "credentials": {...}} or {"error": {"name",
// "message", "status"}} (the SDK's own parsing of the refusal).
import { fromCognitoIdentity, fromCognitoIdentityPool } from "@aws-sdk/credential-providers";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const plan = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const clientConfig = { region: plan.region, endpoint: plan.endpoint, maxAttempts: 1 };
const logins = plan.logins && Object.keys(plan.logins).length ? plan.logins : undefined;

function print(v) {
  process.stdout.write(JSON.stringify(v) + "\n");
}

try {
  if (plan.mode === "provider" || plan.mode === "identity") {
    const provider =
      plan.mode === "provider"
        ? fromCognitoIdentityPool({ identityPoolId: plan.pool, logins, customRoleArn: plan.custom_role_arn, clientConfig })
        : fromCognitoIdentity({ identityId: plan.identity_id, logins, customRoleArn: plan.custom_role_arn, clientConfig });
    const c = await provider();
    print({
      identity_id: c.identityId,
      credentials: {
        access_key_id: c.accessKeyId,
        secret_key: c.secretAccessKey,
        session_token: c.sessionToken,
        expiration: c.expiration.toISOString(),
      },
    });
  } else {
    const client = new CognitoIdentityClient(clientConfig);
    let id = plan.identity_id;
    if (!id) {
      id = (await client.send(new GetIdCommand({ IdentityPoolId: plan.pool, Logins: logins }))).IdentityId;
    }
    const out = await client.send(
      new GetCredentialsForIdentityCommand({ IdentityId: id, Logins: logins, CustomRoleArn: plan.custom_role_arn }),
    );
    const c = out.Credentials;
    print({
      identity_id: out.IdentityId,
      credentials: {
        access_key_id: c.AccessKeyId,
        secret_key: c.SecretKey,
        session_token: c.SessionToken,
        expiration: c.Expiration.toISOString(),
      },
    });
  }
} catch (err) {
  print({ error: { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode } });
}
