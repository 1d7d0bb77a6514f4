#!/usr/bin/env bash
# End-to-end figures of kauth serve, each from a real kauth process:
#   - time to ready from exec, without a data dir (process start and
#     package initialisation included, unlike the "ready in" line)
#   - resident memory (VmRSS) when idle, right after ready, and its split
#     into anonymous (heap, stacks) and file pages (the executable's pages
#     the process touched, plus what the kernel maps around them); with
#     RSSMAP=1 also the mappings, sections and modules behind them
#     (bench/serve/rssmap)
#   - GET and LIST requests per second with a static token and RBAC, from
#     a separate load generator over HTTP/2, and the same requests against
#     a baseline server (same token, AlwaysAllow instead of RBAC), with
#     their ratio. (Anonymous requests make no baseline: like kube-apiserver,
#     the server closes an anonymous HTTP/2 connection after each request.)
#   - server CPU time per request (from /proc), which other load on the
#     machine does not change, and the 2-core capacity it implies
#   - resident memory after that load
#
# Usage: [RSSMAP=1] bench/serve/run.sh [REQUESTS] [CONCURRENCY]    (defaults 100000, 64)
set -euo pipefail

n=${1:-100000}
c=${2:-64}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && go build -o "$work/kauth" ./cmd/kauth && go build -o "$work/loadgen" ./bench/serve/loadgen &&
  go build -o "$work/rssmap" ./bench/serve/rssmap)
echo "kauth binary: $(stat -c %s "$work/kauth") bytes"

printf 'bench-token,bench,1001,readers\n' >"$work/tokens.csv"
cp "$root/bench/serve/testdata/policy.yaml" "$work/policy.yaml"

# measure MODE TOKEN: runs inside "kauth serve -- sh -c", where $PPID is
# the kauth process.
cat >"$work/measure.sh" <<'SH'
set -eu
mode=$1 token=$2 n=$3 c=$4 work=$5
url=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$work/ca-$mode.crt"
echo "$mode: idle $(grep VmRSS /proc/$PPID/status)"
echo "$mode: idle $(grep -E '^Rss(Anon|File)' /proc/$PPID/status | tr -s ' \t\n' '  ')"
if [ "${RSSMAP:-}" = 1 ]; then "$work/rssmap" -pid "$PPID" -by module -top 25; fi
# cpu: user+system clock ticks the kauth process has used so far.
cpu() { awk '{print $14 + $15}' /proc/$PPID/stat; }
hz=$(getconf CLK_TCK)
for what in GET:/api/v1/namespaces/default/configmaps/bench LIST:/api/v1/namespaces/default/configmaps; do
  before=$(cpu)
  printf '%s %s: ' "$mode" "${what%%:*}"
  "$work/loadgen" -url "$url${what#*:}" -ca "$work/ca-$mode.crt" -token "$token" -n "$n" -c "$c"
  after=$(cpu)
  # Server CPU per request does not depend on what else the machine runs;
  # 2 cores / (CPU per request) is the server's capacity with the client
  # on another machine.
  awk -v m="$mode" -v w="${what%%:*}" -v t=$((after - before)) -v hz="$hz" -v n="$n" \
    'BEGIN { us = t / hz / n * 1e6; printf "%s %s: server CPU %.1f us/request, 2-core capacity %.0f req/s\n", m, w, us, 2e6 / us }'
done
echo "$mode: after load $(grep VmRSS /proc/$PPID/status)"
SH

# Time to ready from the process's start: exec until the command after
# "--" runs (which kauth starts once it serves), best of 5.
best=
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  ready=$("$work/kauth" serve --listen 127.0.0.1:0 -- date +%s%N 2>/dev/null)
  ms=$(( (ready - start) / 1000000 ))
  if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
echo "time to ready from exec (best of 5, no data dir): ${best}ms"

command -v kubectl >/dev/null || { echo "bench: kubectl is needed to read the kubeconfig" >&2; exit 2; }
# Idle with no flags (the issue's goal), after one request has been served.
"$work/kauth" serve --listen 127.0.0.1:0 -- sh -c 'kubectl get --raw /readyz >/dev/null &&
  echo "no flags: idle $(grep -E "^(VmRSS|RssAnon|RssFile)" /proc/$PPID/status | tr -s " \t\n" "  ")"'
"$work/kauth" serve --listen 127.0.0.1:0 --token-auth-file "$work/tokens.csv" --seed "$work/policy.yaml" \
  -- sh "$work/measure.sh" authz bench-token "$n" "$c" "$work" 2>&1 | tee "$work/authz.out"
"$work/kauth" serve --listen 127.0.0.1:0 --token-auth-file "$work/tokens.csv" --authorization-mode AlwaysAllow --seed "$work/policy.yaml" \
  -- sh "$work/measure.sh" baseline bench-token "$n" "$c" "$work" 2>&1 | tee "$work/baseline.out"

rate() { grep "^$1 $2:" "$work/$1.out" | sed -E 's/.*: ([0-9]+) req\/s.*/\1/'; }
for verb in GET LIST; do
  a=$(rate authz "$verb") b=$(rate baseline "$verb")
  awk -v v="$verb" -v a="$a" -v b="$b" 'BEGIN { printf "%s with token+RBAC / baseline: %d / %d = %.2f\n", v, a, b, a / b }'
done
