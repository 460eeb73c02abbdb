#!/usr/bin/env python3
"""Print a fresh software statement like the seed's (SPEC §5, reference §12).

The seed's own statement expired in 2023. This mints the same claims with a current
`iat`/`exp`, signed HS256 with the UTF-8 bytes of the seed publisher's secret ("secret"),
as realms/alpha.json's "My Software Publisher" expects. Standard library only.

Usage: scripts/mint-seed-statement.py [--lifetime SECONDS] [--secret S] [--issuer URL]
                                      [--claim NAME=JSON ...]
"""

import argparse
import base64
import hashlib
import hmac
import json
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifetime", type=int, default=3600, help="seconds until exp")
    parser.add_argument("--secret", default="secret", help="the publisher's secret")
    parser.add_argument("--issuer", default="https://publisher.example.com")
    parser.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help='extra or replaced claim, e.g. software_id=\'"app-1"\'',
    )
    args = parser.parse_args()

    now = int(time.time())
    claims = {
        "sub": "registrar@example.com",
        "name": "John Doe",
        "iat": now,
        "exp": now + args.lifetime,
        "iss": args.issuer,
        "redirect_uris": ["https://client.example.com/callback"],
    }
    for claim in args.claim:
        name, _, value = claim.partition("=")
        claims[name] = json.loads(value)

    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(
        args.secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256
    ).digest()
    print(signing_input + "." + b64url(signature))


if __name__ == "__main__":
    main()
