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

# row LABEL WALL_BYTES_PER_SECOND [CPU_BYTES_PER_SECOND]
row() {
	awk -v l="$1" -v w="$2" -v c="${3:-}" -v refw="$refw" -v refc="$refc" 'BEGIN {
		printf "%-44s %8.2f GB/s %6.2fx", l, w / 1e9, w / refw
		if (c != "") printf "   %8.2f GB/s %6.2fx", c / 1e9, c / refc
		printf "\n"
	}'
}

# --- openssl ------------------------------------------------------------------------
# "AES-256-XTS  6310461.44k": thousands of bytes per second, 16384-byte blocks. With
# -elapsed the divisor is wall-clock time; without it, the process's CPU time.
ossl() {
	"${pin[@]}" openssl speed "$@" -seconds "$secs" -bytes 16384 -evp aes-256-xts 2>/dev/null |
		awk '/^(AES-256-XTS|aes-256-xts)/ { v = $NF; sub(/k$/, "", v); print v * 1000 }'
}
refw=$(ossl -elapsed)
refc=$(ossl)
if [ -z "$refw" ] || [ -z "$refc" ]; then
	echo "bench-xts: could not parse openssl speed output" >&2
	exit 1
fi

# --- Go benchmarks --------------------------------------------------------------------
# Build first (on all cores), then run the benchmarks pinned.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/xts.test" ./luks/internal/xts/
gobench=$(cd luks/internal/xts && "${pin[@]}" "$tmp/xts.test" -test.run '^$' \
	-test.bench '^Benchmark(Encrypt|Decrypt)$/^AES-256-XTS$' -test.benchtime 1s -test.cpu 1)

# --- travelkit luks read ------------------------------------------------------------------
# A LUKS2 container with a 2 GiB payload (aes-xts-plain64, 512-bit key, 4096-byte sectors,
# a cheap KDF so unlocking does not count), read whole to /dev/null: once pinned to one
# core with GOMAXPROCS=1, once on every core. The file is sparse and read from the page
# cache, so this measures travelkit's read path (syscalls, decryption), not the disk.
# secs COMMAND... -> wall seconds
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.4f\n", z - a }'; }
luks_read_row() {
	local vol="$tmp/read.luks" payload=$((2 << 30)) base full n
	printf 'bench' > "$tmp/pass"
	./travelkit luks format "$vol" --size $((payload + (16 << 20))) --passphrase-file "$tmp/pass" \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --yes >/dev/null 2>&1
	./travelkit luks read "$vol" --passphrase-file "$tmp/pass" >/dev/null # warm the page cache
	for n in 1 "$(nproc)"; do
		# the same command reading one sector: start-up, unlock and the volume key digest
		base=$(GOMAXPROCS=$n secs ./travelkit luks read "$vol" --passphrase-file "$tmp/pass" --length 4096)
		if [ "$n" = 1 ]; then
			full=$(GOMAXPROCS=1 secs "${pin[@]}" ./travelkit luks read "$vol" --passphrase-file "$tmp/pass")
		else
			full=$(GOMAXPROCS=$n secs ./travelkit luks read "$vol" --passphrase-file "$tmp/pass")
		fi
		row "travelkit luks read, $n core(s), whole run" "$(awk -v b="$payload" -v f="$full" 'BEGIN { print b / f }')"
		row "travelkit luks read, $n core(s), read only" "$(awk -v b="$payload" -v f="$full" -v u="$base" 'BEGIN { print b / (f - u) }')"
	done
}

# --- report -----------------------------------------------------------------------------
echo "AES-XTS on one core ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'))"
printf "%-44s %21s   %21s\n" "" "wall clock   ratio" "per CPU s    ratio"
row "openssl speed -evp aes-256-xts (16 KiB)" "$refw" "$refc"
lastop=
while read -r name mbs cpumbs; do
	op=${name%%/*}
	label="xts Go ${name#Benchmark}"
	[ "$op" != "$lastop" ] && label="$label (default)"
	lastop=$op
	row "$label" "$(awk -v m="$mbs" 'BEGIN { print m * 1e6 }')" \
		"$(awk -v m="$cpumbs" 'BEGIN { if (m != "") print m * 1e6 }')"
done < <(awk '/^Benchmark/ && /MB\/s/ {
	w = ""; c = ""
	for (i = 2; i <= NF; i++) { if ($i == "MB/s") w = $(i-1); if ($i == "cpuMB/s") c = $(i-1) }
	print $1, w, c
}' <<<"$gobench")

# cobra prints the parent's help (and exits 0) for an unknown subcommand: look for its usage line.
if [ -x ./travelkit ] && ./travelkit luks read --help 2>&1 | grep -q 'travelkit luks read'; then
	luks_read_row
else
	echo "travelkit luks read (1 core)                 (skipped: ./travelkit has no 'luks read' yet; make build)"
fi
echo "(bar: travelkit luks read >= ${bar}x openssl on one core. Go rows: the cipher alone, 4 KiB sectors,"
echo " 1 MiB buffer. On a busy machine trust the per-CPU-second columns more than the wall clock.)"
