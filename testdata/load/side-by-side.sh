#!/usr/bin/env bash
# The side-by-side benchmark: what fedgate costs, measured in ONE run
# against baselines measured in the same run on the same machine.
#
#   1. crypto calibration: µs of one RS256 verify and one ES256 sign (the
#      two crypto operations of a vend, its floor);
#   2. an instant STS stand-in (testdata/load/stsstandin) behind fedgate, at
#      16 connections: GET /healthz (the baseline), the vend API, Cognito
#      GetId and GetCredentialsForIdentity, each as a ratio to healthz, and
#      fedgate's CPU µs per vend from /proc with its ratio to the
#      calibration;
#   3. MinIO (a real STS that verifies fedgate's tokens through discovery
#      and JWKS, sts.flavor minio): AssumeRoleWithWebIdentity sent to MinIO
#      directly with a fedgate-minted token, against the same call made by
#      fedgate for a vend, at 1 and 16 connections, interleaved, repeated.
#
# Usage: testdata/load/side-by-side.sh [-d 5s] [-r 5] [--no-minio] [--profile DIR] [--soak 10m]
#   -d   duration of each measured target (default 5s)
#   -r   rounds of the interleaved MinIO comparison (default 5: single
#        rounds vary widely on shared cores; the median is what to read)
#   --profile DIR  also write CPU profiles of fedgate serving vends to the
#        stand-in at 1 and 16 connections (DIR/vend-c1.pprof, vend-c16.pprof;
#        read them with `go tool pprof -top DIR/fedgate DIR/vend-c16.pprof`)
#   --soak D  then vend against the stand-in for D at 16 connections, in
#        30-second steps, and print fedgate's resident memory after each
#        step and the store's size (memory must stay flat)
# MinIO is installed with `go install github.com/minio/minio@$MINIO_VERSION`
# into $(go env GOPATH)/bin when it is not there (a few minutes, once).
# Everything it starts is stopped on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/usr/local/go/bin:$(/usr/local/go/bin/go env GOPATH)/bin:$PATH"

# MinIO publishes no semver tags; this pseudo-version is the RELEASE of
# 2026-02-12 as the module proxy names it.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c # keep equal to peers.MinIOVersion

duration=5s rounds=5 with_minio=true profile_dir= soak=
while [ $# -gt 0 ]; do
	case "$1" in
	-d) duration=$2; shift ;;
	-r) rounds=$2; shift ;;
	--no-minio) with_minio=false ;;
	--profile) profile_dir=$2; shift ;;
	--soak) soak=$2; shift ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "side-by-side.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

for tool in node curl jq python3; do
	command -v "$tool" >/dev/null || { echo "side-by-side.sh: $tool is required" >&2; exit 1; }
done
bash testdata/peers/setup.sh
if $with_minio && ! command -v minio >/dev/null; then
	echo "== installing MinIO $MINIO_VERSION (go install; a few minutes, once)"
	go install "github.com/minio/minio@$MINIO_VERSION"
fi

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/fedgate-sbs.XXXXXX")
pids=()
cleanup() {
	local status=$? i pid
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ $status -ne 0 ]; then
		for f in "$work"/*.log; do
			[ -s "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 20 "$f"; } >&2
		done
	fi
	rm -rf "$work"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs a program that prints "PORT n" first; sets $port.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 600); do
		port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$work/$name.out" | head -n1)
		[ -n "$port" ] && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || { echo "side-by-side.sh: $name exited before listening" >&2; return 1; }
		sleep 0.1
	done
	echo "side-by-side.sh: $name did not listen within 60 s" >&2
	return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # URL PID
	for _ in $(seq 600); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { echo "side-by-side.sh: process for $1 exited" >&2; return 1; }
		sleep 0.1
	done
	echo "side-by-side.sh: $1 not ready in 60 s" >&2
	return 1
}

# serve_fedgate NAME PORT STS_ENDPOINT FLAVOR ROLE [OPS_PORT]: starts fedgate; sets $fedgate_pid.
pool_api=us-east-1:0f8c2a4e-8f0b-4c1e-9a59-1b2f1b7d2c11
pool_mobile=us-east-1:7c1e5d2a-3b4f-4a6c-9d8e-2f1a0b3c4d5e
serve_fedgate() {
	local name=$1 port=$2 sts=$3 flavor=$4 role=$5 ops=${6:-}
	mkdir -p "$work/$name"
	cat >"$work/$name/fedgate.yaml" <<EOF
server:
  listen: 127.0.0.1:$port
  ${ops:+ops_listen: 127.0.0.1:$ops}
  public_url: http://127.0.0.1:$port
  allow_upstream_cidrs: [127.0.0.0/8] # the IdP runs on loopback
store:
  path: fedgate.db
keys:
  master_key: \${FEDGATE_MASTER_KEY}
sts:
  region: us-east-1
  endpoint: $sts
  flavor: $flavor
providers:
  - id: corp
    type: oidc
    issuer: $idp
    client_id: fedgate-web
    client_secret: \${CORP_CLIENT_SECRET}
    extra_audiences: [fedgate-mobile]
pools:
  - id: $pool_api
    name: team
    providers: &providers [corp]
    allow_classic_flow: true
    rules: &rules
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: $role
  - id: $pool_mobile
    name: mobile
    providers: *providers
    rules: *rules
    allow_classic_flow: true
cognito:
  rate_per_address: 1000000
  burst_per_address: 1000000
  rate_per_identity: 1000000
  burst_per_identity: 1000000
EOF
	FEDGATE_MASTER_KEY=3q2+7w0eHh4fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8= CORP_CLIENT_SECRET=fedgate-web-secret FEDGATE_LOG_LEVEL=warn \
		"$work/fedgate" serve --config "$work/$name/fedgate.yaml" >"$work/$name.log" 2>&1 &
	pids+=($!)
	fedgate_pid=$!
	wait_http "http://127.0.0.1:$port/readyz" "$fedgate_pid"
}

cognito_body() { jq -nc --arg pool "$1" --arg k "$login_key" --arg t "$token" '{IdentityPoolId:$pool, Logins:{($k):$t}}'; }
cognito() { # URL OP BODY
	curl -fsS "$1/" -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: AWSCognitoIdentityService.$2" -d "$3"
}
# load NAME C JSON_OUT PLAN [ARGS...]
load() {
	local name=$1 c=$2 out=$3 plan=$4
	shift 4
	"$work/fedgate-load" -plan "$plan" -d "$duration" -c "$c" -n 1000000 -warmup 20 -json "$out" "$@" >"$work/$name.table"
}

echo "== build"
go build -o "$work/fedgate" ./cmd/fedgate
go build -o "$work/fedgate-load" ./cmd/fedgate-load
go build -o "$work/stsstandin" ./testdata/load/stsstandin

echo "== crypto calibration"
"$work/fedgate-load" -calibrate 1s >"$work/calibration.json"

echo "== peers"
clients=$(jq -nc '[{client_id:"fedgate-web",client_secret:"fedgate-web-secret",redirect_uris:["http://127.0.0.1/callback"]},
	{client_id:"fedgate-mobile",redirect_uris:["com.example.app:/callback"]}]')
OIDC_CLIENTS=$clients OIDC_TEST_MINT=1 start idp node testdata/peers/oidc-idp.mjs --port 0
idp="http://127.0.0.1:$port"
login_key=${idp#http://}
token=$(curl -fsS "$idp/test/id-token" -H 'Content-Type: application/json' \
	-d '{"sub":"alice","aud":"fedgate-mobile","ttl_seconds":3600,"claims":{"email":"alice@example.com","groups":["engineering","s3-readers"]}}' |
	jq -er .id_token)
start standin "$work/stsstandin"
standin="http://127.0.0.1:$port"

echo "== fedgate in front of the STS stand-in (16 connections)"
port_a=$(free_port) ops_a=
[ -n "$profile_dir" ] && ops_a=$(free_port)
serve_fedgate standin "$port_a" "$standin" aws arn:aws:iam::123456789012:role/team-data-reader "$ops_a"
url_a="http://127.0.0.1:$port_a"
identity=$(cognito "$url_a" GetId "$(cognito_body "$pool_mobile")" | jq -er .IdentityId)
creds_body=$(jq -nc --arg id "$identity" --arg k "$login_key" --arg t "$token" '{IdentityId:$id, Logins:{($k):$t}}')
jq -n --arg u "$url_a" --arg t "$token" --arg getid "$(cognito_body "$pool_mobile")" --arg creds "$creds_body" '
	def cognito($op; $body): {method:"POST", url:($u + "/"), body:$body,
		headers:{"Content-Type":"application/x-amz-json-1.1", "X-Amz-Target":("AWSCognitoIdentityService." + $op)}};
	{targets: [
		{name:"GET /healthz", method:"GET", url:($u + "/healthz")},
		{name:"POST /api/v1/credentials", method:"POST", url:($u + "/api/v1/credentials"), body:"{\"pool\":\"team\"}",
			headers:{"Content-Type":"application/json", "Authorization":("Bearer " + $t)}},
		({name:"Cognito GetId"} + cognito("GetId"; $getid)),
		({name:"Cognito GetCredentialsForIdentity"} + cognito("GetCredentialsForIdentity"; $creds))
	]}' >"$work/standin-plan.json"
load standin 16 "$work/standin.json" "$work/standin-plan.json" -cpu-pid "$fedgate_pid"
cat "$work/standin.table"

if [ -n "$profile_dir" ]; then
	echo "== CPU profiles of vends (stand-in STS) into $profile_dir"
	mkdir -p "$profile_dir"
	cp "$work/fedgate" "$profile_dir/fedgate"
	jq '{targets: [.targets[] | select(.name == "POST /api/v1/credentials")]}' "$work/standin-plan.json" >"$work/vend-plan.json"
	for c in 1 16; do
		"$work/fedgate-load" -plan "$work/vend-plan.json" -d 12s -c "$c" -n 1000000 -warmup 20 >"$work/profile-$c.table" &
		sleep 1
		curl -fsS -o "$profile_dir/vend-c$c.pprof" "http://127.0.0.1:$ops_a/debug/pprof/profile?seconds=10"
		wait $!
	done
fi

if [ -n "$soak" ]; then
	echo "== soak: vends for $soak at 16 connections; fedgate's resident memory every 30 s"
	jq '{targets: [.targets[] | select(.name == "POST /api/v1/credentials")]}' "$work/standin-plan.json" >"$work/soak-plan.json"
	soak_s=$(python3 -c 'import re, sys; m = re.fullmatch(r"(\d+)([smh])", sys.argv[1]) or sys.exit("side-by-side.sh: --soak wants a duration like 600s, 10m or 1h"); print(int(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2]])' "$soak")
	echo "step,seconds,vends,rss_kib,store_kib" >"$work/soak.csv"
	for ((step = 1; step * 30 <= soak_s; step++)); do
		"$work/fedgate-load" -plan "$work/soak-plan.json" -d 30s -c 16 -n 1000000 -warmup 0 -json "$work/soak-step.json" >/dev/null
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$fedgate_pid/status")
		db=$(du -sk "$work/standin" | cut -f1)
		echo "$step,$((step * 30)),$(jq '.[0].ok' "$work/soak-step.json"),$rss,$db" | tee -a "$work/soak.csv"
	done
fi

if $with_minio; then
	echo "== MinIO $MINIO_VERSION: straight to MinIO vs through fedgate"
	port_b=$(free_port) port_m=$(free_port)
	url_b="http://127.0.0.1:$port_b" minio_url="http://127.0.0.1:$port_m"
	# MinIO names the role of an OpenID role policy after the client id (the
	# pool id, fedgate's audience): base64url(sha1(client id)).
	minio_role="arn:minio:iam:::role/$(printf %s "$pool_api" | openssl sha1 -binary | base64 | tr '+/' '-_' | tr -d '=')"
	serve_fedgate minio "$port_b" "$minio_url" minio "$minio_role"
	MINIO_ROOT_USER=fedgate-bench MINIO_ROOT_PASSWORD=fedgate-bench-secret MINIO_BROWSER=off \
		MINIO_IDENTITY_OPENID_CONFIG_URL="$url_b/.well-known/openid-configuration" \
		MINIO_IDENTITY_OPENID_CLIENT_ID="$pool_api" MINIO_IDENTITY_OPENID_ROLE_POLICY=readwrite \
		minio server "$work/minio-data" --address "127.0.0.1:$port_m" --quiet >"$work/minio.log" 2>&1 &
	pids+=($!)
	wait_http "$minio_url/minio/health/live" "${pids[-1]}"
	# A fedgate-minted token for the direct calls: the classic flow's
	# GetOpenIdToken (audience: the pool id, as for fedgate's own vends).
	gid=$(cognito "$url_b" GetId "$(cognito_body "$pool_api")" | jq -er .IdentityId)
	minted=$(cognito "$url_b" GetOpenIdToken "$(jq -nc --arg id "$gid" --arg k "$login_key" --arg t "$token" '{IdentityId:$id, Logins:{($k):$t}}')" | jq -er .Token)
	direct_body="Action=AssumeRoleWithWebIdentity&Version=2011-06-15&DurationSeconds=900&RoleArn=$(jq -rn --arg v "$minio_role" '$v|@uri')&WebIdentityToken=$minted"
	curl -fsS "$minio_url/" -H 'Content-Type: application/x-www-form-urlencoded' -d "$direct_body" | grep -q '<AccessKeyId>' ||
		{ echo "side-by-side.sh: MinIO refused the direct AssumeRoleWithWebIdentity" >&2; exit 1; }
	key=$(curl -fsS "$url_b/api/v1/credentials" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"pool":"team"}' | jq -er .access_key_id)
	echo "MinIO vends through fedgate ($key) and directly"
	jq -n --arg m "$minio_url" --arg body "$direct_body" '{targets: [{name:"MinIO direct", method:"POST", url:($m + "/"), body:$body,
		headers:{"Content-Type":"application/x-www-form-urlencoded"}}]}' >"$work/direct-plan.json"
	jq -n --arg u "$url_b" --arg t "$token" '{targets: [{name:"fedgate -> MinIO", method:"POST", url:($u + "/api/v1/credentials"),
		body:"{\"pool\":\"team\"}", headers:{"Content-Type":"application/json", "Authorization":("Bearer " + $t)}}]}' >"$work/via-plan.json"
	for r in $(seq "$rounds"); do
		for c in 1 16; do
			load "direct-$c-$r" "$c" "$work/direct-$c-$r.json" "$work/direct-plan.json"
			load "via-$c-$r" "$c" "$work/via-$c-$r.json" "$work/via-plan.json" -cpu-pid "$fedgate_pid"
		done
	done
fi

echo
echo "== results ($(nproc) CPUs, $(uname -m); everything shares them; one run)"
python3 - "$work" "$rounds" "$with_minio" <<'EOF'
import csv, json, os, statistics, sys
work, rounds, with_minio = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true"
cal = json.load(open(f"{work}/calibration.json"))
crypto = cal["rs256_verify_us"] + cal["es256_sign_us"]
res = {r["name"]: r for r in json.load(open(f"{work}/standin.json"))}
def rps(r): return r["ok"] / (r["elapsed_ns"] / 1e9) if r["elapsed_ns"] else 0
health = rps(res["GET /healthz"])
vend = res["POST /api/v1/credentials"]
rows = [
    ("crypto floor: RS256 verify + ES256 sign", f'{cal["rs256_verify_us"]:.0f} + {cal["es256_sign_us"]:.0f} = {crypto:.0f} µs', ""),
    ("healthz req/s (baseline, 16 conns)", f"{health:.0f}", "1"),
]
for name in ["POST /api/v1/credentials", "Cognito GetId", "Cognito GetCredentialsForIdentity"]:
    r = res[name]
    rows.append((f"{name} req/s (stand-in STS, 16 conns)", f"{rps(r):.0f}", f"{rps(r)/health:.3f} of healthz"))
cpu = vend.get("cpu_us_per_request", 0)
rows.append(("fedgate CPU per vend (/proc)", f"{cpu:.0f} µs", f"{cpu/crypto:.1f}× the crypto floor"))
if with_minio:
    for c in (1, 16):
        d = [json.load(open(f"{work}/direct-{c}-{i}.json"))[0]["latency"]["p50_ns"] for i in range(1, rounds + 1)]
        v = [json.load(open(f"{work}/via-{c}-{i}.json"))[0]["latency"]["p50_ns"] for i in range(1, rounds + 1)]
        ratios = [b / a for a, b in zip(d, v)]
        rows.append((f"MinIO p50 direct / via fedgate ({c} conn{'s' if c > 1 else ''})",
                     f"{statistics.median(d)/1e3:.0f} / {statistics.median(v)/1e3:.0f} µs",
                     f"{statistics.median(ratios):.2f}× (rounds: {', '.join(f'{x:.2f}' for x in ratios)})"))
if os.path.exists(f"{work}/soak.csv"):
    steps = list(csv.DictReader(open(f"{work}/soak.csv")))
    if len(steps) >= 2:
        # The first step warms the caches and the heap up; flat means the
        # later steps stay near it.
        first, last = int(steps[0]["rss_kib"]), int(steps[-1]["rss_kib"])
        peak = max(int(s["rss_kib"]) for s in steps)
        vends = sum(int(s["vends"]) for s in steps)
        rows.append((f"fedgate RSS over a {steps[-1]['seconds']} s vend soak ({vends} vends)",
                     f"{first/1024:.0f} MiB after 30 s, {last/1024:.0f} MiB at the end, peak {peak/1024:.0f} MiB",
                     f"{last/first:.2f}× the first step"))
        grew = int(steps[-1]["store_kib"]) - int(steps[0]["store_kib"])
        later = vends - int(steps[0]["vends"])
        if later > 0:
            rows.append(("store growth during the soak (audit rows, kept by audit.retention)",
                         f"{grew/1024:.1f} MiB", f"{grew*1024/later:.0f} bytes a vend"))
w = max(len(r[0]) for r in rows)
print(f"| {'measure'.ljust(w)} | value | ratio |")
print(f"|{'-'*(w+2)}|---|---|")
for a, b, c in rows:
    print(f"| {a.ljust(w)} | {b} | {c} |")
EOF
