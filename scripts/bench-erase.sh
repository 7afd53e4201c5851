#!/usr/bin/env bash
# bench-erase.sh: `travelkit erase` of a 64 GiB kit image beside `cryptsetup luksErase` of
# the same LUKS2 header, in one run, with the ratio. Erase must take well under a second
# whatever the size of the drive: it overwrites the keyslots in the header area (16 MiB with
# the defaults), never the data; travelkit also shreds the two encrypted header backups on
# the tools partition (32 MiB of clusters overwritten).
#
# Usage: scripts/bench-erase.sh        (needs ./travelkit: make build; cryptsetup)
set -euo pipefail
cd "$(dirname "$0")/.."
tk=./travelkit
[ -x "$tk" ] || { echo "bench-erase: build first (make build)" >&2; exit 1; }
cs=$(command -v cryptsetup || echo /usr/sbin/cryptsetup)
work=$(mktemp -d /tmp/travelkit-bench-erase.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dist"
cp "$tk" "$work/dist/travelkit-$(go env GOOS)-$(go env GOARCH)"
printf 'bench passphrase' > "$work/pass"
age-keygen -o "$work/colleague.key" 2>/dev/null
cat > "$work/kit.toml" <<TOML
name = "bench-erase"
[luks]
pbkdf = "pbkdf2"
pbkdf_iterations = 1000
[[escrow]]
name = "colleague"
recipient = "$(age-keygen -y "$work/colleague.key")"
[tools]
platforms = ["$(go env GOOS)/$(go env GOARCH)"]
TOML
"$tk" build --profile "$work/kit.toml" --target "$work/kit.img" --size 64GiB --binaries "$work/dist" \
	--passphrase-file "$work/pass" --yes --allow-weak-passphrase >/dev/null 2>&1

# The same LUKS2 header for cryptsetup: a sparse file the size of the data partition, its
# first 16 MiB copied from the kit (luksErase touches nothing past the keyslots area).
start=$(sgdisk -i 2 "$work/kit.img" | awk '/First sector/ {print $3}')
end=$(sgdisk -i 2 "$work/kit.img" | awk '/Last sector/ {print $3}')
truncate -s $(( (end - start + 1) * 512 )) "$work/part.img"
dd if="$work/kit.img" of="$work/part.img" bs=1M skip=$(( start * 512 / 1048576 )) count=16 conv=notrunc status=none

now() { date +%s.%N; }
t0=$(now); "$tk" erase --target "$work/kit.img" --yes >/dev/null; t1=$(now)
t2=$(now); "$cs" luksErase --batch-mode "$work/part.img" >/dev/null; t3=$(now)
tt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
tc=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.3f", b - a }')
printf '%-52s %9s\n' "erase of a 64 GiB kit image (one run each)" "seconds"
printf '%-52s %9s\n' "travelkit erase (keyslots + header backups shredded)" "$tt"
printf '%-52s %9s\n' "cryptsetup luksErase (keyslots only)" "$tc"
awk -v a="$tt" -v b="$tc" 'BEGIN { printf "%-52s %8.2fx\n", "travelkit / cryptsetup", a / b }'
echo "(bar: well under a second)"
