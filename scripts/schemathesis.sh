#!/usr/bin/env bash
# Property-based API test: schemathesis (PyPI) generates requests from /openapi.json and runs
# them against a fresh debug server with the admin token. Passes when no response is a 5xx and
# none contradicts the document (status code, content type, headers, body schema).
# Knobs: SCHEMATHESIS_EXAMPLES (per operation, default 25), SCHEMATHESIS_PORT (default 18531).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${SCHEMATHESIS_EXAMPLES:-25}
port=${SCHEMATHESIS_PORT:-18531}
venv=target/py-venv

command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq python3 python3-venv)
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5

token=schemathesis-admin-token-0123456789
# shellcheck source=scripts/lib/start-server.sh
source scripts/lib/start-server.sh

set +e
# Fencing a realm or marking it moved makes it answer 503 / 421 on purpose, which would fail
# every later request to it; tests/api/realm_move.rs and scripts/cluster-test.sh cover them.
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed 12 --workers 1 --request-timeout 10 \
    --suppress-health-check all --no-color --generation-database none \
    --exclude-path-regex '/(fence|moved)$' \
    --report junit --report-junit-path target/schemathesis-junit.xml >target/schemathesis.log 2>&1
status=$?
set -e
tail -n 25 target/schemathesis.log
python3 - <<'PY'
import xml.etree.ElementTree as ET
root = ET.parse("target/schemathesis-junit.xml").getroot()
cases = list(root.iter("testcase"))
failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
print(f"schemathesis: {len(cases) - len(failed)} passed/{len(failed)} failed operations")
for name in failed:
    print("  failed:", name)
PY
if grep -q "panicked" "$home/server.log"; then
    echo "the server panicked:"; grep -B2 -A5 panicked "$home/server.log"; exit 1
fi
exit $status
