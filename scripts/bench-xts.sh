#!/usr/bin/env bash
# bench-xts.sh: AES-XTS throughput on ONE core, measured in one run, side by side:
#   - openssl speed -evp aes-256-xts, 16 KiB row, single thread (the reference);
#   - the Go benchmarks of travelkit/luks/internal/xts (4 KiB sectors, 1 MiB buffer),
#     every implementation this CPU can run, the default (first listed) marked;
#   - travelkit luks read of a large payload to /dev/null, once ./travelkit has it.
# Each row shows its ratio to openssl. The project bar: `travelkit luks read` >= 0.25x.
#   - what a kit's real work gains from the assembly: travelkit built twice (the
#     assembly, and -tags xtsportable = golang.org/x/crypto/xts), each builds a kit image
#     and backs up and restores the same datasets through it; CPU time side by side.
#
# Usage: scripts/bench-xts.sh [seconds per openssl run, default 3]
#   ONLY=kit scripts/bench-xts.sh      only the kit backup/restore comparison
#   KIT_FILES=20000 KIT_MEDIA_MIB=512  the datasets' sizes (home folder files, media MiB)
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${ONLY:-}" != kit ]; then
refw=$(ossl -elapsed)
refc=$(ossl)
if [ -z "$refw" ] || [ -z "$refc" ]; then
	echo "bench-xts: could not parse openssl speed output" >&2
	exit 1
fi
fi

# --- Go benchmarks --------------------------------------------------------------------
# Build first (on all cores), then run the benchmarks pinned.
[ "${ONLY:-}" = kit ] || go test -c -o "$tmp/xts.test" ./luks/internal/xts/
[ "${ONLY:-}" = kit ] || gobench=$(cd luks/internal/xts && "${pin[@]}" "$tmp/xts.test" -test.run '^$' \
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

# --- a kit's real work: backup and restore, the assembly against x/crypto/xts ------------
# Two travelkit binaries from this tree: the default build (the assembly this CPU runs) and
# -tags xtsportable (golang.org/x/crypto/xts). Each builds its own kit image (cheap KDF, so
# unlocking does not count), then backs up and restores two datasets through it: a home
# folder of many small files (scripts/mkhome, package homedata) and media files of random,
# incompressible bytes, where the kit's encryption is the largest share of the work. Each
# step runs for A and then at once for B, and is measured in CPU seconds (user + system of
# the process, from /usr/bin/time): on a shared, loaded machine CPU time moves far less
# than the wall clock. One run; the ratio is portable / assembly (above 1: the assembly
# saves that much CPU). Like the rest of this script it runs with GOMAXPROCS=1 (unpinned).
kit_rows() {
	local k="$tmp/kit" v
	mkdir -p "$k/dist" "$k/src"
	CGO_ENABLED=0 go build -trimpath -o "$k/tk-asm" ./cmd/travelkit
	CGO_ENABLED=0 go build -trimpath -tags xtsportable -o "$k/tk-portable" ./cmd/travelkit
	go version -m "$k/tk-portable" | grep -q 'tags=xtsportable' ||
		{ echo "bench-xts: the portable build lacks the xtsportable tag" >&2; exit 1; }
	go run ./scripts/mkhome make "${KIT_FILES:-20000}" "$k/src/home" 42 >"$k/home.txt"
	mkdir -p "$k/src/media"
	for v in 1 2 3 4; do
		head -c $(( ${KIT_MEDIA_MIB:-512} / 4 ))M /dev/urandom >"$k/src/media/video$v.mp4"
	done
	printf 'bench passphrase' >"$k/pass"
	printf 'name = "bench-xts"\n[luks]\npbkdf = "pbkdf2"\npbkdf_iterations = 1000\n[tools]\nplatforms = ["%s"]\n' \
		"$(go env GOOS)/$(go env GOARCH)" >"$k/kit.toml"
	# cpu LABEL VARIANT COMMAND... : runs COMMAND, appends "LABEL VARIANT cpu wall" to $k/times
	cpu() {
		local label=$1 variant=$2
		shift 2
		/usr/bin/time -f '%U %S %e' -o "$k/t" "$@" >/dev/null 2>"$k/err" ||
			{ cat "$k/err" >&2; echo "bench-xts: $label ($variant) failed" >&2; exit 1; }
		awk -v l="$label" -v v="$variant" '{ printf "%s\t%s\t%.2f\t%.2f\n", l, v, $1 + $2, $3 }' "$k/t" >>"$k/times"
	}
	: >"$k/times"
	for v in asm portable; do
		cp "$k/tk-$v" "$k/dist/travelkit-$(go env GOOS)-$(go env GOARCH)"
		cpu "kit build (4 GiB image)" "$v" "$k/tk-$v" build --profile "$k/kit.toml" --target "$k/$v.img" \
			--size 4GiB --binaries "$k/dist" --passphrase-file "$k/pass" --allow-weak-passphrase --yes
	done
	# each dataset: backed up by A then B, then restored (latest: that dataset) by A then B
	local set
	for set in home media; do
		for v in asm portable; do
			cpu "backup $set" "$v" "$k/tk-$v" backup --target "$k/$v.img" --passphrase-file "$k/pass" \
				--host bench "$k/src/$set"
		done
		for v in asm portable; do
			rm -rf "$k/out-$v"
			mkdir -p "$k/out-$v"
			cpu "restore $set" "$v" "$k/tk-$v" restore --target "$k/$v.img" --passphrase-file "$k/pass" \
				latest --to "$k/out-$v"
			if [ "$set" = home ]; then
				[ "$(go run ./scripts/mkhome digest "$k/out-$v$k/src/home")" = "$(go run ./scripts/mkhome digest "$k/src/home")" ]
			else
				diff -r "$k/src/media" "$k/out-$v$k/src/media" >/dev/null
			fi || { echo "bench-xts: restore $set ($v) differs from the source" >&2; exit 1; }
		done
	done
	echo
	echo "A kit's backup and restore: the assembly against golang.org/x/crypto/xts (-tags xtsportable)"
	echo "datasets: home folder $(sed "s/ in .*//" "$k/home.txt"); media $(du -sm "$k/src/media" | cut -f1) MiB of random bytes in 4 files"
	printf "%-30s %12s %12s %8s   %10s %10s\n" "" "asm CPU s" "portable" "ratio" "asm wall" "portable"
	awk -F'\t' '
		$2 == "asm" { a[$1] = $3; aw[$1] = $4; order[++n] = $1 }
		$2 == "portable" { p[$1] = $3; pw[$1] = $4 }
		END { for (i = 1; i <= n; i++) { l = order[i]
			printf "%-30s %12.2f %12.2f %7.2fx   %10.2f %10.2f\n", l, a[l], p[l], (a[l] > 0 ? p[l] / a[l] : 0), aw[l], pw[l]
			if (l !~ /^kit build/) { ta += a[l]; tp += p[l]; taw += aw[l]; tpw += pw[l] } }
		printf "%-30s %12.2f %12.2f %7.2fx   %10.2f %10.2f\n", "backups + restores", ta, tp, (ta > 0 ? tp / ta : 0), taw, tpw }
	' "$k/times"
	echo "(ratio = portable CPU s / assembly CPU s for the same step, run one after the other; one run each)"
	rm -rf "$k"
}

# --- report -----------------------------------------------------------------------------
if [ "${ONLY:-}" = kit ]; then
	kit_rows
	exit 0
fi
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

if [ -x /usr/bin/time ]; then
	kit_rows
else
	echo "(kit backup/restore comparison skipped: needs /usr/bin/time)"
fi
