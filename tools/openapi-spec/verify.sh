#!/usr/bin/env bash
# Regenerates internal/localserver/api/openapi/ from the OpenAPI documents
# published with k8s.io/kubernetes and fails if it differs.
#
#   tools/openapi-spec/verify.sh          # check
#   tools/openapi-spec/verify.sh --update # regenerate the committed files
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
committed="$root/internal/localserver/api/openapi"

cd "$here"
if [[ "${1:-}" == "--update" ]]; then
	go run . -o "$committed"
	echo "verify.sh: wrote $committed" >&2
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run . -o "$tmp"
list() { (cd "$1" && find . -name '*.json.gz' | sort); }
if ! diff <(list "$committed") <(list "$tmp") >/dev/null; then
	echo "verify.sh: $committed has other files than generated; run tools/openapi-spec/verify.sh --update" >&2
	exit 1
fi
while read -r f; do
	if ! cmp -s <(zcat "$committed/$f") <(zcat "$tmp/$f"); then
		echo "verify.sh: $committed/$f is out of date; run tools/openapi-spec/verify.sh --update" >&2
		exit 1
	fi
done < <(list "$tmp")
echo "verify.sh: $committed is up to date" >&2
