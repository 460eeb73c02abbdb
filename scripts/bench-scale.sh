#!/usr/bin/env bash
# Scale scenarios of dynreg: a realm with CLIENTS clients vs an empty realm, and a server with
# REALMS realms (start-up time, idle RSS, first request to a cold realm). One realm vs 100
# realms is in scripts/bench.sh (SCENARIOS=realms).
#
# Usage: scripts/bench-scale.sh      (1,000,000 clients; as many realms as fit REALM_BUDGET)
#        DURATION=2 WARMUP=1 RUNS=1 CLIENTS=20000 REALMS=200 scripts/bench-scale.sh   (smoke)
#        SCENARIOS=realms REALMS=100000 scripts/bench-scale.sh    (the full 100,000 realms)
#
# Server pinned to SERVER_CPU (`taskset -c 0`, --workers WORKERS), load on LOAD_CPU, fresh
# temporary data directories, release build (`cargo build --release`), figures are medians of
# RUNS runs of DURATION s after a WARMUP-s warm-up, throughput = requests / DURATION.
#
# clients (figure prefix empty_ / big_):
#   1. realms `empty` and `big` are created (open registration); SAMPLE (1000) clients are
#      registered in each and their URIs + tokens kept;
#   2. for reference only (fresh_empty_*): on the fresh server, `empty`'s read (`dynreg load`,
#      CONNECTIONS) and `read_sample` (wrk reading random clients of the sample: old clients,
#      not only the ones the load tool just registered), and registration into a new realm;
#   3. prefill: `dynreg load --requests CLIENTS -c 64 --mix register=1` into `big` (durable,
#      as any registration); the first PREFILL_PROBE (20000) give the rate and a projection;
#   4. RUNS alternating rounds on the same server after the prefill (empty first in odd
#      rounds, big first in even ones; one WARMUP + one DURATION run each): read,
#      read_sample and register of `big` and of `empty` (whose registrations go to a new
#      realm each round, so the reference stays empty); figures are medians over the rounds.
#      Targets: throughput ≥ 0.8× empty, read p99 ≤ 2× empty; bytes_per_client (data-dir
#      growth during the prefill / CLIENTS, du -sk, once sled's segment cleaning after the
#      burst has stopped changing the size) < 600.
# realms (figure prefix realms_), server with --realm-idle-seconds REALM_IDLE_SECONDS:
#   1. a fresh server is restarted once with only the imported realms: baseline start-up/RSS;
#      the disk's fdatasync median gives the bound of one durable creation after another;
#   2. REALM_PROBE (2000) realms are created through `PUT /admin/realms/r-N` (REALM_CONCURRENCY
#      connections, default 1) to measure the creation rate (target ≥ 1,000/s, each 201
#      durable); the projected time for 100,000 is printed. The bound, measured just before
#      and just after (the faster run counts): the same probe, same client, against
#      examples/fixed_body.rs making a creation's durable write per request (one atomic batch
#      of the keys at their stored size, settings, index entry, the durable flush; answered
#      201 with a body of dynreg's answer's size) on a fresh store: the HTTP round trip and
#      the storage a creation cannot avoid, in one process on the server's core;
#      realms_create_vs_http_store, target ≥ 0.8×. For contrast, the storage work alone
#      (examples/durable_store.rs, REALM_CONCURRENCY writers, no HTTP, DURATION s, two runs
#      each time): realms_create_vs_store, a figure (no round trip in it, so one connection
#      cannot come near it);
#   3. more realms up to REALMS (default: 100000 if the projection fits REALM_BUDGET seconds,
#      else what fits, said clearly in the output);
#   4. restart: start-up time (launch to first /health 2xx, target < 2 s), idle RSS (VmRSS 2 s
#      after, target < 1 GiB), data size, and the first GET discovery and first POST
#      registration to COLD_SAMPLES (200) realms untouched since the start (median and p99,
#      target p99 < 10 ms), with a second (warm) request for contrast; linear projections to
#      100,000 realms when fewer were made;
#   5. dormant actors stopped: the realms the cold requests started must all be stopped again
#      within 3 × REALM_IDLE_SECONDS + 10 s (`dynreg_realms_active` back to 0).
# The clients part also checks data-dir bytes per client ≤ 600 (all clients of the server
# counted as CLIENTS + SAMPLE, fewer than there are, so the figure errs high).
# Knobs: SCENARIOS ("clients realms"), CLIENTS (1000000), PREFILL_PROBE (20000),
#        PREFILL_CONNECTIONS (64), SAMPLE (1000), REALMS (auto), REALM_PROBE (2000),
#        REALM_BUDGET (600 s), REALM_CONCURRENCY (1), COLD_SAMPLES (200),
#        REALM_IDLE_SECONDS (5), DURATION (10),
#        WARMUP (3), RUNS (3), CONNECTIONS (32), WORKERS (1), SERVER_CPU (0), LOAD_CPU (1),
#        SERVER_LOG (warn), CARGO_TARGET_DIR.
# Needs: cargo, python3, curl, taskset, ss, wrk (installed with apt-get if missing); disk for
# the data under TMPDIR (plan ~0.7 GiB per 1,000,000 clients: 540-570 bytes each measured).
# Takes roughly 10 min for the clients part (prefill time is printed after PREFILL_PROBE) and
# REALM_BUDGET + 2 min for the realms part. Only 127.0.0.1 is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench-common.sh
source scripts/lib/bench-common.sh

SCENARIOS=${SCENARIOS:-clients realms}
CLIENTS=${CLIENTS:-1000000}
PREFILL_PROBE=${PREFILL_PROBE:-20000}
PREFILL_CONNECTIONS=${PREFILL_CONNECTIONS:-64}
SAMPLE=${SAMPLE:-1000}
REALM_PROBE=${REALM_PROBE:-2000}
REALM_BUDGET=${REALM_BUDGET:-600}
REALM_CONCURRENCY=${REALM_CONCURRENCY:-1}
COLD_SAMPLES=${COLD_SAMPLES:-200}
REALM_IDLE_SECONDS=${REALM_IDLE_SECONDS:-5}
idle_flags=(--realm-idle-seconds "$REALM_IDLE_SECONDS")
FULL_REALMS=100000
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
helper() { taskset -c "$LOAD_CPU" python3 scripts/lib/bench_scale.py "$@"; }
realm_base() { echo "$DYNREG_URL/am/oauth2/realms/root/realms/$1"; }
# calc EXPR: python arithmetic.
calc() { python3 -c "print($1)"; }

need_wrk
bench_build --bin dynreg --example durable_store --example fixed_body
log "duration ${DURATION}s, warm-up ${WARMUP}s, $RUNS run(s), medians, $CONNECTIONS connections"

# put_realm NAME: creates a realm with open registration.
put_realm() {
  curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $(cat "$data/admin-token")" \
    -H 'Content-Type: application/json' \
    --data '{"oauth2_provider": {"allow_open_dynamic_registration": true}}' \
    "$DYNREG_URL/admin/realms/$1"
}

# created_realm_bytes NAME: creates a realm as put_realm does; prints the answer's size.
created_realm_bytes() {
  curl -sf -o /dev/null -w '%{size_download}' -X PUT \
    -H "Authorization: Bearer $(cat "$data/admin-token")" -H 'Content-Type: application/json' \
    --data '{"oauth2_provider": {"allow_open_dynamic_registration": true}}' \
    "$DYNREG_URL/admin/realms/$1"
}

# create_realms_rate BASE_URL FIRST COUNT: the creation probe (REALM_CONCURRENCY
# connections, each answer must be 201); prints realms per second.
create_realms_rate() {
  local out
  out=$(helper create-realms "$1" "$data/admin-token" "$2" "$3" "$REALM_CONCURRENCY")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["created"] / d["seconds"])' "$out"
}

# http_store_realms RUN: the creation probe against examples/fixed_body.rs making a realm
# creation's durable write per request on a fresh store (see step 2 above). Sets
# HTTP_STORE_RATE.
http_store_realms() {
  start_fixed_body "$response_bytes" "$BENCH_TMP/http-store-realms-$1" "$keys_bytes" realm
  HTTP_STORE_RATE=$(create_realms_rate "$FIXED_URL" 0 "$probe")
  stop_pid "$FIXED_PID"
}

# read_figures PREFIX REALM and register_figures PREFIX REALM: measure_load / measure_wrk
# (WARMUP, then RUNS runs) of read (load tool) and read_sample (wrk over the realm's sample),
# or of register; set FIG_<name> (medians).
read_figures() {
  local prefix=$1 realm=$2
  measure_load "${prefix}_read" read --base-url "$DYNREG_URL" --realm "$realm" -c "$CONNECTIONS" \
    --mix read=1
  FIG_read=$MEDIAN_RPS FIG_read_p99=$MEDIAN_P99
  WRK_SAMPLE="$BENCH_TMP/sample-$realm" measure_wrk "${prefix}_read_sample" "$DYNREG_URL" \
    -s scripts/lib/wrk-sample.lua
  FIG_sample=$MEDIAN_RPS FIG_sample_p99=$MEDIAN_P99
}
register_figures() {
  local prefix=$1 realm=$2
  measure_load "${prefix}_register" register --base-url "$DYNREG_URL" --realm "$realm" \
    -c "$CONNECTIONS" --mix register=1
  FIG_register=$MEDIAN_RPS FIG_register_p99=$MEDIAN_P99
}

if want clients; then
  data="$BENCH_TMP/clients"
  start_dynreg "$data"
  log "clients: dynreg $DYNREG_URL pid $DYNREG_PID"
  for realm in empty big; do
    put_realm "$realm"
    helper register-sample "$(realm_base "$realm")/register" "$SAMPLE" "$BENCH_TMP/sample-$realm"
  done
  # For reference only: the empty realm on the fresh server, before the prefill.
  read_figures fresh empty
  figure fresh_empty_read "$FIG_read" req/s
  figure fresh_empty_read_sample "$FIG_sample" req/s
  put_realm fresh-register
  register_figures fresh fresh-register
  figure fresh_empty_register "$FIG_register" req/s

  data_kib_before=$(du -sk "$data" | cut -f1)
  probe=$((PREFILL_PROBE < CLIENTS ? PREFILL_PROBE : CLIENTS))
  prefill=(--base-url "$DYNREG_URL" --realm big -c "$PREFILL_CONNECTIONS" --mix register=1)
  t0=$(now_us)
  run_load "$BENCH_TMP/prefill-probe.json" "${prefill[@]}" --requests "$probe"
  t1=$(now_us)
  rate=$(calc "$probe / (($t1 - $t0) / 1e6)")
  figure prefill_rate "$rate" clients/s
  figure prefill_projected "$(calc "$CLIENTS / $rate")" "s for $CLIENTS clients"
  if [ "$CLIENTS" -gt "$probe" ]; then
    log "prefilling $((CLIENTS - probe)) more clients into realm big (about $(fmt "$(calc "($CLIENTS - $probe) / $rate")" 0) s)"
    run_load "$BENCH_TMP/prefill.json" "${prefill[@]}" --requests "$((CLIENTS - probe))"
  fi
  t2=$(now_us)
  errors=$(python3 -c 'import json,sys; print(sum(json.load(open(p))["operations"]["register"]["errors"] for p in sys.argv[1:]))' \
    "$BENCH_TMP"/prefill*.json)
  [ "$errors" = 0 ] || { echo "prefill: $errors failed registrations" >&2; exit 1; }
  figure prefill_clients "$((CLIENTS + SAMPLE))" clients
  figure prefill_seconds "$(calc "($t2 - $t0) / 1e6")" s 1
  # sled cleans log segments in the background after the burst, which moves live pages to the
  # end of its file: measured once the size holds still for 2 s (at most 30 s).
  data_kib=$(du -sk "$data" | cut -f1)
  for _ in $(seq 15); do
    sleep 2
    settled=$(du -sk "$data" | cut -f1)
    [ "$settled" != "$data_kib" ] || break
    data_kib=$settled
  done
  figure prefill_data_size "$(calc "$data_kib / 1024")" MiB 1
  # What the prefill added to the data directory, per client it registered.
  at_most bytes_per_client "$(calc "($data_kib - $data_kib_before) * 1024 / $CLIENTS")" bytes 600 \
    "data-dir growth / $CLIENTS clients, du -sk"

  # The comparison: `big` (CLIENTS clients) against `empty` (its SAMPLE clients) on this same
  # server, in alternating rounds (empty first in odd rounds, big first in even ones), so the
  # machine's and the disk's drift, and sled's background work after the prefill, fall on both
  # alike. `empty` registers into a new realm each round (`empty-register-N`), so the
  # reference stays empty; `big` grows by what its register runs add.
  declare -A runs
  for round in $(seq 1 "$RUNS"); do
    order="empty big"
    [ $((round % 2)) = 1 ] || order="big empty"
    for which in $order; do
      RUNS=1 read_figures "${which}_round$round" "$which"
      runs[${which}_read]+=" $FIG_read"
      runs[${which}_read_p99]+=" $FIG_read_p99"
      runs[${which}_read_sample]+=" $FIG_sample"
      runs[${which}_read_sample_p99]+=" $FIG_sample_p99"
      register_realm=big
      if [ "$which" = empty ]; then
        register_realm="empty-register-$round"
        put_realm "$register_realm"
      fi
      RUNS=1 register_figures "${which}_round$round" "$register_realm"
      runs[${which}_register]+=" $FIG_register"
      runs[${which}_register_p99]+=" $FIG_register_p99"
    done
  done
  declare -A med
  for name in read read_p99 read_sample read_sample_p99 register register_p99; do
    for which in empty big; do
      # shellcheck disable=SC2086  # the runs are a space-separated list
      med[${which}_$name]=$(median ${runs[${which}_$name]})
      case $name in
        *_p99) figure "${which}_$name" "${med[${which}_$name]}" ms 2 ;;
        *) figure "${which}_$name" "${med[${which}_$name]}" req/s ;;
      esac
    done
  done
  ratio register_big_vs_empty "${med[big_register]}" "${med[empty_register]}" 0.8
  ratio read_big_vs_empty "${med[big_read]}" "${med[empty_read]}" 0.8
  ratio read_p99_big_vs_empty "${med[big_read_p99]}" "${med[empty_read_p99]}" 2 max
  ratio read_sample_big_vs_empty "${med[big_read_sample]}" "${med[empty_read_sample]}" 0.8
  ratio read_sample_p99_big_vs_empty "${med[big_read_sample_p99]}" "${med[empty_read_sample_p99]}" 2 max
  stop_pid "$DYNREG_PID"
  rm -rf "$data"
fi

# restart_measure PREFIX: restarts dynreg on $data; prints start-up time, idle RSS, data size.
restart_measure() {
  stop_pid "$DYNREG_PID"
  start_dynreg "$data" "${idle_flags[@]}"
  START=$DYNREG_START_SECONDS
  sleep 2
  RSS=$(rss_kib "$DYNREG_PID")
  figure "$1_startup" "$START" s 3
  figure "$1_idle_rss" "$(calc "$RSS / 1024")" MiB 1
  figure "$1_data_size" "$(calc "$(du -sk "$data" | cut -f1) / 1024")" MiB 1
}

# p99 VALUES...: the 99th percentile (nearest rank).
p99() {
  python3 -c 'import math,sys; v=sorted(float(x) for x in sys.argv[1:]); print(v[max(0, math.ceil(0.99 * len(v)) - 1)])' "$@"
}

if want realms; then
  data="$BENCH_TMP/realms"
  start_dynreg "$data" "${idle_flags[@]}"
  log "realms: dynreg $DYNREG_URL pid $DYNREG_PID"
  restart_measure realms_base
  base_start=$START base_rss=$RSS

  # The disk's bound for one durable creation after another on one connection.
  sync_ms=$(helper fdatasync-ms "$BENCH_TMP" 300)
  figure disk_fdatasync_median "$sync_ms" ms 3
  figure realms_create_disk_bound "$(calc "1000 / $sync_ms")" "realms/s (one fdatasync each)"

  # The bound (an HTTP server making a creation's write per request, http_store_realms) and,
  # for contrast, the storage work alone (examples/durable_store.rs), each measured just before
  # and just after the creation probe (the disk's speed drifts on a shared machine); the
  # fastest run counts.
  response_bytes=$(created_realm_bytes bound-probe)
  keys_bytes=$(stored_entry_bytes "$DYNREG_URL" "$data/admin-token" bound-probe keys)
  probe=$REALM_PROBE
  if [ -n "${REALMS:-}" ] && [ "$REALMS" -lt "$probe" ]; then probe=$REALMS; fi
  durable_store realm "$REALM_CONCURRENCY" "$DURATION" "$keys_bytes"
  store_before=$STORE_RATE store_before_p50=$STORE_P50
  http_store_realms before
  http_store_before=$HTTP_STORE_RATE
  rate=$(create_realms_rate "$DYNREG_URL" 0 "$probe")
  projected=$(calc "$FULL_REALMS / $rate")
  at_least realms_create_rate "$rate" realms/s 1000 "$REALM_CONCURRENCY connection(s), each 201 durable"
  http_store_realms after
  durable_store realm "$REALM_CONCURRENCY" "$DURATION" "$keys_bytes"
  figure realms_http_store_create_rate_before "$http_store_before" "realms/s (HTTP + storage, one process, $probe realms)"
  figure realms_http_store_create_rate_after "$HTTP_STORE_RATE" "realms/s (HTTP + storage, one process, $probe realms)"
  ratio realms_create_vs_http_store "$rate" "$(calc "max($http_store_before, $HTTP_STORE_RATE)")" 0.8
  figure realms_store_create_rate_before "$store_before" "realms/s (storage alone, p50 $(fmt "$store_before_p50" 3) ms)"
  figure realms_store_create_rate_after "$STORE_RATE" "realms/s (storage alone, p50 $(fmt "$STORE_P50" 3) ms)"
  figure realms_create_vs_store "$(calc "$rate / max($store_before, $STORE_RATE)")" "× (storage alone, no HTTP round trip)" 2
  figure realms_create_projected "$projected" "s for $FULL_REALMS realms"
  if [ -z "${REALMS:-}" ]; then
    REALMS=$(calc "max($probe, min($FULL_REALMS, int($rate * $REALM_BUDGET) // 100 * 100))")
  fi
  if [ "$REALMS" -lt "$FULL_REALMS" ]; then
    echo "realms_note: the full $FULL_REALMS realms were NOT run: $REALMS made instead;" \
      "creation runs at $(fmt "$rate" 1) realms/s, so" \
      "$FULL_REALMS would take $(fmt "$projected" 0) s (budget REALM_BUDGET=$REALM_BUDGET s;" \
      "set REALMS=$FULL_REALMS to run it anyway). Figures at $FULL_REALMS are linear projections."
  fi
  if [ "$REALMS" -gt "$probe" ]; then
    log "creating $((REALMS - probe)) more realms (about $(fmt "$(calc "($REALMS - $probe) / $rate")" 0) s)"
    t0=$(now_us)
    helper create-realms "$DYNREG_URL" "$data/admin-token" "$probe" "$((REALMS - probe))" \
      "$REALM_CONCURRENCY" >/dev/null
    figure realms_create_rate_all "$(calc "($REALMS - $probe) / (($(now_us) - $t0) / 1e6)")" realms/s 1
  fi
  figure realms_count "$REALMS" realms

  restart_measure realms
  # Per-realm costs over the baseline, projected linearly to FULL_REALMS.
  if [ "$REALMS" -lt "$FULL_REALMS" ]; then
    limit realms_startup_projected "$(calc "$base_start + ($START - $base_start) * $FULL_REALMS / $REALMS")" s 2 \
      "linear from $REALMS realms"
    limit realms_idle_rss_projected "$(calc "($base_rss + ($RSS - $base_rss) * $FULL_REALMS / $REALMS) / 1024")" MiB 1024 \
      "linear from $REALMS realms"
  else
    limit realms_startup "$START" s 2
    limit realms_idle_rss "$(calc "$RSS / 1024")" MiB 1024
  fi
  figure realms_rss_per_realm "$(calc "max($RSS - $base_rss, 0) / $REALMS")" KiB 1

  # First requests to realms nobody touched since the restart, spread over the range.
  spread() { echo "r-$((($1 * REALMS) / COLD_SAMPLES + (REALMS / COLD_SAMPLES) / 2 + $2))"; }
  discovery_urls=() register_urls=()
  for i in $(seq 0 $((COLD_SAMPLES - 1))); do
    discovery_urls+=("$(realm_base "$(spread "$i" 0)")/.well-known/openid-configuration")
    register_urls+=("$(realm_base "$(spread "$i" 1)")/register")
  done
  mapfile -t cold_get < <(helper first-requests GET "${discovery_urls[@]}")
  mapfile -t warm_get < <(helper first-requests GET "${discovery_urls[@]:0:20}")
  mapfile -t cold_post < <(helper first-requests POST "${register_urls[@]}")
  [ "${#cold_get[@]}" = "$COLD_SAMPLES" ] && [ "${#cold_post[@]}" = "$COLD_SAMPLES" ] ||
    { echo "cold requests failed" >&2; exit 1; }
  figure realms_cold_discovery_median "$(median "${cold_get[@]}")" ms 2
  limit realms_cold_discovery_p99 "$(p99 "${cold_get[@]}")" ms 10 "$COLD_SAMPLES cold realms"
  figure realms_warm_discovery_median "$(median "${warm_get[@]}")" ms 2
  figure realms_cold_register_median "$(median "${cold_post[@]}")" ms 2
  limit realms_cold_register_p99 "$(p99 "${cold_post[@]}")" ms 10 "$COLD_SAMPLES cold realms"

  # Dormant again: every realm started above is stopped after REALM_IDLE_SECONDS unused.
  running=$(helper metric "$DYNREG_URL" dynreg_realms_active)
  busy_rss=$(rss_kib "$DYNREG_PID")
  figure realms_running_after_cold_requests "$running" realms
  waited=0
  while [ "$(helper metric "$DYNREG_URL" dynreg_realms_active)" -gt 0 ] &&
    [ "$waited" -lt $((REALM_IDLE_SECONDS * 3 + 10)) ]; do
    sleep 1
    waited=$((waited + 1))
  done
  left=$(helper metric "$DYNREG_URL" dynreg_realms_active)
  echo "realms_dormant_actors_stopped: $running running → $left after ${waited} s" \
    "(--realm-idle-seconds $REALM_IDLE_SECONDS; target 0: $([ "$left" = 0 ] && echo MET || echo MISSED))"
  figure realms_rss_busy "$(calc "$busy_rss / 1024")" MiB 1
  figure realms_rss_after_stop "$(calc "$(rss_kib "$DYNREG_PID") / 1024")" MiB 1
  stop_pid "$DYNREG_PID"
fi
