#!/usr/bin/env bash
# HTTP hello world: examples/http_server.rs (corio protocols) against the
# minimal tokio HTTP/1.1 server of examples/echo_bench.rs (`--serve
# tokio-http`), both in their own processes, loaded by wrk.
#
#   benches/http_wrk.sh                 # wrk -t2 -c100 -d5s after a 1 s warm-up
#   DURATION=10s CONNS=200 benches/http_wrk.sh
#
# Installs wrk with apt-get if it is missing; if that fails too, runs the
# same comparison with echo_bench's own closed-loop client
# (`echo_bench --http`). Prints requests/s of each server, its CPU time per
# request (user + system from /proc/<pid>/stat over the measured run), and
# corio's ratios to tokio.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
CONNS=${CONNS:-100}
THREADS=${THREADS:-2}

cargo build --release --example echo_bench --example http_server
BIN=target/release/examples

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found; trying apt-get install -y wrk" >&2
    if ! { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1; }; }; then
        echo "cannot install wrk; using echo_bench's own client instead" >&2
        exec "$BIN/echo_bench" --http --conns "$CONNS" --duration "${DURATION%s}"
    fi
fi

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
TMP=$(mktemp -d)
trap cleanup EXIT

# Starts a server writing to $TMP/$1.out; waits for its `listening on ADDR`
# line; sets PID and ADDR.
start() {
    local name=$1; shift
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        ADDR=$(sed -n 's/^listening on \(http:\/\/\)\{0,1\}\([^ ]*\).*/\2/p' "$TMP/$name.out" | head -n1)
        [ -n "$ADDR" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$TMP/$name.err" >&2
    exit 1
}

# utime + stime of a process, in clock ticks.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

run() {
    local name=$1 pid=$2 addr=$3
    wrk -t"$THREADS" -c"$CONNS" -d1s "http://$addr/" >/dev/null
    local t0; t0=$(ticks "$pid")
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://$addr/" >"$TMP/$name.wrk"
    local t1; t1=$(ticks "$pid")
    local rps reqs
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/$name.wrk")
    reqs=$(awk '/requests in/ {print $1}' "$TMP/$name.wrk")
    if grep -q "Non-2xx\|Socket errors" "$TMP/$name.wrk"; then
        echo "$name: wrk reports errors:" >&2
        cat "$TMP/$name.wrk" >&2
    fi
    local hz; hz=$(getconf CLK_TCK)
    # µs of server CPU per request.
    local cpu; cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')
    echo "$name $rps $cpu"
}

start tokio "$BIN/echo_bench" --serve tokio-http --addr 127.0.0.1:0 --no-stdin
TOKIO_PID=$PID TOKIO_ADDR=$ADDR
start corio "$BIN/http_server" --addr 127.0.0.1:0 --workers 2
CORIO_PID=$PID CORIO_ADDR=$ADDR

read -r _ TOKIO_RPS TOKIO_CPU < <(run tokio "$TOKIO_PID" "$TOKIO_ADDR")
read -r _ CORIO_RPS CORIO_CPU < <(run corio "$CORIO_PID" "$CORIO_ADDR")

printf '%-12s %12s %12s\n' server req/s "µs CPU/req"
printf '%-12s %12s %12s\n' tokio-http "$TOKIO_RPS" "$TOKIO_CPU"
printf '%-12s %12s %12s\n' corio-http "$CORIO_RPS" "$CORIO_CPU"
awk -v c="$CORIO_RPS" -v t="$TOKIO_RPS" -v cc="$CORIO_CPU" -v tc="$TOKIO_CPU" \
    'BEGIN {printf "corio/tokio: req/s %.3f, CPU/req %.3f\n", c / t, cc / tc}'
