#!/usr/bin/env bash
# dynreg against the reference peer, node-oidc-provider 9, on the same core budget and with
# the same load tool and workload.
#
# Usage: scripts/bench-peer.sh       (about 4 minutes with the defaults)
#        DURATION=2 WARMUP=1 RUNS=1 scripts/bench-peer.sh     (smoke test)
#
# Installs npm `oidc-provider@9` into target/bench-peer (skipped when present) and runs it
# with scripts/peer/oidc-provider-server.mjs: open registration, registration management
# (RFC 7592, no RAT rotation), client_credentials with a static client, default in-memory
# adapter (nothing durable; a 1000-entry LRU). dynreg runs on a fresh data directory per
# operation with its durable sled store (every registration is flushed before the answer). Each server in turn
# is pinned to SERVER_CPU (`taskset -c 0`) and driven by `dynreg load` pinned to LOAD_CPU:
#   register  open registration, the load tool's default body (same bytes for both)
#   read      GET registration_client_uri with the registration access token
#   token     client_credentials with client_secret_basic
# CONNECTIONS (32) connections, WARMUP-second warm-up, RUNS runs of DURATION seconds, medians.
# Prints `peer_<op>` and `dynreg_<op>` (req/s, p99 ms) and a ratio line per operation,
# target dynreg ≥ 10× peer. For tokens the issue also accepts 0.8× of the bound one ES256
# signature per token sets; scripts/bench.sh prints that as `token_per_cpu_vs_bound`. For
# registration, the bound of its durable write alone plus the fixed-body request:
# `register_vs_store` and `register_per_cpu_vs_bound` in scripts/bench.sh.
#
# Knobs: DURATION (10), WARMUP (3), RUNS (3), CONNECTIONS (32), WORKERS (1), SERVER_CPU (0),
#        LOAD_CPU (1), SERVER_LOG (warn), PEER_VERSION (9), CARGO_TARGET_DIR.
# Needs: cargo, node + npm (Node 22 recommended by oidc-provider; 20 works with a warning),
# python3, curl, taskset, ss. Only 127.0.0.1 is contacted. Servers are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh

PEER_VERSION=${PEER_VERSION:-9}
peer_dir="$BENCH_ROOT/target/bench-peer"
peer_client="bench-peer-cc:bench-peer-secret"

if [ ! -f "$peer_dir/node_modules/oidc-provider/package.json" ]; then
  log "installing oidc-provider@$PEER_VERSION into $peer_dir"
  mkdir -p "$peer_dir"
  (cd "$peer_dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "oidc-provider@$PEER_VERSION" >/dev/null)
fi
peer_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$peer_dir/node_modules/oidc-provider/package.json")
bench_build --bin dynreg

log "duration ${DURATION}s, warm-up ${WARMUP}s, $RUNS run(s), medians, $CONNECTIONS connections"
declare -A dynreg_rps dynreg_p99 peer_rps peer_p99
ops=(register read token)

# dynreg
for op in "${ops[@]}"; do
  fresh_dynreg
  log "dynreg $DYNREG_URL pid $DYNREG_PID, workers $WORKERS"
  measure_load "dynreg_$op" "$op" --base-url "$DYNREG_URL" --realm alpha \
    --admin-token-file "$DYNREG_DATA/admin-token" -c "$CONNECTIONS" --mix "$op=1"
  dynreg_rps[$op]=$MEDIAN_RPS
  dynreg_p99[$op]=$MEDIAN_P99
done
stop_pid "$DYNREG_PID"

# node-oidc-provider
(cd "$peer_dir" && TOKEN_CLIENT=$peer_client exec taskset -c "$SERVER_CPU" \
  node "$BENCH_ROOT/scripts/peer/oidc-provider-server.mjs" 0) >"$BENCH_TMP/peer.log" 2>&1 &
peer_pid=$!
BENCH_PIDS+=("$peer_pid")
MEASURE_PID=$peer_pid
for _ in $(seq 1 300); do
  grep -q '^listening on ' "$BENCH_TMP/peer.log" && break
  kill -0 "$peer_pid" 2>/dev/null || break
  sleep 0.05
done
peer_url=$(sed -n 's/^listening on //p' "$BENCH_TMP/peer.log")
[ -n "$peer_url" ] || { echo "oidc-provider did not start: $(cat "$BENCH_TMP/peer.log")" >&2; exit 1; }
log "oidc-provider $peer_version at $peer_url pid $peer_pid (node $(node --version))"
for op in "${ops[@]}"; do
  measure_load "peer_$op" "$op" --base-url "$peer_url" \
    --registration-endpoint "$peer_url/reg" --token-endpoint "$peer_url/token" \
    --token-client "$peer_client" -c "$CONNECTIONS" --mix "$op=1"
  peer_rps[$op]=$MEDIAN_RPS
  peer_p99[$op]=$MEDIAN_P99
done
stop_pid "$peer_pid"

echo "peer: oidc-provider $peer_version (in-memory adapter), node $(node --version)"
for op in "${ops[@]}"; do
  figure "dynreg_$op" "${dynreg_rps[$op]}" req/s
  figure "dynreg_${op}_p99" "${dynreg_p99[$op]}" ms 2
  figure "peer_$op" "${peer_rps[$op]}" req/s
  figure "peer_${op}_p99" "${peer_p99[$op]}" ms 2
  ratio "${op}_vs_peer" "${dynreg_rps[$op]}" "${peer_rps[$op]}" 10
done
