# Sourced by the CI scripts that drive a live server: builds the debug binary and starts it on
# 127.0.0.1:$port with a fresh data dir and the admin token $token; stops it on exit.
# Sets $home (temporary directory, removed on exit) and $server (the pid).
cargo build -q --bin dynreg
home=$(mktemp -d)
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
