#!/usr/bin/env bash
# Certificates issued per second: "kauth cert issue" against "openssl req"
# + "openssl x509" doing the same work (a new key, a CSR for CN=user with
# one O, signed by a CA of the same algorithm with the client auth usage,
# key and certificate written to disk), for ECDSA P-256 and RSA 2048, in
# one run. Each certificate is a fresh process invocation for both tools,
# as a user or script would run them.
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

# bench_kauth ALGO N: prints elapsed nanoseconds for N issues.
bench_kauth() {
	local algo=$1 n=$2 dir=$work/kauth-$1
	"$kauth" cert ca init --cn "bench-$algo" --out-dir "$dir/ca" --key-algo "$algo" >/dev/null
	mkdir -p "$dir/out"
	local start end i
	start=$(now_ns)
	for ((i = 0; i < n; i++)); do
		"$kauth" cert issue --ca-dir "$dir/ca" --user "user$i" --group dev --key-algo "$algo" --out-dir "$dir/out" >/dev/null
	done
	end=$(now_ns)
	echo $((end - start))
}

# bench_openssl ALGO N: the same with openssl req + openssl x509.
bench_openssl() {
	local algo=$1 n=$2 dir=$work/openssl-$1 newkey
	mkdir -p "$dir/out"
	if [[ $algo == ecdsa ]]; then
		newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	else
		newkey=(-newkey rsa:2048)
	fi
	openssl req -x509 -nodes "${newkey[@]}" -keyout "$dir/ca.key" -out "$dir/ca.crt" \
		-subj "/CN=bench-$algo" -days 3650 2>/dev/null
	printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n' >"$dir/ext.cnf"
	local start end i
	start=$(now_ns)
	for ((i = 0; i < n; i++)); do
		openssl req -new -nodes "${newkey[@]}" -keyout "$dir/out/user$i.key" \
			-subj "/O=dev/CN=user$i" -out "$dir/out/user$i.csr" 2>/dev/null
		openssl x509 -req -in "$dir/out/user$i.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 365 -extfile "$dir/ext.cnf" -out "$dir/out/user$i.crt" 2>/dev/null
	done
	end=$(now_ns)
	echo $((end - start))
}

rate() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.1f", n / (ns / 1e9) }'; }

echo "kauth $("$kauth" version -o json | awk -F'"' '/"version"/ {print $4}'), $(openssl version), $(nproc) CPUs"
printf '%-12s %6s %16s %16s %8s\n' ALGORITHM CERTS "KAUTH CERTS/S" "OPENSSL CERTS/S" RATIO
for spec in "ecdsa:$n_ecdsa" "rsa:$n_rsa"; do
	algo=${spec%%:*} n=${spec##*:}
	k=$(bench_kauth "$algo" "$n")
	o=$(bench_openssl "$algo" "$n")
	kr=$(rate "$n" "$k") or=$(rate "$n" "$o")
	name=$([[ $algo == ecdsa ]] && echo "ECDSA P-256" || echo "RSA 2048")
	printf '%-12s %6d %16s %16s %7sx\n' "$name" "$n" "$kr" "$or" "$(awk -v a="$kr" -v b="$or" 'BEGIN { printf "%.2f", a / b }')"
done
echo "RATIO is kauth / openssl certificates per second: above 1 means kauth is faster."
