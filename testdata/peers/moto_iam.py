#!/usr/bin/env python3
"""moto server with IAM policy enforcement, for fedgate's end-to-end tests.

Usage: moto_iam.py [--host 127.0.0.1] [--port 0] [--admin-key AKIA...] [--admin-secret ...]

Prints "PORT <n>" as the first stdout line once the server listens, then "READY".
Stops cleanly on SIGTERM/SIGINT.

What this harness changes in moto 5.2.1:
- Enforcement is on from the first request (INITIAL_NO_AUTH_ACTION_COUNT = 0).
  Under enforcement moto has no "root" key: a request must be SigV4-signed by an
  access key of an IAM user (or of a role session) that exists in moto, and the
  user's/role's policies must allow the action. So an IAM user "fedgate-admin"
  with an Allow */* inline policy and a fixed access key is created directly in
  the backend (not over HTTP) before the server starts; that key is the admin.
- AssumeRoleWithWebIdentity and AssumeRoleWithSAML are unsigned in AWS; moto's
  auth check would read the missing Authorization header, so they are let
  through here. Cognito Identity's GetCredentialsForIdentity is unsigned in AWS
  too and is added to moto's list of public operations.

What moto checks (and does not) — findings from moto/sts and moto/iam sources:
- AssumeRoleWithWebIdentity: moto ignores WebIdentityToken entirely (no
  signature, issuer, audience or expiry check, the token is not even parsed),
  does not evaluate the role's trust policy, does not require the role to exist,
  and records no principal/session tags, no source identity. It stores the
  session Policy and DurationSeconds but never enforces the session policy.
  It returns working keys (ASIA..., with a session token) bound to the role ARN.
- AssumeRoleWithSAML: parses the base64 Response only to read the Role,
  RoleSessionName and SessionDuration attributes; no signature, audience,
  recipient or time checks; the RoleArn parameter is ignored in favour of the
  assertion's Role attribute.
- Enforcement on role-session keys: the role's inline and attached policies
  are evaluated (Action and Resource with * wildcards, explicit Deny wins).
  Conditions in identity policies are evaluated against no request context, so
  a statement with a Condition is treated as DENIED; aws:PrincipalTag and
  aws:RequestTag conditions cannot be tested with moto.
- Signature checking is real SigV4 (botocore recomputes it) for users and
  role sessions; a wrong session token is rejected.
"""

import argparse
import os
import signal
import sys
import threading

# Pin the account so every request lands in the same backend, whatever key signs it.
ACCOUNT_ID = "123456789012"
os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT_ID

from moto import settings  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

UNSIGNED_STS_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
ADMIN_USER = "fedgate-admin"
ADMIN_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def allow_unsigned_sts() -> None:
    """Let the STS calls that AWS serves without a signature skip moto's auth check."""
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self, iam_request_cls, resource="*"):
        if getattr(self, "service_name", None) == "sts" and "Authorization" not in self.headers:
            try:
                action = self._get_action()
            except Exception:  # noqa: BLE001 - unknown shape: fall through to moto's own check
                action = None
            if action in UNSIGNED_STS_ACTIONS:
                return None
        return original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate
    public = ActionAuthenticatorMixin.PUBLIC_OPERATIONS
    if "AWSCognitoIdentityService.GetCredentialsForIdentity" not in public:
        public.append("AWSCognitoIdentityService.GetCredentialsForIdentity")


def create_admin(access_key_id: str, secret: str) -> None:
    """Create the admin IAM user in-process, so no request is spent unauthenticated."""
    iam = iam_backends[ACCOUNT_ID]["aws"]
    iam.create_user(region_name="us-east-1", user_name=ADMIN_USER)
    iam.put_user_policy(ADMIN_USER, "admin", ADMIN_POLICY)
    key = iam.create_access_key(ADMIN_USER)
    # moto looks keys up by the attribute on the user's key list, so a fixed id works.
    key.access_key_id = access_key_id
    key.secret_access_key = secret


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--admin-key", default="AKIAFEDGATEADMIN0001")
    parser.add_argument("--admin-secret", default="fedgate-admin-secret-for-moto-tests-only")
    args = parser.parse_args()

    allow_unsigned_sts()
    create_admin(args.admin_key, args.admin_secret)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)
    print("READY", flush=True)

    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
