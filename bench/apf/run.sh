#!/usr/bin/env bash
# Speed of kauth's APF simulator against driving k8s.io/apiserver's own
# queueset (with its fake event clock) under the same event loop, on the
# same one-million-arrival workload (internal/apf/testdata/
# bench-million.yaml: six clients, five priority levels, queuing,
# rejections, time-outs and borrowing). The upstream run also checks that
# both give the same report. Prints both times and the ratio (goal: at
# least 20), then the wall time of the CLI on the same workload.
#
#   bench/apf/run.sh            # one run each
#   bench/apf/run.sh 3          # three runs each (-count)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
count="${1:-1}"
# kauth is fast enough to average three runs; the upstream run is one.
out="$(go test ./internal/apf -run '^$' -bench '^BenchmarkSimulate$' -benchtime 3x -count "$count")
$(go test ./internal/apf -run '^$' -bench '^BenchmarkUpstreamQueueSet$' -benchtime 1x -count "$count")"
echo "$out" | grep -E '^Benchmark'
echo "$out" | awk '
	/^BenchmarkSimulate-/        { k += $3; nk++ }
	/^BenchmarkUpstreamQueueSet-/ { u += $3; nu++ }
	END {
		if (nk == 0 || nu == 0) { print "benchmarks did not run"; exit 1 }
		k /= nk; u /= nu
		printf "kauth:    %.3f s per million arrivals\n", k / 1e9
		printf "upstream: %.3f s per million arrivals\n", u / 1e9
		printf "ratio:    %.1fx (goal >= 20x)\n", u / k
	}'
bin="$(mktemp -d)/kauth"
go build -o "$bin" ./cmd/kauth
start=$(date +%s.%N)
"$bin" apf simulate -f internal/apf/testdata/bench-million.yaml -o json >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "cli:      %.3f s wall for kauth apf simulate on the same workload\n", e - s }'
rm -rf "$(dirname "$bin")"
