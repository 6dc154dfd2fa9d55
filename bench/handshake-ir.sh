#!/usr/bin/env bash
# Instructions per connection (open, one echo, close), counted by callgrind, so the machine's load
# cannot move them: bench/servers/handshake-echo.mjs under `valgrind --tool=callgrind node
# --single-threaded`, driven by a storm of N and one of 3N connections (64 in flight) in two fresh
# processes; (Ir(3N) - Ir(N)) / (connections opened in the second - in the first) is the user-space
# cost of one connection, the JIT's work between the N-th and 3N-th included. Kernel time is not in it.
#
#   bash bench/handshake-ir.sh [strictws|ws|floor] [N=200]   (floor: bench/servers/floor-echo.mjs, Node's machinery alone)
#
# SPLIT=1: node also runs with --perf-basic-prof --interpreted-frames-native-stack (V8's perf map names
# the JIT code), and bench/callgrind-split.py splits the instructions per connection by owner: ours, Node's
# JavaScript, V8's compilers, builtins and runtime, libuv, libc (docs/performance.md).
#
# Needs valgrind, dist/ (npm run build) and bench/.build/wsload (built by bench/handshake.ts or npm run bench).
set -euo pipefail
impl=${1:-strictws}
n=${2:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
wsload=$root/bench/.build/wsload
[ -x "$wsload" ] || { echo "no $wsload: run npx tsx bench/handshake.ts once (it builds it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=()
[ "${SPLIT:-}" = 1 ] && flags=(--perf-basic-prof --interpreted-frames-native-stack)

# One fresh server under callgrind, one storm of $1 connections; prints "Ir opened".
run() {
  local conns=$1 out=$work/cg.$1 fifo=$work/in.$1
  mkfifo "$fifo"
  valgrind --tool=callgrind --callgrind-out-file="$out" node --single-threaded "${flags[@]}" \
    "$root/bench/servers/handshake-echo.mjs" --impl "$impl" <"$fifo" >"$work/stdout.$1" 2>"$work/vg.$1" &
  local pid=$!
  exec 9>"$fifo"
  local port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*listening on ws:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/stdout.$1" | head -1)
    [ -n "$port" ] && break
    sleep 0.5
  done
  [ -n "$port" ] || { echo "server did not start" >&2; cat "$work/vg.$1" >&2; exit 1; }
  local opened
  opened=$("$wsload" --port "$port" --storm "$conns" --connect-concurrency 64 --connect-timeout 300 --json |
    sed -n 's/.*"open": *\([0-9]*\).*/\1/p')
  echo exit >&9
  exec 9>&-
  wait "$pid" || true
  # valgrind runs node in its own process: the perf map is named after it.
  [ "${SPLIT:-}" = 1 ] && mv "/tmp/perf-$pid.map" "$work/map.$1"
  local ir
  ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")
  echo "$ir ${opened:-0}"
}

read -r ir1 open1 < <(run "$n")
read -r ir3 open3 < <(run $((3 * n)))
echo "$impl: Ir $ir1 for $open1 connections, $ir3 for $open3"
awk -v a="$ir1" -v b="$ir3" -v c="$open1" -v d="$open3" \
  'BEGIN { printf "instructions per connection: %.3f M\n", (b - a) / (d - c) / 1e6 }'
if [ "${SPLIT:-}" = 1 ]; then
  python3 "$root/bench/callgrind-split.py" "$work/cg.$n" "$work/map.$n" "$open1" "$work/cg.$((3 * n))" "$work/map.$((3 * n))" "$open3"
fi
