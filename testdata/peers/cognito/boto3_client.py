#!/usr/bin/env python3
"""A boto3 app of the Cognito Identity API, pointed at fedgate.

Reads a plan (JSON) on stdin:
  {"endpoint": URL, "region": R, "pool": POOL_ID, "logins": {KEY: TOKEN},
   "identity_id": optional (else GetId), "custom_role_arn": optional,
   "op": "credentials" (default) | "open_id_token",
   "ca_bundle": optional PEM file trusted for an https endpoint (the harness
   passes it as AWS_CA_BUNDLE, which boto3 reads)}
and prints one JSON object: {"identity_id", "credentials": {...}} or
{"identity_id", "token"}, or {"error": {"code", "message", "status"}} when
the service refused (boto3's own parsing of the error).
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError


def main() -> int:
    plan = json.load(sys.stdin)
    client = boto3.client(
        "cognito-identity",
        region_name=plan["region"],
        endpoint_url=plan["endpoint"],
        # The app has no AWS credentials: these operations are unsigned.
        aws_access_key_id=None,
        aws_secret_access_key=None,
    )
    logins = plan.get("logins") or {}
    try:
        identity_id = plan.get("identity_id")
        if not identity_id:
            kwargs = {"IdentityPoolId": plan["pool"]}
            if logins:
                kwargs["Logins"] = logins
            identity_id = client.get_id(**kwargs)["IdentityId"]
        kwargs = {"IdentityId": identity_id}
        if logins:
            kwargs["Logins"] = logins
        if plan.get("op") == "open_id_token":
            out = client.get_open_id_token(**kwargs)
            print(json.dumps({"identity_id": out["IdentityId"], "token": out["Token"]}))
            return 0
        if plan.get("custom_role_arn"):
            kwargs["CustomRoleArn"] = plan["custom_role_arn"]
        out = client.get_credentials_for_identity(**kwargs)
    except ClientError as err:
        e = err.response.get("Error", {})
        print(json.dumps({"error": {
            "code": e.get("Code"), "message": e.get("Message"),
            "status": err.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }}))
        return 0
    c = out["Credentials"]
    print(json.dumps({"identity_id": out["IdentityId"], "credentials": {
        "access_key_id": c["AccessKeyId"], "secret_key": c["SecretKey"],
        "session_token": c["SessionToken"],
        # boto3 parsed the epoch-seconds number into a datetime.
        "expiration": c["Expiration"].isoformat(),
    }}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
