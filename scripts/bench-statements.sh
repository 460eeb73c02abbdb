#!/usr/bin/env bash
# Registration throughput with a software statement: an RS256-signed statement and the same
# statement nested in an RSA-OAEP-256 / A128CBC-HS256 JWE encrypted to the realm's key, against
# plain open registration, on one pinned core with the load on the other.
#
# Usage: scripts/bench-statements.sh              DURATION=10 RUNS=3 CONNECTIONS=32
# Statements are minted with PyPI jwcrypto (installed into target/bench-statements/venv); the
# publisher "bench" (RS256, keys by value) is created in realm alpha through the admin API. One
# statement is reused for every request (statements carry no jti), valid for an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10} RUNS=${RUNS:-3} CONNECTIONS=${CONNECTIONS:-32}
work=target/bench-statements
mkdir -p "$work"
if ! "$work/venv/bin/python" -c 'import jwcrypto' 2>/dev/null; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q jwcrypto
fi
cargo build -q --release --bin dynreg
bin="$work/dynreg"; cp target/release/dynreg "$bin"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn taskset -c 0 "$bin" --workers 1 --listen "127.0.0.1:$port" --data-dir "$data" --realms-dir realms &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
issuer="$base/am/oauth2/realms/root/realms/alpha"

"$work/venv/bin/python" - "$issuer" "$work" "$(cat "$data/admin-token")" "$base" <<'PY'
import json, sys, time, urllib.request
from jwcrypto import jwk, jws, jwe
issuer, work, admin, base = sys.argv[1:5]
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
open(f"{work}/rs256.jwt", "w").write(compact)
realm_keys = json.load(urllib.request.urlopen(f"{issuer}/connect/jwk_uri"))["keys"]
rsa = next(k for k in realm_keys if k["kty"] == "RSA" and k.get("use") == "enc")
token = jwe.JWE(compact.encode(), json.dumps({"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256",
                                              "cty": "JWT", "kid": rsa["kid"]}))
token.add_recipient(jwk.JWK(**rsa))
open(f"{work}/rsa-oaep-256.jwe", "w").write(token.serialize(compact=True))
PY

measure() { # measure NAME [extra load args]
  local name=$1; shift
  taskset -c 1 "$bin" load --base-url "$base" --realm alpha -c "$CONNECTIONS" -d 2 -q "$@" >/dev/null
  local results=()
  for _ in $(seq 1 "$RUNS"); do
    results+=("$(taskset -c 1 "$bin" load --base-url "$base" --realm alpha -c "$CONNECTIONS" \
      -d "$DURATION" -q --json "$@" | python3 -c 'import json,sys; r=json.load(sys.stdin)["operations"]["register"]; print("%.0f %.2f %d" % (r["requests_per_second"], r["latency_ms"]["p99"], r["errors"]))')")
  done
  printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p" |
    { read -r rps p99 errors; echo "$name: $rps req/s (p99 $p99 ms, errors $errors)"; }
}
measure register_open
measure register_rs256_statement --software-statement "$work/rs256.jwt"
measure register_rsa_oaep_256_statement --software-statement "$work/rsa-oaep-256.jwe"
