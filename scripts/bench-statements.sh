#!/usr/bin/env bash
# Registration throughput with a software statement: an RS256-signed statement and the same
# statement nested in an RSA-OAEP-256 / A128CBC-HS256 JWE encrypted to the realm's key, against
# plain open registration, on one pinned core with the load on the other.
#
# Usage: scripts/bench-statements.sh              DURATION=10 WARMUP=3 RUNS=3 CONNECTIONS=32
# Statements are minted with PyPI jwcrypto (installed into target/bench-statements/venv); the
# publisher "bench" (RS256, keys by value) is created in realm alpha through the admin API. One
# statement is reused for every request (statements carry no jti), valid for an hour. Each
# scenario runs on a new server with an empty data directory (so the JWE is encrypted to that
# server's key). No issue sets a target for these figures; the ratios to open registration are
# printed for reading. Knobs and output format: scripts/lib/bench-common.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh

work=target/bench-statements
mkdir -p "$work"
if ! "$work/venv/bin/python" -c 'import jwcrypto' 2>/dev/null; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q jwcrypto
fi
bench_build --bin dynreg

# mint: creates the publisher in the current server's realm alpha and writes rs256.jwt and
# rsa-oaep-256.jwe (encrypted to that realm's key) into $BENCH_TMP.
mint() {
  "$work/venv/bin/python" - "$DYNREG_URL" "$BENCH_TMP" "$(cat "$DYNREG_DATA/admin-token")" <<'PY'
import json, sys, time, urllib.request
from jwcrypto import jwk, jws, jwe
base, out, admin = sys.argv[1:4]
issuer = f"{base}/am/oauth2/realms/root/realms/alpha"
key = jwk.JWK.generate(kty="RSA", size=2048, kid="bench-1")
publisher = {"issuer": "https://bench.publisher.example", "signing_algorithm": "RS256",
             "public_key_selector": "jwks", "jwks": {"keys": [json.loads(key.export_public())]}}
request = urllib.request.Request(f"{base}/admin/realms/alpha/software-publishers/bench",
                                 data=json.dumps(publisher).encode(), method="PUT",
                                 headers={"Authorization": f"Bearer {admin}"})
urllib.request.urlopen(request).read()
now = int(time.time())
claims = {"iss": "https://bench.publisher.example", "iat": now, "exp": now + 3600,
          "redirect_uris": ["https://client.example.com/callback"], "software_id": "bench"}
signed = jws.JWS(json.dumps(claims))
signed.add_signature(key, alg="RS256", protected=json.dumps({"alg": "RS256", "kid": "bench-1"}))
compact = signed.serialize(compact=True)
open(f"{out}/rs256.jwt", "w").write(compact)
realm_keys = json.load(urllib.request.urlopen(f"{issuer}/connect/jwk_uri"))["keys"]
rsa = next(k for k in realm_keys if k["kty"] == "RSA" and k.get("use") == "enc")
token = jwe.JWE(compact.encode(), json.dumps({"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256",
                                              "cty": "JWT", "kid": rsa["kid"]}))
token.add_recipient(jwk.JWK(**rsa))
open(f"{out}/rsa-oaep-256.jwe", "w").write(token.serialize(compact=True))
PY
}

# scenario NAME [statement file name]: a fresh server, then the registration figures.
scenario() {
  local name=$1 statement=()
  fresh_dynreg
  mint
  [ $# -gt 1 ] && statement=(--software-statement "$BENCH_TMP/$2")
  measure_load "$name" register --base-url "$DYNREG_URL" --realm alpha -c "$CONNECTIONS" \
    --mix register=1 "${statement[@]}"
  figure "$name" "$MEDIAN_RPS" req/s
  figure "${name}_p99" "$MEDIAN_P99" ms 2
}
scenario register_open
open=$MEDIAN_RPS
scenario register_rs256_statement rs256.jwt
figure register_rs256_statement_vs_open "$(python3 -c "print($MEDIAN_RPS / $open)")" × 2
scenario register_rsa_oaep_256_statement rsa-oaep-256.jwe
figure register_rsa_oaep_256_statement_vs_open "$(python3 -c "print($MEDIAN_RPS / $open)")" × 2
