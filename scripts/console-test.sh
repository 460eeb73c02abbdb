#!/usr/bin/env bash
# Browser test of /console: installs Debian's chromium and npm playwright-core (into
# target/console-node), starts a debug server with a temporary data directory, and drives the
# console: wrong token, sign in, realm, open registration, software publisher, service
# application, a client registered over the public API found and deleted, key rotation.
# Screenshots go to target/console-screenshots/. Knob: CONSOLE_TEST_PORT (default 18541).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${CONSOLE_TEST_PORT:-18541}
command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
command -v node >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)
mkdir -p target/console-node
if [ ! -d target/console-node/node_modules/playwright-core ]; then
    (cd target/console-node && npm init -y >/dev/null && npm install --silent --no-audit --no-fund playwright-core@1)
fi
cp scripts/lib/console-test.mjs target/console-node/

cargo build -q --bin dynreg
home=$(mktemp -d)
token=console-test-admin-token-0123456789
echo "$token" >"$home/admin-token"
target/debug/dynreg --listen "127.0.0.1:$port" --data-dir "$home/data" --realms-dir realms \
    --admin-token-file "$home/admin-token" >"$home/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$home"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
done
rm -rf target/console-screenshots
timeout 180 node target/console-node/console-test.mjs "http://127.0.0.1:$port" "$token" "$PWD/target/console-screenshots"
