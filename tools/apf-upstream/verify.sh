#!/usr/bin/env bash
# Differential test of kauth's APF simulation (internal/apf) against
# k8s.io/apiserver's own APF controller, borrowing included.
#
# The controller adjusts borrowing from an unexported method that Run calls
# every 10 s of wall-clock time, so this script builds a copy of the
# k8s.io/apiserver module from the module cache with two exported hooks
# added (hook/*.go.txt), in $TMPDIR and never committed, and runs the tests
# tagged kauth_apf_hook with a generated go.mod whose replace points at it.
#
#   tools/apf-upstream/verify.sh              # the named workloads and 12+12 generated ones
#   tools/apf-upstream/verify.sh -v           # ... with side-by-side tables
#   tools/apf-upstream/verify.sh -random 300  # 300+300 generated workloads
#   tools/apf-upstream/verify.sh -run 'TestDifferential/idle' -v
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

go mod download k8s.io/apiserver
src=$(go list -m -f '{{.Dir}}' k8s.io/apiserver)
version=$(go list -m -f '{{.Version}}' k8s.io/apiserver)
key=$(cat go.mod go.sum hook/flowcontrol.go.txt hook/queueset.go.txt | sha256sum | cut -c1-16)
work="${TMPDIR:-/tmp}/kauth-apf-upstream-$version-$key"

# The copy is keyed by the hooks and this module's requirements, and kept
# between runs so that the patched packages stay in the build cache.
if [[ ! -f "$work/ready" || ! -f "$work/apiserver/pkg/util/flowcontrol/zz_kauth_hook.go" ]]; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/kauth-apf-upstream.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	cp -R "$src" "$tmp/apiserver"
	chmod -R u+w "$tmp/apiserver"
	cp hook/flowcontrol.go.txt "$tmp/apiserver/pkg/util/flowcontrol/zz_kauth_hook.go"
	cp hook/queueset.go.txt "$tmp/apiserver/pkg/util/flowcontrol/fairqueuing/queueset/zz_kauth_hook.go"
	cp go.mod "$tmp/go.mod"
	cp go.sum "$tmp/go.sum"
	go mod edit -modfile="$tmp/go.mod" -replace "k8s.io/apiserver=$work/apiserver"
	touch "$tmp/ready"
	rm -rf "$work"
	mv -T "$tmp" "$work" 2>/dev/null || true
fi

go test -tags kauth_apf_hook -modfile="$work/go.mod" -count=1 -run '^TestDifferential(Random|RandomConfig)?$' "$@" .
