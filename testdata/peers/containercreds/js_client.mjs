// A JS SDK v3 program that finds its credentials the default way: the
// client is given none, so the default provider chain must find the
// container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN) on its own. Reads a plan (JSON) on
// stdin: {"endpoint", "region", "pool_id"}. It makes a signed call the
// role allows (ListIdentityPools) and one it does not (DescribeIdentityPool),
// and prints {"access_key_id", "expiration", "listed": true | error,
// "denied": HTTP status of the refusal | "allowed"}.
import { CognitoIdentityClient, DescribeIdentityPoolCommand, ListIdentityPoolsCommand } from '@aws-sdk/client-cognito-identity';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const client = new CognitoIdentityClient({ region: plan.region, endpoint: plan.endpoint });
const out = {};
try {
  const creds = await client.config.credentials();
  out.access_key_id = creds.accessKeyId;
  out.expiration = creds.expiration ? creds.expiration.toISOString() : null;
} catch (err) {
  out.error = { name: err.name, message: err.message };
  console.log(JSON.stringify(out));
  process.exit(0);
}
try {
  await client.send(new ListIdentityPoolsCommand({ MaxResults: 10 }));
  out.listed = true;
} catch (err) {
  out.listed = `${err.name}: ${err.message}`;
}
try {
  await client.send(new DescribeIdentityPoolCommand({ IdentityPoolId: plan.pool_id }));
  out.denied = 'allowed';
} catch (err) {
  // moto's IAM refusal is an XML body the JSON protocol cannot parse, so
  // the status is the dependable part.
  out.denied = err.$metadata?.httpStatusCode ?? err.$response?.statusCode ?? err.name;
}
console.log(JSON.stringify(out));
