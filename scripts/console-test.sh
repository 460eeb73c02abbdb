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

token=console-test-admin-token-0123456789
# shellcheck source=scripts/lib/start-server.sh
source scripts/lib/start-server.sh
rm -rf target/console-screenshots
timeout 180 node target/console-node/console-test.mjs "http://127.0.0.1:$port" "$token" "$PWD/target/console-screenshots"
