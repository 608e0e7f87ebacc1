"""Checks a Standard Webhooks signature (https://www.standardwebhooks.com) with the Python standard
library only, independently of jitgate's Rust code.

Usage: verify_webhook.py SECRET HEADERS_JSON BODY_FILE
  SECRET        whsec_<base64> (the prefix may be left out)
  HEADERS_JSON  a JSON object with the webhook-id, webhook-timestamp and webhook-signature headers
  BODY_FILE     the body exactly as received

Exits 0 when one of the v1 signatures matches and the timestamp is within five minutes of now,
1 when not (with the reason on stderr), 2 on bad usage.
"""

import base64
import binascii
import hashlib
import hmac
import json
import sys
import time

TOLERANCE_SECONDS = 5 * 60


def fail(reason):
    print(f"invalid: {reason}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    secret, headers_json, body_file = sys.argv[1:]
    headers = {k.lower(): v for k, v in json.loads(headers_json).items()}
    with open(body_file, "rb") as f:
        body = f.read()

    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:
        fail("the secret is not base64")

    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if name not in headers:
            fail(f"missing header {name}")
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if not timestamp.isdigit():
        fail(f"bad timestamp {timestamp!r}")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        fail("timestamp outside the tolerance")

    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
    for candidate in headers["webhook-signature"].split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            sys.exit(0)
    fail("no signature matches")


if __name__ == "__main__":
    main()
