#!/usr/bin/env bash
# Scale-out test, one command: 3 dynreg nodes behind HAProxy (deploy/haproxy/haproxy.cfg),
# 300 realms created through the proxy, `dynreg load` through the proxy while 20 realms move
# between nodes, then: every acknowledged registration is readable with its registration
# access token and its client gets a token; no 5xx but the fence's 503; the placement is
# consistent; a node killed with SIGKILL takes down only its own realms (503, fast).
#
# Environment: CLUSTER_PORT_BASE (default 18600: proxy on it, nodes on the next three),
# CLUSTER_REALMS (300), CLUSTER_MOVES (20), CLUSTER_LOAD_SECONDS (30), DYNREG_BIN (a built
# dynreg binary; default: cargo build, debug).
set -euo pipefail
cd "$(dirname "$0")/.."

port_base=${CLUSTER_PORT_BASE:-18600}
realm_count=${CLUSTER_REALMS:-300}
move_count=${CLUSTER_MOVES:-20}
load_seconds=${CLUSTER_LOAD_SECONDS:-30}
grace_seconds=3

missing=()
for tool in haproxy curl jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -z "${DYNREG_BIN:-}" ]; then
  cargo build -q --bin dynreg
  DYNREG_BIN=target/debug/dynreg
fi
bin=$(realpath "$DYNREG_BIN")

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() { # check WHAT CONDITION-STATUS
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok   $1"
  else failed=$((failed + 1)); echo "FAIL $1"; fi
}

proxy="http://127.0.0.1:$port_base"
token_file="$work/admin-token"
head -c 32 /dev/urandom | base64 | tr -d '/+=\n' > "$token_file"
admin_token=$(cat "$token_file")
mkdir -p "$work/realms"
declare -A node_url node_pid
for n in 1 2 3; do
  port=$((port_base + n))
  node_url[node$n]="http://127.0.0.1:$port"
  RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --data-dir "$work/node$n" \
    --realms-dir "$work/realms" --admin-token-file "$token_file" --public-url "$proxy" \
    --workers 2 --cache-mb 64 2> "$work/node$n.log" &
  node_pid[node$n]=$!
  pids+=($!)
done

map="$work/realms.map"
socket="$work/haproxy.sock"
: > "$map"
DYNREG_PROXY_BIND="127.0.0.1:$port_base" DYNREG_REALM_MAP="$map" DYNREG_HAPROXY_SOCKET="$socket" \
  DYNREG_NODE1="127.0.0.1:$((port_base + 1))" DYNREG_NODE2="127.0.0.1:$((port_base + 2))" \
  DYNREG_NODE3="127.0.0.1:$((port_base + 3))" \
  haproxy -db -f deploy/haproxy/haproxy.cfg 2> "$work/haproxy.log" &
pids+=($!)

wait_for() { # wait_for URL
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1"; cat "$work"/*.log; exit 1
}
for n in 1 2 3; do wait_for "${node_url[node$n]}/health"; done
wait_for "$proxy/health"
for _ in $(seq 1 50); do [ -S "$socket" ] && break; sleep 0.1; done

# --- 300 realms through the proxy (placed by the consistent hash), then recorded in the map.
token_client="cluster-token-client:$(openssl rand -hex 32)"
realm_document='{"oauth2_provider":{"allow_open_dynamic_registration":true},"clients":[{"client_id":"'"${token_client%%:*}"'","client_secret":"'"${token_client#*:}"'","grant_types":["client_credentials"],"scopes":["dynamic_client_registration"]}]}'
started=$(date +%s%N)
seq 0 $((realm_count - 1)) | xargs -P 6 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
  -X PUT -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  --data "$realm_document" "$proxy/admin/realms/load-{}" > "$work/create.status"
created=$(grep -c '^201$' "$work/create.status" || true)
echo "created $created realms through the proxy in $(( ($(date +%s%N) - started) / 1000000 )) ms"
echo "realm creation statuses: $(sort "$work/create.status" | uniq -c | awk '{printf "%s:%s ", $2, $1}')"
check "all $realm_count realms created (201)" "$([ "$created" = "$realm_count" ]; echo $?)"
"$bin" realm sync-map --admin-token-file "$token_file" --map "$map" --haproxy-socket "$socket" \
  --node "node1=${node_url[node1]}" --node "node2=${node_url[node2]}" --node "node3=${node_url[node3]}"
for n in 1 2 3; do echo "node$n holds $(grep -c " node$n\$" "$map" || true) realms"; done

# --- load through the proxy, witnesses that record every acknowledged registration, moves.
"$bin" load --base-url "$proxy" --token-client "$token_client" \
  --realm "$(seq -s, -f 'load-%.0f' 0 $((realm_count - 1)))" \
  --mix register=2,read=4,token=2 -c 12 -d "$load_seconds" --json -q \
  > "$work/load.json" 2> "$work/load.log" &
load_pid=$!
pids+=($load_pid)

witness() { # witness N: registers in random realms until the stop file appears
  local n=$1 i=0
  while [ ! -e "$work/stop" ] && [ $i -lt 100000 ]; do
    i=$((i + 1))
    local realm="load-$(( (RANDOM * 32768 + RANDOM) % realm_count ))"
    local answer
    answer=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
      --data '{"redirect_uris":["https://witness.example.com/cb"],"grant_types":["authorization_code","client_credentials"]}' \
      "$proxy/am/oauth2/realms/root/realms/$realm/register" || echo $'\n000')
    local status=${answer##*$'\n'}
    echo "$status" >> "$work/witness$n.status"
    if [ "$status" = 201 ]; then
      echo "${answer%$'\n'*}" | jq -c --arg realm "$realm" \
        '{realm: $realm, client_id, client_secret, registration_access_token}' >> "$work/acknowledged.jsonl"
    fi
  done
}
for w in 1 2 3; do witness $w & pids+=($!); done

sleep 3
moves_ok=0
: > "$work/fences"
for m in $(seq 1 "$move_count"); do
  realm="load-$(( (m * 7919) % realm_count ))"
  from=$(awk -v r="$realm" '$1 == r {print $2}' "$map")
  to="node$(( ${from#node} % 3 + 1 ))"
  if out=$("$bin" realm move --realm "$realm" --from "${node_url[$from]}" --to "${node_url[$to]}" \
      --map "$map" --haproxy-socket "$socket" --admin-token-file "$token_file" \
      --grace-seconds "$grace_seconds" 2>&1); then
    moves_ok=$((moves_ok + 1))
    echo "$out"
    echo "$out" | sed -n 's/.*fence_ms=\([0-9]*\).*/\1/p' >> "$work/fences"
  else
    echo "move $realm $from -> $to failed: $out"
  fi
  sleep 0.5
done
check "$move_count realms moved live ($moves_ok succeeded)" "$([ "$moves_ok" = "$move_count" ]; echo $?)"

wait "$load_pid" || true
touch "$work/stop"
sleep 2

# --- checks
acknowledged=$(wc -l < "$work/acknowledged.jsonl")
verify_one() { # verify_one REALM CLIENT_ID SECRET TOKEN: readable with its token, gets a token
  local base="$proxy/am/oauth2/realms/root/realms/$1"
  if curl -sf -H "Authorization: Bearer $4" "$base/register?client_id=$2" | grep -qF "\"client_secret\":\"$3\"" &&
     curl -sf -u "$2:$3" -d grant_type=client_credentials "$base/access_token" | grep -q '"access_token"'; then
    echo ok
  else
    echo "lost $1 $2"
  fi
}
export -f verify_one
export proxy
jq -r '[.realm, .client_id, .client_secret, .registration_access_token] | @tsv' "$work/acknowledged.jsonl" |
  xargs -P 6 -L 1 bash -c 'verify_one "$@"' _ > "$work/verified"
lost=$(grep -c '^lost' "$work/verified" || true)
grep '^lost' "$work/verified" | head -20 || true
check "every acknowledged witness registration ($acknowledged) readable with its token and gets a token ($lost lost)" \
  "$([ "$lost" = 0 ] && [ "$acknowledged" -gt 0 ]; echo $?)"

witness_statuses=$(cat "$work"/witness*.status | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')
load_statuses=$(jq -r '[.operations[].statuses | to_entries[]] | group_by(.key)
  | map("\(.[0].key):\(map(.value) | add)") | join(" ")' "$work/load.json" || echo "?")
load_requests=$(jq -r '.total_requests' "$work/load.json" || echo 0)
bad_witness=$(cat "$work"/witness*.status | { grep -cvE '^(201|503)$' || true; })
bad_load=$(jq '[.operations[].statuses | keys[] | select(startswith("5") and . != "503")] | length' \
  "$work/load.json" || echo 1)
check "no 5xx other than the fence's 503 (witness statuses: $witness_statuses)" \
  "$([ "$bad_witness" = 0 ] && [ "$bad_load" = 0 ]; echo $?)"
check "the load tool ran through the proxy ($load_requests requests)" \
  "$([ "$load_requests" -gt 0 ]; echo $?)"

# --- the fence of a big realm: 10,000 clients registered through the proxy, then moved.
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  --data "$realm_document" "$proxy/admin/realms/big"
"$bin" realm sync-map --admin-token-file "$token_file" --map "$map" --haproxy-socket "$socket" \
  --node "node1=${node_url[node1]}" --node "node2=${node_url[node2]}" --node "node3=${node_url[node3]}" >/dev/null
"$bin" load --base-url "$proxy" --realm big --mix register=1 -n 10000 -c 16 --json -q \
  > "$work/big.json" 2> "$work/big.log" || true
big_from=$(awk '$1 == "big" {print $2}' "$map")
big_to="node$(( ${big_from#node} % 3 + 1 ))"
big_fence=""
if out=$("$bin" realm move --realm big --from "${node_url[$big_from]}" --to "${node_url[$big_to]}" \
    --map "$map" --haproxy-socket "$socket" --admin-token-file "$token_file" \
    --grace-seconds "$grace_seconds" 2>&1); then
  echo "$out"
  big_fence=$(echo "$out" | sed -n 's/.*fence_ms=\([0-9]*\).*/\1/p')
  big_clients=$(echo "$out" | sed -n 's/.* clients=\([0-9]*\).*/\1/p')
fi
check "a realm with ${big_clients:-?} clients moved" "$([ -n "$big_fence" ] && [ "${big_clients:-0}" -ge 10000 ]; echo $?)"

sleep "$grace_seconds"; sleep 1
"$bin" realm sync-map --admin-token-file "$token_file" --map "$work/observed.map" \
  --node "node1=${node_url[node1]}" --node "node2=${node_url[node2]}" --node "node3=${node_url[node3]}" >/dev/null
check "placement consistent: each realm on exactly one node, the one the map names" \
  "$(diff <(grep -v '^#' "$map") <(grep -v '^#' "$work/observed.map") >/dev/null; echo $?)"

# --- node failure: SIGKILL node3; the others' realms keep answering, node3's answer 503 fast.
kill -9 "${node_pid[node3]}"
sleep 4
others_ok=0; others=0; dead_503=0; dead=0; slowest_dead=0
while read -r realm backend; do
  case $realm in '#'*|'') continue ;; esac
  result=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' \
    "$proxy/am/oauth2/realms/root/realms/$realm/.well-known/openid-configuration")
  status=${result% *}; seconds=${result#* }
  if [ "$backend" = node3 ]; then
    dead=$((dead + 1)); [ "$status" = 503 ] && dead_503=$((dead_503 + 1))
    slowest_dead=$(awk -v a="$seconds" -v b="$slowest_dead" 'BEGIN {print (a > b) ? a : b}')
  else
    others=$((others + 1)); [ "$status" = 200 ] && others_ok=$((others_ok + 1))
  fi
done < "$map"
check "after SIGKILL of node3 the other nodes' $others realms answer ($others_ok ok)" \
  "$([ "$others_ok" = "$others" ] && [ "$others" -gt 0 ]; echo $?)"
check "node3's $dead realms answer 503 ($dead_503), the slowest in ${slowest_dead}s" \
  "$([ "$dead_503" = "$dead" ] && awk -v s="$slowest_dead" 'BEGIN {exit !(s < 1)}'; echo $?)"

echo
echo "figures:"
echo "  realms: $realm_count on 3 nodes; moves: $moves_ok of $move_count"
if [ -n "$big_fence" ]; then
  verdict=MISSED; [ "$big_fence" -lt 2000 ] && verdict=MET
  echo "  fence of a realm with $big_clients clients: $big_fence ms (target < 2000 ms: $verdict, ratio $(awk -v f="$big_fence" 'BEGIN {printf "%.2f", f / 2000}'))"
fi
if [ -s "$work/fences" ]; then
  sort -n "$work/fences" | awk '{a[NR] = $1} END {printf "  fence ms: min %d, median %d, max %d\n", a[1], a[int((NR + 1) / 2)], a[NR]}'
fi
echo "  load requests: $load_requests; by status: $load_statuses"
echo "  witness registrations: $(cat "$work"/witness*.status | wc -l), acknowledged $acknowledged, lost $lost; by status: $witness_statuses"
echo "cluster-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
