#!/usr/bin/env bash
# Regenerates internal/localserver/api/openapi.json.gz from the OpenAPI
# documents published with k8s.io/kubernetes and fails if it differs.
#
#   tools/openapi-spec/verify.sh          # check
#   tools/openapi-spec/verify.sh --update # regenerate the committed file
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
committed="$root/internal/localserver/api/openapi.json.gz"

cd "$here"
if [[ "${1:-}" == "--update" ]]; then
	go run . -o "$committed"
	echo "verify.sh: wrote $committed" >&2
	exit 0
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
go run . -o "$tmp"
if ! cmp -s <(zcat "$committed") <(zcat "$tmp"); then
	echo "verify.sh: $committed is out of date; run tools/openapi-spec/verify.sh --update" >&2
	exit 1
fi
echo "verify.sh: $committed is up to date" >&2
