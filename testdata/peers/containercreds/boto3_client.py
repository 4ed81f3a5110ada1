#!/usr/bin/env python3
"""A boto3 program that finds its credentials the default way.

It is given no credentials: boto3's default chain must find the container
credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN) on its own. Reads a plan (JSON) on stdin:
  {"endpoint": S3 URL, "region": R, "bucket": B, "rounds": N, "interval": S,
   "write_key": K}
lists the bucket N times, S seconds apart, noting the access key boto3 holds
before each call (it refreshes them itself when they near expiry), then
tries to write K. Prints one JSON object:
  {"method", "keys": [...], "listed": [[...], ...], "errors": [...], "write": "ok" | error code}
"""
import json
import sys
import time

import boto3
from botocore.exceptions import ClientError


def main() -> int:
    plan = json.load(sys.stdin)
    session = boto3.session.Session(region_name=plan["region"])
    s3 = session.client("s3", endpoint_url=plan["endpoint"])
    creds = session.get_credentials()
    out = {"method": creds.method if creds else None, "keys": [], "listed": [], "errors": []}
    for i in range(plan.get("rounds", 1)):
        if i:
            time.sleep(plan.get("interval", 1))
        out["keys"].append(creds.get_frozen_credentials().access_key)
        try:
            page = s3.list_objects_v2(Bucket=plan["bucket"])
            out["listed"].append([o["Key"] for o in page.get("Contents", [])])
        except ClientError as err:
            out["errors"].append(err.response.get("Error", {}).get("Code"))
    try:
        s3.put_object(Bucket=plan["bucket"], Key=plan["write_key"], Body=b"x")
        out["write"] = "ok"
    except ClientError as err:
        out["write"] = err.response.get("Error", {}).get("Code")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
