#!/usr/bin/env bash
# The load script: starts moto (STS/IAM with IAM enforcement), the upstream
# OIDC IdP (oidc-provider) and a freshly built fedgate, all on 127.0.0.1,
# mints a real upstream ID token, then measures in ONE run, one target after
# the other with cmd/fedgate-load:
#
#   GET  /healthz                                 the baseline (the HTTP stack alone)
#   POST /api/v1/credentials                      gateway-token vend, STS = moto
#   Cognito GetId                                 token verification + identity lookup
#   Cognito GetCredentialsForIdentity             the Cognito vend, STS = moto
#
# and prints each figure as a ratio to the baseline. moto is a Python server
# and dominates the vend figures; fedgate's own cost per vend, against an
# in-process STS stand-in, is in the Go benchmarks:
#   go test -run '^$' -bench 'VendAPI|CognitoGetCredentials' ./gateway/
#
# Usage: testdata/load/run.sh [--smoke] [-d 10s] [-c 8] [-n 100000]
#   --smoke   2 s per target at concurrency 2 (a quick check that it all works)
# Everything it starts is stopped on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/usr/local/go/bin:$PATH"

duration=10s concurrency=8 requests=100000 warmup=20 smoke=false
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) smoke=true duration=2s concurrency=2 warmup=5 ;;
	-d) duration=$2; shift ;;
	-c) concurrency=$2; shift ;;
	-n) requests=$2; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

# A missing peer fails under CI=true; a local smoke run skips instead.
need() {
	if ! eval "$2" >/dev/null 2>&1; then
		if [ "${CI:-}" != "true" ] && $smoke; then
			echo "load smoke skipped: $1 is missing"
			exit 0
		fi
		echo "run.sh: $1 is required" >&2
		exit 1
	fi
}
need "python3 with moto 5" "python3 -c 'import moto, boto3'"
need "node" "command -v node"
need "curl" "command -v curl"
need "jq" "command -v jq"
bash testdata/peers/setup.sh

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/fedgate-load.XXXXXX")
pids=()
cleanup() {
	local status=$?
	# Newest first: the load generator, fedgate, then its peers.
	local i pid
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ $status -ne 0 ]; then
		for f in moto.log idp.log fedgate.log; do
			[ -s "$work/$f" ] && { echo "--- $f (last lines)"; tail -n 20 "$work/$f"; } >&2
		done
	fi
	rm -rf "$work"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs a peer that prints "PORT n" first; sets $port.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 600); do
		port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$work/$name.out" | head -n1)
		[ -n "$port" ] && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: $name exited before listening" >&2; return 1; }
		sleep 0.1
	done
	echo "run.sh: $name did not listen within 60 s" >&2
	return 1
}

echo "== build"
go build -o "$work/fedgate" ./cmd/fedgate
go build -o "$work/fedgate-load" ./cmd/fedgate-load

echo "== peers"
admin_key=AKIAFEDGATEADMIN0001 admin_secret=fedgate-admin-secret-for-moto-tests-only
start moto python3 testdata/peers/moto_iam.py --port 0 --admin-key "$admin_key" --admin-secret "$admin_secret"
moto="http://127.0.0.1:$port"

fedgate_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fedgate="http://127.0.0.1:$fedgate_port"
clients=$(jq -nc --arg cb "$fedgate/callback" '[{client_id:"fedgate-web",client_secret:"fedgate-web-secret",redirect_uris:[$cb]},
	{client_id:"fedgate-mobile",redirect_uris:["com.example.app:/callback"]}]')
OIDC_CLIENTS=$clients OIDC_TEST_MINT=1 start idp node testdata/peers/oidc-idp.mjs --port 0
idp="http://127.0.0.1:$port"

# The reader role, as in the end-to-end tests (moto checks no trust policy,
# but the role is real and its permissions are enforced on the credentials).
role=$(MOTO=$moto AK=$admin_key SK=$admin_secret python3 - <<'EOF'
import os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["MOTO"], region_name="us-east-1",
                   aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"])
trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/fedgate"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"]}]}'
arn = iam.create_role(RoleName="team-data-reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
iam.put_role_policy(RoleName="team-data-reader", PolicyName="read",
                    PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-data"}]}')
print(arn)
EOF
)

echo "== fedgate"
pool_team=us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11
pool_mobile=us-east-1:7c1e5d2a-3b4f-4a6c-9d8e-2f1a0b3c4d5e
cat >"$work/fedgate.yaml" <<EOF
server:
  listen: 127.0.0.1:$fedgate_port
  public_url: $fedgate
  allow_upstream_cidrs: [127.0.0.0/8] # the IdP runs on loopback
store:
  path: fedgate.db
keys:
  master_key: \${FEDGATE_MASTER_KEY}
sts:
  region: us-east-1
  endpoint: $moto
providers:
  - id: corp
    type: oidc
    issuer: $idp
    client_id: fedgate-web
    client_secret: \${CORP_CLIENT_SECRET}
    extra_audiences: [fedgate-mobile]
pools:
  # The mobile pool takes the same provider, tags and rules (YAML anchors).
  - id: $pool_team
    name: team
    providers: &providers [corp]
    principal_tags: &tags {department: department}
    rules: &rules
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: $role
  - id: $pool_mobile
    name: mobile
    providers: *providers
    principal_tags: *tags
    rules: *rules
cognito:
  # One caller and one identity make every request here: lift the limits.
  rate_per_address: 1000000
  burst_per_address: 1000000
  rate_per_identity: 1000000
  burst_per_identity: 1000000
EOF
# A test-only master key; logs at warn so that logging is not what is measured.
FEDGATE_MASTER_KEY=3q2+7w0eHh4fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8= CORP_CLIENT_SECRET=fedgate-web-secret FEDGATE_LOG_LEVEL=warn \
	"$work/fedgate" serve --config "$work/fedgate.yaml" >"$work/fedgate.log" 2>&1 &
pids+=($!)
for i in $(seq 300); do
	curl -fsS -o /dev/null "$fedgate/readyz" 2>/dev/null && break
	kill -0 "${pids[-1]}" 2>/dev/null || { echo "run.sh: fedgate exited" >&2; exit 1; }
	[ "$i" = 300 ] && { echo "run.sh: fedgate not ready in 30 s" >&2; exit 1; }
	sleep 0.1
done

echo "== a real upstream ID token, and one of each call checked"
token=$(curl -fsS "$idp/test/id-token" -H 'Content-Type: application/json' \
	-d '{"sub":"alice","aud":"fedgate-mobile","ttl_seconds":3600,"claims":{"email":"alice@example.com","groups":["engineering","s3-readers"],"department":"eng"}}' |
	jq -er .id_token)
login_key=${idp#http://}
api_body=$(jq -nc --arg pool team '{pool:$pool}')
key_id=$(curl -fsS "$fedgate/api/v1/credentials" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$api_body" |
	jq -er .access_key_id)
getid_body=$(jq -nc --arg pool "$pool_mobile" --arg k "$login_key" --arg t "$token" '{IdentityPoolId:$pool, Logins:{($k):$t}}')
cognito() {
	curl -fsS "$fedgate/" -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: AWSCognitoIdentityService.$1" -d "$2"
}
identity=$(cognito GetId "$getid_body" | jq -er .IdentityId)
creds_body=$(jq -nc --arg id "$identity" --arg k "$login_key" --arg t "$token" '{IdentityId:$id, Logins:{($k):$t}}')
cognito_key=$(cognito GetCredentialsForIdentity "$creds_body" | jq -er .Credentials.AccessKeyId)
case "$key_id$cognito_key" in ASIA*ASIA*) ;; *) echo "run.sh: STS did not vend session credentials" >&2; exit 1 ;; esac
echo "vend API and Cognito both return moto session credentials for identity $identity"

# The plan holds the token: it stays in the private work directory.
jq -n --arg u "$fedgate" --arg t "$token" --arg api "$api_body" --arg getid "$getid_body" --arg creds "$creds_body" '
	def cognito($op; $body): {method:"POST", url:($u + "/"), body:$body,
		headers:{"Content-Type":"application/x-amz-json-1.1", "X-Amz-Target":("AWSCognitoIdentityService." + $op)}};
	{targets: [
		{name:"GET /healthz", method:"GET", url:($u + "/healthz")},
		{name:"POST /api/v1/credentials", method:"POST", url:($u + "/api/v1/credentials"), body:$api,
			headers:{"Content-Type":"application/json", "Authorization":("Bearer " + $t)}},
		({name:"Cognito GetId"} + cognito("GetId"; $getid)),
		({name:"Cognito GetCredentialsForIdentity"} + cognito("GetCredentialsForIdentity"; $creds))
	]}' >"$work/plan.json"

echo "== load ($(nproc) CPUs, $(uname -m); fedgate, moto, the IdP and the load generator share them)"
# In the background with wait, so that a signal stops the run at once.
"$work/fedgate-load" -plan "$work/plan.json" -d "$duration" -c "$concurrency" -n "$requests" -warmup "$warmup" &
pids+=($!)
wait "${pids[-1]}"
echo "fedgate's own cost per vend, STS stand-in in process: go test -run '^\$' -bench 'VendAPI|CognitoGetCredentials' ./gateway/"
