#!/usr/bin/env bash
# Load figures of kauth serve from bench/load (see its package comment):
#   1. mixed load: a client certificate (CSR API), a static token and a
#      service-account token doing get/list/create/update/delete, with
#      watches, against a "kauth serve" child process (RSS from /proc,
#      goroutines and heap from the server's /debug/pprof);
#   2. overload: the same with --max-requests-inflight=4 and
#      --max-mutating-requests-inflight=2 and twice the workers: the excess
#      is answered 429 (by API Priority and Fairness when the server runs
#      it, which divides these seats among priority levels, else by the
#      max-in-flight filter);
#   3. the mixed load in-process (runtime.NumGoroutine; memory figures
#      include the generator).
#
# Usage: bench/load/run.sh [SECONDS] [WORKERS] [WATCHES]   (defaults 10, 32, 100)
set -euo pipefail

secs=${1:-10}
workers=${2:-32}
watches=${3:-100}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/kauth" ./cmd/kauth && go build -o "$work/load" ./bench/load)

echo "== mixed load (child process)"
"$work/load" -kauth "$work/kauth" -duration "${secs}s" -c "$workers" -watches "$watches"
echo
echo "== overload: --max-requests-inflight=4 --max-mutating-requests-inflight=2, $((workers * 2)) workers"
"$work/load" -kauth "$work/kauth" -duration "${secs}s" -c "$((workers * 2))" -watches "$((watches / 5))" \
  -serve-arg=--max-requests-inflight=4 -serve-arg=--max-mutating-requests-inflight=2
echo
echo "== mixed load (in-process: memory figures include the generator)"
"$work/load" -in-process -duration "${secs}s" -c "$workers" -watches "$watches"
