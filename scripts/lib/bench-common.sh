# shellcheck shell=bash disable=SC2034  # (sourced; sets variables its callers read)
# Shared helpers of the bench*.sh scripts. Source it from the repository root after
# `set -euo pipefail`: it first prints what the figures are measured on (bench_header).
# Nothing here sends traffic anywhere but 127.0.0.1.
#
# Common knobs (environment):
#   DURATION=10      seconds of each measured run
#   WARMUP=3         seconds of the warm-up run before each scenario (0: none)
#   RUNS=3           measured runs per figure; the figure is their median
#   CONNECTIONS=32   concurrent connections of the throughput scenarios
#   WORKERS=1        dynreg --workers (HTTP worker threads) on the one pinned core
#   SERVER_CPU=0     core the server under test is pinned to (taskset -c)
#   LOAD_CPU=1       core the load generator is pinned to
#   SERVER_LOG=warn  RUST_LOG of the server (info logs one line per request)
#   DYNREG_BIN       an already built dynreg to measure (default: build the release binary)
#   BUSY_POLL=1      the load tool runs with --busy-poll: its thread polls its sockets instead
#                    of sleeping, so a response never has to wake it. On loopback the server's
#                    core pays that wake-up (an inter-processor interrupt; on this VM ~20% of
#                    the token endpoint's server samples, about 9 µs per response) although a
#                    remote client's would not cost it; wrk, the fixed-body reference's
#                    generator, is busy at that rate anyway. 0: the tool sleeps when idle.
#   CARGO_TARGET_DIR is honoured when building.

BENCH_ROOT=$(pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SERVER_LOG=${SERVER_LOG:-warn}
BUSY_POLL=${BUSY_POLL:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}

# Scratch space: binaries are copied here after the build so a concurrent rebuild of the
# shared target directory cannot swap them during the run.
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dynreg-bench.XXXXXX")
BENCH_PIDS=()

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $*" >&2; }

# bench_header DIR: the first lines of every bench output: the commit measured (and whether
# the tree had uncommitted changes, which the figures then include), CPU model, kernel, and
# the filesystem DIR (where the data directories go) is on. Figures are only comparable
# between outputs whose headers match.
bench_header() {
  local dir=$1 commit dirty=""
  commit=$(git -C "$BENCH_ROOT" rev-parse HEAD 2>/dev/null || echo "unknown (not a git checkout)")
  if [ -n "$(git -C "$BENCH_ROOT" status --porcelain 2>/dev/null)" ]; then
    dirty=" (dirty: uncommitted changes are measured too)"
  fi
  echo "commit: $commit$dirty"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs; server on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
  echo "kernel: $(uname -srm)"
  echo "data_filesystem: $(stat -f -c %T "$dir") on $(df -P "$dir" | awk 'NR == 2 {print $1}') ($dir)"
  echo "load_tool: busy_poll=$BUSY_POLL"
  echo "started: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
bench_header "$BENCH_TMP"

# Builds the release binaries named as cargo arguments (e.g. --bin dynreg --example fixed_body)
# and copies them into $BENCH_TMP/bin. DYNREG_BIN=PATH measures that dynreg binary instead
# (no build; e.g. the binary of another commit, for a before/after comparison).
bench_build() {
  mkdir -p "$BENCH_TMP/bin"
  if [ -n "${DYNREG_BIN:-}" ]; then
    log "measuring $DYNREG_BIN (DYNREG_BIN: no build)"
    cp "$DYNREG_BIN" "$BENCH_TMP/bin/dynreg"
  else
    log "building release: cargo build --release $*"
    cargo build --release --quiet "$@" >&2
    cp "$TARGET_DIR/release/dynreg" "$BENCH_TMP/bin/dynreg"
  fi
  local example
  for example in fixed_body durable_store; do
    if [ -x "$TARGET_DIR/release/examples/$example" ] && [[ " $* " == *" $example "* ]]; then
      cp "$TARGET_DIR/release/examples/$example" "$BENCH_TMP/bin/$example"
    fi
  done
  DYNREG="$BENCH_TMP/bin/dynreg"
}

need_wrk() {
  if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  fi
}

# free_port: a free TCP port on 127.0.0.1; within BENCH_PORTS (LOW-HIGH) when it is set.
free_port() {
  python3 - "${BENCH_PORTS:-0-0}" <<'EOF'
import random, socket, sys
low, high = (int(p) for p in sys.argv[1].split("-"))
for port in random.sample(range(low, high + 1), min(high - low + 1, 200)):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
else:
    sys.exit("no free port in BENCH_PORTS")
EOF
}

# now_us: microseconds since the epoch (bash 5's EPOCHREALTIME, no subprocess).
now_us() { echo "${EPOCHREALTIME/./}"; }

# start_dynreg DATA_DIR [extra server flags...]
# Starts dynreg pinned to SERVER_CPU on a free port; sets DYNREG_PID, DYNREG_URL and
# DYNREG_START_SECONDS (launch to first /health answer, polled every ~10 ms from LOAD_CPU).
# Retries on a port taken meanwhile.
start_dynreg() {
  local data=$1
  shift
  local attempt port started
  for attempt in 1 2 3; do
    port=$(free_port)
    started=$(now_us)
    RUST_LOG=$SERVER_LOG taskset -c "$SERVER_CPU" "$DYNREG" --listen "127.0.0.1:$port" \
      --data-dir "$data" --realms-dir "$BENCH_ROOT/realms" --workers "$WORKERS" "$@" \
      >>"$data.log" 2>&1 &
    DYNREG_PID=$!
    BENCH_PIDS+=("$DYNREG_PID")
    DYNREG_URL="http://127.0.0.1:$port"
    if wait_health "$DYNREG_URL" "$DYNREG_PID" "${START_TIMEOUT:-600}"; then
      DYNREG_START_SECONDS=$(python3 -c "print(f'{($(now_us) - $started) / 1e6:.3f}')")
      return 0
    fi
    wait "$DYNREG_PID" 2>/dev/null || true
    log "dynreg did not come up on port $port (attempt $attempt); log: $(tail -n 3 "$data.log")"
  done
  echo "cannot start dynreg" >&2
  exit 1
}

# fresh_dynreg [extra server flags...]: stops the server the previous fresh_dynreg started
# (and deletes its data) and starts one on a new, empty data directory, so no scenario sees
# another's clients or caches. Sets DYNREG_DATA (admin token in $DYNREG_DATA/admin-token),
# DYNREG_URL, DYNREG_PID and MEASURE_PID.
FRESH_RUNS=0
FRESH_PID=
fresh_dynreg() {
  if [ -n "$FRESH_PID" ]; then
    stop_pid "$FRESH_PID"
    rm -rf "$DYNREG_DATA"
  fi
  FRESH_RUNS=$((FRESH_RUNS + 1))
  DYNREG_DATA="$BENCH_TMP/data-$FRESH_RUNS"
  start_dynreg "$DYNREG_DATA" "$@"
  FRESH_PID=$DYNREG_PID
  MEASURE_PID=$DYNREG_PID
}

# start_fixed_body SIZE [STORE_DIR RECORD_BYTES]: examples/fixed_body.rs (built by
# bench_build ... --example fixed_body) answering SIZE-byte bodies, pinned to SERVER_CPU with
# WORKERS workers; with STORE_DIR, each request first makes a registration's durable write of
# RECORD_BYTES there. Sets FIXED_URL and FIXED_PID.
start_fixed_body() {
  taskset -c "$SERVER_CPU" "$BENCH_TMP/bin/fixed_body" 127.0.0.1:0 "$1" "$WORKERS" "${@:2}" \
    >"$BENCH_TMP/fixed_body.log" 2>&1 &
  FIXED_PID=$!
  BENCH_PIDS+=("$FIXED_PID")
  for _ in $(seq 1 200); do
    grep -q '^listening on ' "$BENCH_TMP/fixed_body.log" && break
    sleep 0.05
  done
  FIXED_URL=$(sed -n 's/^listening on //p' "$BENCH_TMP/fixed_body.log")
  [ -n "$FIXED_URL" ] || { echo "fixed_body did not start: $(cat "$BENCH_TMP/fixed_body.log")" >&2; exit 1; }
}

# durable_store MODE WRITERS SECONDS VALUE_BYTES: dynreg's durable storage work alone
# (examples/durable_store.rs, built by bench_build ... --example durable_store: same Store,
# group commit and syncs, no HTTP) on a new directory in BENCH_TMP, pinned to SERVER_CPU.
# Two runs; the faster counts (a shared disk's latency swings several-fold within a minute,
# and the faster run is the stricter bound). Sets STORE_RATE (durable writes/s),
# STORE_PER_CPU (per CPU-second of the whole process, sled's threads included), STORE_P50 and
# STORE_P99 (ms, write to durable) of that run.
DURABLE_STORE_RUNS=0
durable_store() {
  local out run rate per_cpu p50 p99
  STORE_RATE=0
  for run in 1 2; do
    # A new directory each run, removed with BENCH_TMP at exit: deleting a database while
    # measuring makes the filesystem's journal commits (and so every fdatasync) slow.
    DURABLE_STORE_RUNS=$((DURABLE_STORE_RUNS + 1))
    out=$(taskset -c "$SERVER_CPU" "$BENCH_TMP/bin/durable_store" \
      "$BENCH_TMP/durable-store-$DURABLE_STORE_RUNS" "$@")
    read -r rate per_cpu p50 p99 < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["writes"] / d["seconds"], d["writes"] / max(d["cpu_ticks"], 1) * int(sys.argv[2]),
      d["p50_ms"], d["p99_ms"])
' "$out" "$(getconf CLK_TCK)")
    log "durable_store $1 $2 run $run: $(fmt "$rate" 0) writes/s, p50 $(fmt "$p50" 3) ms, p99 $(fmt "$p99" 3) ms"
    if python3 -c "import sys; sys.exit(0 if $rate > $STORE_RATE else 1)"; then
      STORE_RATE=$rate STORE_PER_CPU=$per_cpu STORE_P50=$p50 STORE_P99=$p99
    fi
  done
}

# stored_entry_bytes BASE_URL ADMIN_TOKEN_FILE REALM KEY_PREFIX: size in bytes of the first
# stored entry of REALM whose key starts with KEY_PREFIX (compact JSON, from the realm's
# complete export), e.g. a registration's record (`client/`) or a realm's keys (`keys`).
stored_entry_bytes() {
  curl -sf -H "Authorization: Bearer $(cat "$2")" "$1/admin/realms/$3/export?include_secrets=true" |
    python3 -c '
import json, sys
for key, value in json.load(sys.stdin)["entries"]:
    if key.startswith(sys.argv[1]):
        print(len(json.dumps(value, separators=(",", ":")).encode()))
        break
else:
    sys.exit(f"no stored entry starts with {sys.argv[1]!r}")
' "$4"
}

# wait_health URL PID TIMEOUT_SECONDS: true once URL/health answers 2xx while PID lives.
wait_health() {
  local url=$1 pid=$2 timeout=$3
  local deadline=$(($(now_us) + timeout * 1000000))
  while kill -0 "$pid" 2>/dev/null; do
    if taskset -c "$LOAD_CPU" curl -sf -o /dev/null --max-time 2 "$url/health"; then
      # The answer must come from PID, not from another process that took the port.
      ss -Hltnp "sport = :${url##*:}" | grep -q "pid=$pid," && return 0
      return 1
    fi
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
  return 1
}

# stop_pid PID: SIGTERM and wait (the server flushes on SIGTERM).
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# rss_kib PID: resident set size from /proc/PID/status.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# run_load OUT_JSON [dynreg load flags...]: one run of the load tool pinned to LOAD_CPU.
run_load() {
  local out=$1 busy=()
  shift
  [ "$BUSY_POLL" = 1 ] && busy=(--busy-poll)
  taskset -c "$LOAD_CPU" "$DYNREG" load --json --quiet "${busy[@]}" "$@" >"$out" 2>"$out.err" || {
    echo "dynreg load failed: $(cat "$out.err")" >&2
    return 1
  }
}

# figure_of JSON OP FIELD SECONDS: one figure of a load summary.
#   FIELD rps: requests of OP / SECONDS (every connection measures exactly --duration seconds
#              after its own preparation, so this is the rate over the measured window; the
#              tool's own requests_per_second also divides by set-up and shutdown time).
#   FIELD p50|p90|p99|p99.9|max: latency in ms.  FIELD errors: non-2xx + transport errors.
figure_of() {
  python3 - "$@" <<'EOF'
import json, sys
path, op, field, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ops = json.load(open(path))["operations"]
o = ops.get(op)
if o is None:
    sys.exit(f"no {op} operation in {path}: {ops}")
if field == "rps":
    print(o["requests"] / seconds)
elif field == "errors":
    print(o["errors"])
else:
    print(o["latency_ms"][field])
EOF
}

# median VALUES...
median() {
  python3 -c 'import statistics,sys; print(statistics.median(float(v) for v in sys.argv[1:]))' "$@"
}

# medians_of ROUNDS MEDIANS: for each key of the associative array named ROUNDS (a
# space-separated list of per-round figures), sets that key of the array named MEDIANS to
# their median.
medians_of() {
  local -n of_rounds=$1 into=$2
  local name
  for name in "${!of_rounds[@]}"; do
    # shellcheck disable=SC2086  # the rounds are a space-separated list
    into[$name]=$(median ${of_rounds[$name]})
  done
}

# fmt VALUE DECIMALS
fmt() { python3 -c "print(f'{float(\"$1\"):.${2}f}')"; }

# figure NAME VALUE UNIT [DECIMALS]: prints `name: value unit`.
figure() {
  local decimals=${4:-0}
  echo "$1: $(fmt "$2" "$decimals") $3"
}

# ratio NAME X Y TARGET [max]: prints `name: dynreg X / ref Y = Z× (target ≥ T×: MET|MISSED)`;
# with `max`, the target is Z ≤ T.
ratio() {
  python3 - "$@" <<'EOF'
import sys
name, x, y, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
at_most = len(sys.argv) > 5 and sys.argv[5] == "max"
r = x / y if y else float("inf")
def n(v):
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
verdict = "MET" if (r <= target if at_most else r >= target) else "MISSED"
sign = "≤" if at_most else "≥"
print(f"{name}: dynreg {n(x)} / ref {n(y)} = {r:.2f}× (target {sign} {target:g}×: {verdict})")
EOF
}

# bound NAME VALUE UNIT OP BOUND [NOTE]: prints `name: value unit (note; target OP BOUND unit:
# MET|MISSED)`, OP one of `<`, `≤`, `≥`.
bound() {
  python3 - "$@" <<'EOF'
import sys
name, v, unit, op, b = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
note = f"{sys.argv[6]}; " if len(sys.argv) > 6 else ""
met = {"<": v < b, "≤": v <= b, "≥": v >= b}[op]
print(f"{name}: {v:.2f} {unit} ({note}target {op} {b:g} {unit}: {'MET' if met else 'MISSED'})")
EOF
}
# limit NAME VALUE UNIT MAX [NOTE]: target value < MAX.
limit() { bound "$1" "$2" "$3" "<" "${@:4}"; }
# at_most NAME VALUE UNIT MAX [NOTE]: target value ≤ MAX.
at_most() { bound "$1" "$2" "$3" "≤" "${@:4}"; }
# at_least NAME VALUE UNIT MIN [NOTE]: target value ≥ MIN.
at_least() { bound "$1" "$2" "$3" "≥" "${@:4}"; }

# cpu_ticks PID: user + system CPU time of a process, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure_load TAG OP [dynreg load flags...]
# Warm-up run (WARMUP s), then RUNS runs of DURATION s; sets MEDIAN_RPS and MEDIAN_P99 (ms)
# to the medians over the runs. If MEASURE_PID is set, also MEDIAN_PER_CPU: requests per
# CPU-second that process used during the run (includes the run's set-up requests), a figure
# that other load on the server's core does not change much. Stops the script if a run saw
# errors.
measure_load() {
  local tag=$1 op=$2
  shift 2
  local out="$BENCH_TMP/$tag"
  if [ "$WARMUP" != 0 ]; then
    run_load "$out.warmup.json" --duration "$WARMUP" "$@"
  fi
  local rates=() p99s=() per_cpu=() i errors c0 c1
  for i in $(seq 1 "$RUNS"); do
    c0=$(cpu_ticks "${MEASURE_PID:-self}")
    run_load "$out.$i.json" --duration "$DURATION" "$@"
    c1=$(cpu_ticks "${MEASURE_PID:-self}")
    errors=$(figure_of "$out.$i.json" "$op" errors "$DURATION")
    if [ "$errors" != 0 ]; then
      echo "$tag run $i: $errors failed requests: $(cat "$out.$i.json")" >&2
      exit 1
    fi
    rates+=("$(figure_of "$out.$i.json" "$op" rps "$DURATION")")
    p99s+=("$(figure_of "$out.$i.json" "$op" p99 "$DURATION")")
    per_cpu+=("$(python3 -c "print($(figure_of "$out.$i.json" "$op" rps 1) / max($c1 - $c0, 1) * $(getconf CLK_TCK))")")
    log "$tag run $i: $(fmt "${rates[-1]}" 0) req/s, p99 $(fmt "${p99s[-1]}" 2) ms, $(fmt "${per_cpu[-1]}" 0) req/cpu-s"
  done
  MEDIAN_RPS=$(median "${rates[@]}")
  MEDIAN_P99=$(median "${p99s[@]}")
  MEDIAN_PER_CPU=$(median "${per_cpu[@]}")
}

# measure_wrk TAG URL [wrk flags...]: warm-up + RUNS runs of wrk pinned to LOAD_CPU;
# sets MEDIAN_RPS and MEDIAN_P99 (ms), and MEDIAN_PER_CPU as measure_load does when
# MEASURE_PID is set.
measure_wrk() {
  local tag=$1 url=$2
  shift 2
  local out="$BENCH_TMP/$tag"
  if [ "$WARMUP" != 0 ]; then
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "$@" "$url" >"$out.warmup.txt"
  fi
  local rates=() p99s=() per_cpu=() i c0 c1
  for i in $(seq 1 "$RUNS"); do
    c0=$(cpu_ticks "${MEASURE_PID:-self}")
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$out.$i.txt"
    c1=$(cpu_ticks "${MEASURE_PID:-self}")
    if grep -q "Non-2xx" "$out.$i.txt"; then
      echo "$tag run $i: non-2xx answers: $(cat "$out.$i.txt")" >&2
      exit 1
    fi
    rates+=("$(awk '/^Requests\/sec:/ {print $2}' "$out.$i.txt")")
    per_cpu+=("$(awk -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
      '/requests in/ {print $1 / (ticks > 0 ? ticks : 1) * hz}' "$out.$i.txt")")
    p99s+=("$(python3 - "$out.$i.txt" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"\s+99%\s+([\d.]+)(us|ms|s)\s*$", line)
    if m:
        v, u = float(m.group(1)), m.group(2)
        print(v / 1000 if u == "us" else v * 1000 if u == "s" else v)
        break
EOF
)")
    log "$tag run $i: $(fmt "${rates[-1]}" 0) req/s, p99 $(fmt "${p99s[-1]}" 2) ms, $(fmt "${per_cpu[-1]}" 0) req/cpu-s"
  done
  MEDIAN_RPS=$(median "${rates[@]}")
  MEDIAN_P99=$(median "${p99s[@]}")
  MEDIAN_PER_CPU=$(median "${per_cpu[@]}")
}

# register_raw REGISTRATION_ENDPOINT: registers one client with the load tool's default body;
# prints the response body as the server sent it.
register_raw() {
  curl -sf -H 'Content-Type: application/json' \
    --data '{"redirect_uris":["https://client.example.com/callback"],"client_name":"load","grant_types":["authorization_code","client_credentials"]}' \
    "$1"
}

# register_one REGISTRATION_ENDPOINT: register_raw; prints "registration_client_uri
# registration_access_token".
register_one() {
  register_raw "$1" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["registration_client_uri"], d["registration_access_token"])'
}
