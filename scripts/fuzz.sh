#!/usr/bin/env bash
# Fuzzes dynreg's pure entry points with AFL++ through cargo-afl, on the stable toolchain.
#
#   scripts/fuzz.sh            every target until 10^7 inputs (FUZZ_EXECS), each capped at
#                              FUZZ_MAX_SECONDS (default 1800) of wall time
#   scripts/fuzz.sh --smoke    every target for FUZZ_SMOKE_SECONDS (default 20): CI's run
#   scripts/fuzz.sh TARGET...  only these targets (with either mode)
#
# Targets (fuzz/src/bin): registration_body, statement, realm_document, client_assertion.
# Prints, per target, the inputs executed and the crashes found, and fails if any target
# crashed (a panic is a crash) or did not run. Findings stay in fuzz/corpus/TARGET/default/.
# Installs cargo-afl when it is missing. Runs one target at a time, on one core.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
targets=()
for arg in "$@"; do
  case "$arg" in
    --smoke) mode=smoke ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(registration_body statement realm_document client_assertion)

EXECS=${FUZZ_EXECS:-10000000}
MAX_SECONDS=${FUZZ_MAX_SECONDS:-1800}
SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-20}
# Per-input time limit (ms) before AFL++ calls it a hang; empty lets AFL++ calibrate. Raise it
# when the fuzzer shares its core (e.g. `nice -n 19` beside builds), or every slow slice looks
# like a hang.
TIMEOUT_MS=${FUZZ_TIMEOUT_MS:-}

if ! cargo afl --version >/dev/null 2>&1; then
  echo "# installing cargo-afl" >&2
  cargo install cargo-afl --locked
fi
# Builds AFL++'s runtime once per toolchain; says so (and fails) when it is already built.
cargo afl config --build >/dev/null 2>&1 || true

echo "# building the fuzz targets (fuzz/target, release, instrumented)" >&2
(cd fuzz && cargo afl build --release --locked --quiet)

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1 AFL_QUIET=1

stat_of() { # stat_of FILE NAME
  awk -F' *: *' -v name="$2" '$1 == name { print $2 }' "$1"
}

status=0
printf '%-18s %12s %10s %8s %8s\n' target execs execs/s crashes hangs
for target in "${targets[@]}"; do
  out="fuzz/corpus/$target"
  rm -rf "$out"
  mkdir -p "$out"
  limits=(-V "$SMOKE_SECONDS")
  if [ "$mode" = full ]; then
    limits=(-V "$MAX_SECONDS" -E "$EXECS")
  fi
  [ -z "$TIMEOUT_MS" ] || limits+=(-t "$TIMEOUT_MS")
  log="$out/afl.log"
  if ! cargo afl fuzz -i "fuzz/seeds/$target" -o "$out" "${limits[@]}" \
      "fuzz/target/release/$target" >"$log" 2>&1; then
    echo "# $target: afl-fuzz failed, see $log:" >&2
    tail -20 "$log" >&2
    status=1
    continue
  fi
  stats="$out/default/fuzzer_stats"
  execs=$(stat_of "$stats" execs_done)
  speed=$(stat_of "$stats" execs_per_sec)
  crashes=$(find "$out/default/crashes" -type f ! -name README.txt | wc -l)
  hangs=$(find "$out/default/hangs" -type f | wc -l)
  printf '%-18s %12s %10s %8s %8s\n' "$target" "$execs" "$speed" "$crashes" "$hangs"
  if [ "$crashes" -gt 0 ]; then
    echo "# $target: crashing inputs in $out/default/crashes" >&2
    status=1
  fi
  if [ "$mode" = full ] && [ "$execs" -lt "$EXECS" ]; then
    echo "# $target: $execs inputs, fewer than $EXECS (time cap ${MAX_SECONDS}s)" >&2
  fi
done
exit $status
