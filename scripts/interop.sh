#!/usr/bin/env bash
# Interop with real peer clients: npm openid-client v6 and PyPI oic 1.7 discover a realm,
# obtain an initial access token and register a client through dynreg, unmodified; the Rust
# openidconnect crate 4 (tests/interop/rust, its own Cargo workspace) registers, reads,
# updates and deletes a client, validates its RFC 9068 token and parses the JWK set, every
# response with the crate's own types.
# Installs its tools into target/interop; starts and stops its own server.
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/interop
mkdir -p "$work"

if [ ! -d "$work/node/node_modules/openid-client" ]; then
  mkdir -p "$work/node"
  (cd "$work/node" && npm init -y >/dev/null && npm install --no-audit --no-fund openid-client@6 >/dev/null)
fi
if [ ! -x "$work/venv/bin/python" ] || ! "$work/venv/bin/python" -c 'import oic' 2>/dev/null; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q oic==1.7.0
fi

cargo build -q --bin dynreg
rust_target=target/interop/rust-target
cargo build -q --manifest-path tests/interop/rust/Cargo.toml --target-dir "$rust_target"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn target/debug/dynreg --listen "127.0.0.1:$port" --data-dir "$data" --realms-dir realms &
server=$!
# Wait for the server's graceful shutdown (its last flush and syncs) before its data goes.
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done

issuer="http://127.0.0.1:$port/am/oauth2/realms/root/realms/alpha"
cp tests/interop/openid_client.mjs "$work/node/"
passed=0
failed=0
run() { # run NAME COMMAND...: one peer client, counted
  if "${@:2}"; then passed=$((passed + 1)); else echo "interop: $1 failed"; failed=$((failed + 1)); fi
}
run openid-client node "$work/node/openid_client.mjs" "$issuer"
run oic "$work/venv/bin/python" tests/interop/oic_register.py "$issuer"
run openidconnect-rs "$rust_target/debug/dynreg-interop-rust" "$issuer"
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
