#!/usr/bin/env bash
# Benchmarks kauth's RBAC engine against the authorizer kube-apiserver v1.37
# runs (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac) on the same
# generated 10,000-binding policy and the same questions. Prints decisions
# per second of each, the ratio, who-can latency and kauth's load time, and
# exits 1 if any answer differs. Extra arguments go to the benchmark, e.g.
#
#   bench/rbac-vs-upstream.sh -duration 5s -seed 7
#   bench/rbac-vs-upstream.sh -bindings 50000
#
# The tool has its own go.mod (k8s.io/kubernetes is not a library); its
# modules come from the Go module cache, or through GOPROXY the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../tools/rbac-upstream"
exec go run . bench "$@"
