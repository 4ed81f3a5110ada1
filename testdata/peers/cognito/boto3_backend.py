#!/usr/bin/env python3
"""A backend of developer-authenticated identities, in boto3, pointed at fedgate.

It signs in its users itself and asks the Cognito Identity API for their
identity and token, signing with an access key, as it would with an AWS key.
Reads a plan (JSON) on stdin:
  {"endpoint": URL, "region": R, "pool": POOL_ID,
   "access_key_id": ID, "secret_access_key": SECRET,
   "op": "developer_token" (default) | "lookup",
   "logins": {DEVELOPER_PROVIDER: USER_ID, ...}, "identity_id": optional,
   "principal_tags": optional {K: V}, "token_duration": optional seconds,
   "developer_user": for "lookup"}
and prints one JSON object: {"identity_id", "token"}, {"identity_id",
"developer_users"}, or {"error": {"code", "message", "status"}} when the
service refused (boto3's own parsing of the error).
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
        aws_access_key_id=plan["access_key_id"],
        aws_secret_access_key=plan["secret_access_key"],
    )
    try:
        if plan.get("op") == "lookup":
            out = client.lookup_developer_identity(
                IdentityPoolId=plan["pool"], DeveloperUserIdentifier=plan["developer_user"], MaxResults=60)
            print(json.dumps({"identity_id": out["IdentityId"], "developer_users": out["DeveloperUserIdentifierList"]}))
            return 0
        kwargs = {"IdentityPoolId": plan["pool"], "Logins": plan["logins"]}
        if plan.get("identity_id"):
            kwargs["IdentityId"] = plan["identity_id"]
        if plan.get("principal_tags"):
            kwargs["PrincipalTags"] = plan["principal_tags"]
        if plan.get("token_duration"):
            kwargs["TokenDuration"] = plan["token_duration"]
        out = client.get_open_id_token_for_developer_identity(**kwargs)
    except ClientError as err:
        e = err.response.get("Error", {})
        print(json.dumps({"error": {
            "code": e.get("Code"), "message": e.get("Message"),
            "status": err.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }}))
        return 0
    print(json.dumps({"identity_id": out["IdentityId"], "token": out["Token"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
