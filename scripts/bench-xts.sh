#!/usr/bin/env bash
# bench-xts.sh: AES-XTS throughput on ONE core, measured in one run, side by side:
#   - openssl speed -evp aes-256-xts, 16 KiB row, single thread (the reference);
#   - the Go benchmarks of travelkit/luks/internal/xts (4 KiB sectors, 1 MiB buffer),
#     every implementation this CPU can run, the default (first listed) marked;
#   - travelkit luks read of a large payload to /dev/null, once ./travelkit has it.
# Each row shows its ratio to openssl. The project bar: `travelkit luks read` >= 0.25x.
#
# Usage: scripts/bench-xts.sh [seconds per openssl run, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-3}
bar=0.25

# Pin everything to one core when we can, so that "one core" means one core.
pin=()
if command -v taskset >/dev/null 2>&1; then
	core=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')
	pin=(taskset -c "${core:-0}")
fi
export GOMAXPROCS=1

# row LABEL BYTES_PER_SECOND
row() {
	awk -v l="$1" -v r="$2" -v ref="$ref" -v bar="$bar" 'BEGIN {
		printf "%-44s %8.2f GB/s   %5.2fx\n", l, r / 1e9, r / ref
	}'
}

# --- openssl ------------------------------------------------------------------------
# "AES-256-XTS  6310461.44k": thousands of bytes per second, 16384-byte blocks.
ossl=$("${pin[@]}" openssl speed -elapsed -seconds "$secs" -bytes 16384 -evp aes-256-xts 2>/dev/null |
	awk '/^(AES-256-XTS|aes-256-xts)/ { v = $NF; sub(/k$/, "", v); print v * 1000 }')
if [ -z "$ossl" ]; then
	echo "bench-xts: could not parse openssl speed output" >&2
	exit 1
fi
ref=$ossl

# --- Go benchmarks --------------------------------------------------------------------
gobench=$("${pin[@]}" go test -run '^$' -bench '^Benchmark(Encrypt|Decrypt)$/^AES-256-XTS$' \
	-benchtime 1s -cpu 1 ./luks/internal/xts/)

# --- travelkit luks read (placeholder) --------------------------------------------------
# To be filled in by the `travelkit luks read` work. Called only when ./travelkit exists
# and has a `luks read` subcommand. It should make (or reuse) a LUKS2 volume with a large
# payload (aes-xts-plain64, 512-bit key, 4096-byte sectors), time
#   "${pin[@]}" ./travelkit luks read ... > /dev/null
# and print its rate with: row "travelkit luks read (1 core)" BYTES_PER_SECOND
# The helper below times a command and prints the rate for a given byte count.
rate_of() { # rate_of BYTES COMMAND...  -> bytes per second on stdout
	local bytes=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", b / (z - a) }'
}
luks_read_row() {
	echo "travelkit luks read (1 core)                 (not measured yet: see luks_read_row in $0)"
}

# --- report -----------------------------------------------------------------------------
echo "AES-XTS on one core ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'))"
printf "%-44s %13s   %6s\n" "" "throughput" "ratio"
row "openssl speed -evp aes-256-xts (16 KiB)" "$ref"
lastop=
while read -r name mbs; do
	op=${name%%/*}
	label="xts Go ${name#Benchmark}"
	[ "$op" != "$lastop" ] && label="$label (default)"
	lastop=$op
	row "$label" "$(awk -v m="$mbs" 'BEGIN { print m * 1e6 }')"
done < <(awk '/^Benchmark/ && /MB\/s/ { for (i = 1; i <= NF; i++) if ($i == "MB/s") print $1, $(i-1) }' <<<"$gobench")

# cobra prints the parent's help (and exits 0) for an unknown subcommand: look for its usage line.
if [ -x ./travelkit ] && ./travelkit luks read --help 2>&1 | grep -q 'travelkit luks read'; then
	luks_read_row
else
	echo "travelkit luks read (1 core)                 (skipped: ./travelkit has no 'luks read' yet; make build)"
fi
echo "(bar: travelkit luks read >= ${bar}x openssl; Go rows are the cipher alone, 4 KiB sectors, 1 MiB buffer)"
