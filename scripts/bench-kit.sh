#!/usr/bin/env bash
# bench-kit.sh: the build time of a 1 GiB and a 64 GiB kit image, side by side in one
# run, and the disk space each really uses. Building is O(metadata): the 64 GiB image
# should take about as long as the 1 GiB one and use far less than 400 MiB.
#
# The key derivation is fixed and cheap here (pbkdf2, 1000 iterations) so that the
# figures show the layout work, not the 2 s unlock-time calibration; the last row times
# a default build (argon2id calibrated to 2 s) for reference.
#
# Usage: scripts/bench-kit.sh        (needs ./travelkit: make build)
set -euo pipefail
cd "$(dirname "$0")/.."
tk=./travelkit
[ -x "$tk" ] || { echo "bench-kit: build first (make build)" >&2; exit 1; }
work=$(mktemp -d /tmp/travelkit-bench-kit.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dist"
cp "$tk" "$work/dist/travelkit-$(go env GOOS)-$(go env GOARCH)"
printf 'bench passphrase' > "$work/pass"
cat > "$work/cheap.toml" <<TOML
name = "bench-kit"
languages = ["en", "es", "fr", "ar", "ru", "fa"]
[luks]
pbkdf = "pbkdf2"
pbkdf_iterations = 1000
[tools]
platforms = ["$(go env GOOS)/$(go env GOARCH)"]
TOML
sed -e '/^pbkdf/d' "$work/cheap.toml" > "$work/default.toml"

build() { # build PROFILE SIZE NAME -> "seconds used-bytes"
	local t0 t1
	t0=$(date +%s.%N)
	"$tk" build --profile "$1" --target "$work/$3.img" --size "$2" --binaries "$work/dist" \
		--passphrase-file "$work/pass" --yes --allow-weak-passphrase >/dev/null 2>&1
	t1=$(date +%s.%N)
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(( $(stat -c %b "$work/$3.img") * 512 ))"
}

read -r t1 u1 <<<"$(build "$work/cheap.toml" 1GiB one)"
read -r t64 u64 <<<"$(build "$work/cheap.toml" 64GiB big)"
read -r td ud <<<"$(build "$work/default.toml" 1GiB dflt)"

printf '%-44s %10s %14s\n' "kit image (cheap KDF)" "build s" "disk used"
printf '%-44s %10s %11.1f MiB\n' "1 GiB" "$t1" "$(awk -v u="$u1" 'BEGIN{print u/1048576}')"
printf '%-44s %10s %11.1f MiB\n' "64 GiB" "$t64" "$(awk -v u="$u64" 'BEGIN{print u/1048576}')"
awk -v a="$t1" -v b="$t64" 'BEGIN { printf "%-44s %9.2fx\n", "64 GiB / 1 GiB build time", b / a }'
printf '%-44s %10s %11.1f MiB\n' "1 GiB, default KDF (argon2id, 2 s, twice)" "$td" "$(awk -v u="$ud" 'BEGIN{print u/1048576}')"
echo "(bar: the 64 GiB image uses < 400 MiB of real disk space and builds in about the time of the 1 GiB one)"
