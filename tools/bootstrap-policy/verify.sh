#!/usr/bin/env bash
# Regenerates the bootstrap policy from k8s.io/kubernetes and fails if it
# differs from the committed internal/rbac/bootstrappolicy/policy.yaml.
# Works offline once the modules are in the Go module cache; otherwise they
# come through the configured GOPROXY.
#
#   tools/bootstrap-policy/verify.sh          # check
#   tools/bootstrap-policy/verify.sh --update # regenerate the committed file
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
committed="$root/internal/rbac/bootstrappolicy/policy.yaml"

cd "$here"
# The generator's own tests compare its objects with the golden files that
# k8s.io/kubernetes keeps for its default feature gates.
go test ./...

if [[ "${1:-}" == "--update" ]]; then
	go run . -o "$committed"
	echo "verify.sh: wrote $committed" >&2
	exit 0
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
go run . -o "$tmp"
if ! diff -u "$committed" "$tmp"; then
	echo "verify.sh: $committed is out of date; run tools/bootstrap-policy/verify.sh --update" >&2
	exit 1
fi
echo "verify.sh: $committed is up to date" >&2
