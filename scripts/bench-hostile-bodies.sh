#!/usr/bin/env bash
# Issue 8's hostile bodies against a release dynreg pinned to one core: the server's CPU per
# request for each worst body within the 64 KiB cap (target < 5 ms, beside a normal
# registration measured in the same run), token requests with the largest client key set
# without kid, and the RSS growth of 15,000-assertion replay-cache floods (target < 40 MiB).
# Prints every figure with MET or MISSED; exits non-zero when any target is missed. The two
# parts (bodies, replay floods) each run on a new server with an empty data directory.
#
#   scripts/bench-hostile-bodies.sh            REQUESTS=200 per figure, FLOOD=15000
#   SERVER_CPU=0 LOAD_CPU=1 scripts/bench-hostile-bodies.sh
#
# Needs python3 with `cryptography` (installed with pip when missing). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh
REQUESTS=${REQUESTS:-200}
FLOOD=${FLOOD:-15000}

python3 -c 'import cryptography' 2>/dev/null ||
  pip install --quiet cryptography 2>/dev/null || pip install --quiet --break-system-packages cryptography

bench_build --bin dynreg
missed=0
for part in bodies replay; do
  fresh_dynreg
  taskset -c "$LOAD_CPU" python3 scripts/lib/hostile_bodies.py "$DYNREG_URL" "$DYNREG_PID" \
    --requests "$REQUESTS" --flood "$FLOOD" --part "$part" || missed=1
done
exit "$missed"
