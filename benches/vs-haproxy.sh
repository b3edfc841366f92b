#!/usr/bin/env bash
# lblab proxy against HAProxy (tcp mode) on this machine's loopback, same
# backends, same thread count, turn and turn about. Not run in CI.
#
# What it does:
#   * installs haproxy and wrk with apt-get when missing;
#   * builds lblab in release;
#   * starts 3 HTTP demo backends (`lblab backends 3 --port 0`) and one echo
#     backend (`lblab backends 1 --port 0 --echo`) on free loopback ports;
#   * starts lblab proxy (RON config in a temp dir: round robin, TCP health
#     checks, --threads $THREADS, --log-level warn; a second instance for
#     the echo backend) and HAProxy (mode tcp, balance roundrobin, nbthread
#     $THREADS, no logging, maxconn 100000 or what the open-files limit
#     allows; one frontend for each pool);
#   * RUNS times, alternating lblab and HAProxy in each mode (lblab first in
#     odd runs, HAProxy first in even ones):
#       keep-alive  wrk -t2 -c50 -d$DURATION --latency
#       close       the same with -H 'Connection: close' (a connect per request)
#       bulk        $BULK_MIB MiB pushed through the proxy to the echo backend
#                   and read back by a small python3 client (MiB/s one way)
#   * prints the median of each figure and lblab/haproxy ratios.
#
# Parameters (environment): THREADS (2), RUNS (3; an even number puts each
# side first equally often), DURATION (10s),
# CONNECTIONS (50), BULK_MIB (512).
#   benches/vs-haproxy.sh
#   RUNS=20 DURATION=5s benches/vs-haproxy.sh   (the figures in the README)
# Every process it starts is stopped on exit, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
BULK_MIB=${BULK_MIB:-512}

die() {
    echo "vs-haproxy: $*" >&2
    exit 1
}

[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive number, not '$THREADS'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$RUNS'"
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a positive number, not '$CONNECTIONS'"
[[ $BULK_MIB =~ ^[1-9][0-9]*$ ]] || die "BULK_MIB must be a positive number, not '$BULK_MIB'"
[[ $DURATION =~ ^[1-9][0-9]*[smh]?$ ]] || die "DURATION must look like 10s, 1m or 30, not '$DURATION'"

# ------------------------------------------------------------------ tools

if ! command -v haproxy >/dev/null || ! command -v wrk >/dev/null; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "haproxy and wrk are missing and there is no sudo to install them"
        sudo=(sudo)
    fi
    echo "installing haproxy and wrk..."
    if ! "${sudo[@]}" apt-get install -y haproxy wrk >/dev/null; then
        "${sudo[@]}" apt-get update >/dev/null || die "apt-get update failed"
        "${sudo[@]}" apt-get install -y haproxy wrk >/dev/null || die "apt-get install haproxy wrk failed"
    fi
fi
command -v python3 >/dev/null || die "python3 is needed for the bulk transfer"

echo "building lblab (release)..."
cargo build --release --quiet || die "cargo build --release failed"
lblab="$PWD/target/release/lblab"
[ -x "$lblab" ] || die "no binary at $lblab"

# ------------------------------------------------------------- processes

# Every process started here inherits the highest open-files limit allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d) || die "mktemp failed"
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # A drain is short here (drain_timeout 1s); past 5 s, force it.
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts "$@" in the background with its output in $work/$name.log.
start() {
    local name=$1
    shift
    "$@" </dev/null >"$work/$name.log" 2>&1 &
    pids+=($!)
}

# Waits until $work/$1.log has at least $3 lines matching $2 (at most 15 s),
# failing if the last process started has died.
wait_for_lines() {
    local log="$work/$1.log" pattern=$2 count=$3 pid=${pids[-1]}
    for _ in $(seq 150); do
        if [ "$(grep -c -- "$pattern" "$log" 2>/dev/null || true)" -ge "$count" ]; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || die "$1 exited: $(cat "$log")"
        sleep 0.1
    done
    die "$1 did not start within 15 s: $(cat "$log")"
}

# Waits until something accepts on 127.0.0.1:$2 (at most 15 s).
wait_for_port() {
    for _ in $(seq 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    die "$1 is not accepting on port $2 within 15 s: $(cat "$work/$1.log")"
}

# Ports the system has free now, one per line.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# "127.0.0.1:PORT" of each "… listening on 127.0.0.1:PORT" line in a log.
addresses() {
    grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/$1.log" | sed 's/^listening on //'
}

start backends "$lblab" backends 3 --port 0
wait_for_lines backends 'listening on' 3
mapfile -t web < <(addresses backends)
start echo "$lblab" backends 1 --port 0 --echo
wait_for_lines echo 'listening on' 1
mapfile -t echo_backend < <(addresses echo)
echo "backends: ${web[*]} (http), ${echo_backend[0]} (echo)"

# lblab: one proxy per pool, its port chosen by the system.
lblab_config() {
    local b
    echo "("
    echo "    listen: \"127.0.0.1:0\","
    echo "    algorithm: RoundRobin,"
    echo "    backends: ["
    for b in "$@"; do
        echo "        (address: \"$b\"),"
    done
    echo "    ],"
    echo "    health: (probe: Tcp, interval: \"2s\", timeout: \"1s\", rise: 2, fall: 3),"
    echo "    idle_timeout: Some(\"5m\"),"
    echo "    drain_timeout: \"1s\","
    echo ")"
}
lblab_config "${web[@]}" >"$work/lblab-web.ron"
lblab_config "${echo_backend[0]}" >"$work/lblab-echo.ron"
for pool in web echo; do
    start "lblab-$pool" "$lblab" proxy --config "$work/lblab-$pool.ron" \
        --threads "$THREADS" --log-level warn
    wait_for_lines "lblab-$pool" 'lblab proxy listening on' 1
done
lblab_web=$(addresses lblab-web | head -1) || true
lblab_echo=$(addresses lblab-echo | head -1) || true
if [ -z "$lblab_web" ] || [ -z "$lblab_echo" ]; then
    die "cannot read lblab proxy's ports"
fi

# HAProxy: both pools in one process. Its maxconn must fit the open-files
# limit (two descriptors a connection), or it refuses to start.
nofile=$(ulimit -n)
maxconn=100000
if [ "$nofile" != unlimited ] && [ $(((nofile - 200) / 2)) -lt $maxconn ]; then
    maxconn=$(((nofile - 200) / 2))
fi
mapfile -t hports < <(free_ports 2)
[ "${#hports[@]}" -eq 2 ] || die "cannot find free ports for HAProxy"
{
    echo "global"
    echo "    nbthread $THREADS"
    echo "    maxconn $maxconn"
    echo "defaults"
    echo "    mode tcp"
    echo "    maxconn $maxconn"
    echo "    timeout connect 1s"
    echo "    timeout client 5m"
    echo "    timeout server 5m"
    echo "frontend web"
    echo "    bind 127.0.0.1:${hports[0]}"
    echo "    default_backend web"
    echo "backend web"
    echo "    balance roundrobin"
    i=0
    for b in "${web[@]}"; do
        i=$((i + 1))
        echo "    server web-$i $b check inter 2s rise 2 fall 3"
    done
    echo "frontend echo"
    echo "    bind 127.0.0.1:${hports[1]}"
    echo "    default_backend echo"
    echo "backend echo"
    echo "    server echo-1 ${echo_backend[0]} check inter 2s rise 2 fall 3"
} >"$work/haproxy.cfg"
haproxy -c -q -f "$work/haproxy.cfg" || die "HAProxy refuses its configuration"
start haproxy haproxy -db -f "$work/haproxy.cfg"
wait_for_port haproxy "${hports[0]}"
wait_for_port haproxy "${hports[1]}"
haproxy_web="127.0.0.1:${hports[0]}"
haproxy_echo="127.0.0.1:${hports[1]}"
echo "lblab proxy: $lblab_web (http), $lblab_echo (echo); haproxy: $haproxy_web, $haproxy_echo"
echo "threads $THREADS, runs $RUNS, wrk -t2 -c$CONNECTIONS -d$DURATION, bulk $BULK_MIB MiB"

# ------------------------------------------------------------- measuring

# The bulk client: pushes MiB mebibytes to host:port, reads the echo back
# concurrently, prints the MiB/s (one way); fails on a short echo.
cat >"$work/bulk.py" <<'EOF'
import socket, sys, threading, time
host, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunk = memoryview(bytes(1 << 20))
total = mib << 20
s = socket.create_connection((host, port), timeout=60)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
failed = []
def push():
    try:
        for _ in range(mib):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        failed.append(e)
start = time.perf_counter()
writer = threading.Thread(target=push)
writer.start()
buf = bytearray(1 << 20)
got = 0
while True:
    n = s.recv_into(buf)
    if n == 0:
        break
    got += n
elapsed = time.perf_counter() - start
writer.join()
s.close()
if failed or got != total:
    sys.exit(f"bulk: sent {total}, echoed {got}, {failed}")
print(f"{mib / elapsed:.1f}")
EOF

results="$work/results"
: >"$results"

# wrk's latency in ms, from a value like 812.00us, 1.23ms or 1.01s.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
        else if (v ~ /m$/) { sub(/m$/, "", v); print v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
        else print "nan" }'
}

# One wrk run: records req/s, p99 and errors for side $1 and mode $2.
run_wrk() {
    local side=$1 mode=$2 address=$3 out rps p99 errors
    local args=(-t2 "-c$CONNECTIONS" "-d$DURATION" --latency)
    [ "$mode" = close ] && args+=(-H 'Connection: close')
    out=$(wrk "${args[@]}" "http://$address/") || die "wrk failed against $side: $out"
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    if [ -z "$rps" ] || [ -z "$p99" ]; then
        die "cannot read wrk's output: $out"
    fi
    errors=$(awk '/Socket errors:/ {gsub(",", ""); e += $4 + $6 + $8 + $10}
                  /Non-2xx or 3xx/ {e += $NF} END {print e + 0}' <<<"$out")
    {
        echo "$side $mode rps $rps $run"
        echo "$side $mode p99 $(to_ms "$p99") $run"
        echo "$side $mode errors $errors $run"
    } >>"$results"
    printf '  %-8s %-10s %10.0f req/s  p99 %8s  errors %s\n' "$side" "$mode" "$rps" "$p99" "$errors"
}

run_bulk() {
    local side=$1 address=$2 mibs
    mibs=$(timeout 300 python3 "$work/bulk.py" "${address%:*}" "${address##*:}" "$BULK_MIB") ||
        die "bulk transfer through $side failed: $mibs"
    echo "$side bulk mibs $mibs $run" >>"$results"
    printf '  %-8s %-10s %10s MiB/s\n' "$side" bulk "$mibs"
}

# Health checks need rise (2) probes to count a backend up: let them pass.
sleep 1
# A short warm-up of each side, not counted.
wrk -t1 -c4 -d1s "http://$lblab_web/" >/dev/null || die "wrk cannot reach lblab proxy"
wrk -t1 -c4 -d1s "http://$haproxy_web/" >/dev/null || die "wrk cannot reach HAProxy"

# Which side goes first alternates from run to run (lblab first in odd
# runs, HAProxy in even ones): the slot a side runs in is not neutral (a
# close-mode run leaves tens of thousands of TIME-WAIT sockets to the one
# after it, and the same build's keep-alive ratio moved by about a tenth
# when it ran first instead of last), so a fixed order would hand one
# side the same handicap in every run.
declare -A web_of=([lblab]=$lblab_web [haproxy]=$haproxy_web)
declare -A echo_of=([lblab]=$lblab_echo [haproxy]=$haproxy_echo)
for run in $(seq "$RUNS"); do
    echo "run $run of $RUNS"
    sides=(lblab haproxy)
    ((run % 2 == 0)) && sides=(haproxy lblab)
    for mode in keep-alive close; do
        for side in "${sides[@]}"; do
            run_wrk "$side" "$mode" "${web_of[$side]}"
        done
    done
    for side in "${sides[@]}"; do
        run_bulk "$side" "${echo_of[$side]}"
    done
    run_bulk direct "${echo_backend[0]}"
done

# ---------------------------------------------------------------- report

echo
echo "medians of $RUNS runs (threads $THREADS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "(paired: the median of each run's lblab/haproxy ratio; the two sides of a"
echo " run are measured back to back, so the machine's drift cancels out)"
awk '
    { key = $2 SUBSEP $3; v[$1, key, ++n[$1, key]] = $4; at[$1, key, $5] = $4; keys[key] = 1 }
    function median_of(list, c,   i, j, t) {
        for (i = 2; i <= c; i++)
            for (j = i; j > 1 && list[j - 1] > list[j]; j--) { t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
        if (c == 0) return "nan"
        if (c % 2) return list[(c + 1) / 2]
        return (list[c / 2] + list[c / 2 + 1]) / 2
    }
    function median(side, key,   c, i, list) {
        c = n[side, key]
        for (i = 1; i <= c; i++) list[i] = v[side, key, i]
        return median_of(list, c)
    }
    function paired(key,   r, c, list, h) {
        c = 0
        for (r = 1; r <= runs; r++) {
            h = at["haproxy", key, r]
            if (h != "" && h + 0 != 0 && at["lblab", key, r] != "") list[++c] = at["lblab", key, r] / h
        }
        return c ? sprintf("%.2f", median_of(list, c)) : "-"
    }
    function row(mode, metric, label,   l, h, r) {
        l = median("lblab", mode SUBSEP metric)
        h = median("haproxy", mode SUBSEP metric)
        r = (h + 0 != 0) ? sprintf("%.2f", l / h) : "-"
        printf "%-11s %-9s %12.2f %12.2f %14s %8s\n", mode, label, l, h, r, paired(mode SUBSEP metric)
    }
    END {
        printf "%-11s %-9s %12s %12s %14s %8s\n", "mode", "figure", "lblab", "haproxy", "lblab/haproxy", "paired"
        row("keep-alive", "rps", "req/s")
        row("keep-alive", "p99", "p99 ms")
        row("keep-alive", "errors", "errors")
        row("close", "rps", "req/s")
        row("close", "p99", "p99 ms")
        row("close", "errors", "errors")
        row("bulk", "mibs", "MiB/s")
        printf "%-11s %-9s %12.2f %12s\n", "bulk", "direct", median("direct", "bulk" SUBSEP "mibs"), "(no proxy)"
    }' runs="$RUNS" "$results"
