#!/usr/bin/env python3
"""Sends issue 8's worst bodies to a running dynreg and measures the server's CPU per request.

Usage: hostile_bodies.py URL PID [--requests N] [--flood N] [--part bodies|replay|all]

CPU time is the server process's utime+stime from /proc/PID/stat, read before and after N
requests of one kind over one keep-alive connection; RSS is VmRSS from /proc/PID/status. Each
figure is printed with its target and MET or MISSED, and beside the cost of a normal
registration measured in the same run (the reference). Needs `cryptography` for ES256.
Talks to 127.0.0.1 only.
"""

import argparse
import base64
import http.client
import json
import os
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

TICK = os.sysconf("SC_CLK_TCK")
REALM = "/am/oauth2/realms/root/realms/alpha"
MAX_BODY = 64 * 1024
results = []


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of stat(5), counted after the ")" that ends the command name.
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    """One keep-alive connection, reopened when the server has closed it."""

    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        assert parsed.hostname == "127.0.0.1", "loopback only"
        self.address = (parsed.hostname, parsed.port)
        self.conn = None

    def post(self, path, body, content_type="application/json"):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(*self.address, timeout=60)
            try:
                self.conn.request("POST", path, body=body,
                                  headers={"Content-Type": content_type})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def short_tokens():
    """Distinct tokens, shortest first, of RFC 6749 scope characters (no quote, backslash)."""
    alphabet = [chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\']
    n = 0
    while True:
        token, m = "", n
        while True:
            token += alphabet[m % len(alphabet)]
            m //= len(alphabet)
            if m == 0:
                break
            m -= 1
        yield token
        n += 1


def fitting_list(field, make, count):
    """`{field: [...]}` with up to `count` items, as many as fit in the 64 KiB cap."""
    items, length = [], len(field) + 8
    tokens = short_tokens()
    while len(items) < count:
        item = make(next(tokens))
        length += len(json.dumps(item)) + 2
        if length > MAX_BODY:
            break
        items.append(item)
    return {field: items}, len(items)


def measure(name, pid, send, requests, target_ms, reference_ms=None):
    statuses = {}
    before = cpu_seconds(pid)
    started = time.monotonic()
    for i in range(requests):
        status = send(i)
        statuses[status] = statuses.get(status, 0) + 1
    cpu_ms = (cpu_seconds(pid) - before) * 1000 / requests
    wall_ms = (time.monotonic() - started) * 1000 / requests
    verdict = "MET" if cpu_ms < target_ms else "MISSED"
    ratio = f"{cpu_ms / reference_ms:5.1f}x ref" if reference_ms else "reference"
    answers = ",".join(f"{s}x{n}" for s, n in sorted(statuses.items()))
    print(f"{name:44s} cpu {cpu_ms:7.3f} ms/req  wall {wall_ms:7.3f} ms  {ratio:>11s}"
          f"  target < {target_ms} ms: {verdict}  answers {answers}")
    results.append(verdict)
    return cpu_ms


class Key:
    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256",
                    "x": b64(numbers.x.to_bytes(32, "big")),
                    "y": b64(numbers.y.to_bytes(32, "big"))}

    def sign(self, claims, kid=None):
        header = {"alg": "ES256"}
        if kid:
            header["kid"] = kid
        signing_input = (b64(json.dumps(header).encode()) + "." +
                         b64(json.dumps(claims).encode())).encode()
        r, s = decode_dss_signature(self.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return signing_input.decode() + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def token_form(assertion):
    return urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    })


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("pid", type=int)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--flood", type=int, default=15_000)
    parser.add_argument("--part", choices=["bodies", "replay", "all"], default="all",
                        help="bodies: CPU per hostile body and per token request; "
                             "replay: RSS of the replay-cache floods")
    args = parser.parse_args()
    pid, n = args.pid, args.requests
    client = Client(args.url)
    register = f"{REALM}/register"
    issuer = f"{args.url}{REALM}"

    def body_sender(body):
        raw = json.dumps(body).encode()
        assert len(raw) <= MAX_BODY, len(raw)
        return lambda _: client.post(register, raw)[0]

    other = Key()
    # Token requests by a client with the largest key set allowed, none with a kid, signed by
    # the last key: every key is tried before the one that verifies.
    signer = Key()
    jwks = {"keys": [dict(other.jwk) for _ in range(15)] + [signer.jwk]}
    status, raw = client.post(register, json.dumps({
        "token_endpoint_auth_method": "private_key_jwt", "grant_types": ["client_credentials"],
        "jwks": jwks, "scope": "openid"}).encode())
    assert status == 201, raw
    client_id = json.loads(raw)["client_id"]

    def claims(jti, exp):
        now = int(time.time())
        return {"iss": client_id, "sub": client_id, "aud": issuer, "iat": now,
                "exp": exp, "jti": jti}

    token_path = f"{REALM}/access_token"
    form = "application/x-www-form-urlencoded"
    if args.part in ("bodies", "all"):
        seed = {"redirect_uris": ["https://client.example.com/callback"],
                "client_name#en": "My Client", "client_uri": "https://client.example.com/"}
        print(f"# {n} requests per figure; server pid {pid}; CPU from /proc/{pid}/stat")
        reference = measure("normal registration (reference)", pid, body_sender(seed), n, 5.0)

        scope, length = [], 0
        tokens = short_tokens()
        while True:
            token = next(tokens)
            if length + len(token) + 1 + 20 > MAX_BODY:
                break
            scope.append(token)
            length += len(token) + 1
        tagged, length = {}, 2
        for i in range(100_000):
            key = f"client_name#a{i}"
            length += len(key) + 10
            if length > MAX_BODY:
                break
            tagged[key] = "n"
        cases = [
            (f"{len(scope)} unique scope tokens", {"scope": " ".join(scope)}),
            ("10,000 contacts", fitting_list("contacts", lambda t: t, 10_000)[0]),
            ("16,000 redirect_uris (as many as fit)",
             fitting_list("redirect_uris", lambda t: t, 16_000)[0]),
            ("60,000-character client_name", {"client_name": "n" * 60_000}),
            (f"{len(tagged)} language-tagged names", tagged),
            ("30 redirect_uris of 2,000 bytes (accepted)",
             {"redirect_uris": [f"https://c.example/{i:04d}/" + "p" * 1975 for i in range(30)]}),
        ]
        keys_330 = [dict(other.jwk) for _ in range(330)]
        cases.append(("330-key jwks without kid (registration)",
                      {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": keys_330}}))
        for name, body in cases:
            measure(name, pid, body_sender(body), n, 5.0, reference)

        assertions = [signer.sign(claims(f"t{i}", int(time.time()) + 300)) for i in range(n)]
        measure("token request, 16 keys without kid", pid,
                lambda i: client.post(token_path, token_form(assertions[i]), form)[0], n, 5.0,
                reference)

    if args.part in ("replay", "all"):
        # The replay-cache flood: 11 KB jti, exp in 2100 (refused now), then the most the rules
        # allow: 256-byte jti, exp ten minutes ahead (accepted and remembered).
        for name, jti_bytes, exp in [
            ("11 KB jti, exp in 2100", 11_000, 4_102_444_800),
            ("256-byte jti, exp +600 s (accepted)", 256, None),
        ]:
            flood = args.flood
            rss_before = rss_mib(pid)
            statuses = {}
            started = time.monotonic()
            for i in range(flood):
                jti = (f"{i}-" + "j" * jti_bytes)[:jti_bytes]
                assertion = signer.sign(claims(jti, exp or int(time.time()) + 600))
                status = client.post(token_path, token_form(assertion), form)[0]
                statuses[status] = statuses.get(status, 0) + 1
            grown = rss_mib(pid) - rss_before
            verdict = "MET" if grown < 40 else "MISSED"
            results.append(verdict)
            answers = ",".join(f"{s}x{c}" for s, c in sorted(statuses.items()))
            print(f"{flood} assertions, {name:36s} RSS +{grown:6.1f} MiB in "
                  f"{time.monotonic() - started:5.1f} s  target < 40 MiB: {verdict}  answers {answers}")

    missed = results.count("MISSED")
    print(f"# {len(results) - missed} MET, {missed} MISSED")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
