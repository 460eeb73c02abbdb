#!/usr/bin/env bash
# Parses a live /metrics scrape with the reference Python parser (prometheus_client):
# installs it into a venv under target/, then runs the metrics test, which must find it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || (apt-get update -qq && apt-get install -y -qq python3 python3-venv)
if [ ! -x target/py-venv/bin/python ]; then
    python3 -m venv target/py-venv
fi
target/py-venv/bin/pip install -q --disable-pip-version-check prometheus_client
DYNREG_REQUIRE_METRICS_PARSER=1 cargo test -q --test metrics
