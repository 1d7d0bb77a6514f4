#!/usr/bin/env bash
# Certificates issued per second: "kauth cert issue" against "openssl req"
# + "openssl x509" doing the same work (a new key, a CSR for CN=user with
# one O, signed by a CA of the same algorithm with the client auth usage,
# key and certificate written to disk), for ECDSA P-256 and RSA 2048, in
# one run. Each certificate is a fresh process invocation for both tools,
# as a user or script would run them; the two alternate certificate by
# certificate.
#
# Usage: bench/cert/run.sh [N_ECDSA] [N_RSA]    (defaults 100 and 20)
set -euo pipefail

n_ecdsa=${1:-100}
n_rsa=${2:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v openssl >/dev/null || { echo "bench: openssl is not installed" >&2; exit 2; }
(cd "$root" && go build -o "$work/kauth" ./cmd/kauth)
kauth=$work/kauth

now_ns() { date +%s%N; }

# setup_kauth ALGO / setup_openssl ALGO create a CA of that algorithm.
setup_kauth() {
	"$kauth" cert ca init --cn "bench-$1" --out-dir "$work/kauth-$1/ca" --key-algo "$1" >/dev/null
	mkdir -p "$work/kauth-$1/out"
}

setup_openssl() {
	local dir=$work/openssl-$1
	mkdir -p "$dir/out"
	openssl req -x509 -nodes $(newkey "$1") -keyout "$dir/ca.key" -out "$dir/ca.crt" \
		-subj "/CN=bench-$1" -days 3650 2>/dev/null
	printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n' >"$dir/ext.cnf"
}

newkey() {
	if [[ $1 == ecdsa ]]; then echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256"; else echo "-newkey rsa:2048"; fi
}

# issue_kauth ALGO I / issue_openssl ALGO I issue certificate number I.
issue_kauth() {
	"$kauth" cert issue --ca-dir "$work/kauth-$1/ca" --user "user$2" --group dev --key-algo "$1" --out-dir "$work/kauth-$1/out" >/dev/null
}

issue_openssl() {
	local dir=$work/openssl-$1
	openssl req -new -nodes $(newkey "$1") -keyout "$dir/out/user$2.key" \
		-subj "/O=dev/CN=user$2" -out "$dir/out/user$2.csr" 2>/dev/null
	openssl x509 -req -in "$dir/out/user$2.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 365 -extfile "$dir/ext.cnf" -out "$dir/out/user$2.crt" 2>/dev/null
}

# bench ALGO N alternates the two tools certificate by certificate, so
# that a change in machine load hits both alike, and prints the total
# nanoseconds of each: "KAUTH_NS OPENSSL_NS".
bench() {
	local algo=$1 n=$2 k=0 o=0 t i
	setup_kauth "$algo"
	setup_openssl "$algo"
	for ((i = 0; i < n; i++)); do
		t=$(now_ns); issue_kauth "$algo" "$i"; k=$((k + $(now_ns) - t))
		t=$(now_ns); issue_openssl "$algo" "$i"; o=$((o + $(now_ns) - t))
	done
	echo "$k $o"
}

rate() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.1f", n / (ns / 1e9) }'; }

echo "kauth $("$kauth" version -o json | awk -F'"' '/"version"/ {print $4}'), $(openssl version), $(nproc) CPUs"
printf '%-12s %6s %16s %16s %8s\n' ALGORITHM CERTS "KAUTH CERTS/S" "OPENSSL CERTS/S" RATIO
for spec in "ecdsa:$n_ecdsa" "rsa:$n_rsa"; do
	algo=${spec%%:*} n=${spec##*:}
	read -r k o < <(bench "$algo" "$n")
	kr=$(rate "$n" "$k") or=$(rate "$n" "$o")
	name=$([[ $algo == ecdsa ]] && echo "ECDSA P-256" || echo "RSA 2048")
	printf '%-12s %6d %16s %16s %7sx\n' "$name" "$n" "$kr" "$or" "$(awk -v a="$kr" -v b="$or" 'BEGIN { printf "%.2f", a / b }')"
done
echo "RATIO is kauth / openssl certificates per second: above 1 means kauth is faster."
