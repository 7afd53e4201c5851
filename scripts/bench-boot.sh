#!/usr/bin/env bash
# bench-boot.sh: how long a computer takes from power-on to the kit's menu, beside the same
# firmware, shim, grub and kernel booting a minimal busybox initramfs (which only prints a
# line), in one run under qemu (TCG, OVMF with Secure Boot on, the kit on USB), with the
# ratio; and how much of the tools partition the boot files take, beside the default
# tools_size holding the binaries of all six platforms.
#
# Usage: scripts/bench-boot.sh     (needs make dist and make bootenv; qemu, ovmf,
#                                   busybox-static, mtools, cpio, zstd)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=dist/bootenv
[ -f "$bundle/boot/bundle.json" ] || { echo "bench-boot: no boot bundle (make bootenv)" >&2; exit 1; }
for p in linux-amd64 linux-arm64 darwin-amd64 darwin-arm64 windows-amd64.exe windows-arm64.exe; do
	[ -f "dist/travelkit-$p" ] || { echo "bench-boot: dist/travelkit-$p missing (make dist)" >&2; exit 1; }
done
tk=dist/travelkit-linux-amd64
work=$(mktemp -d /tmp/travelkit-bench-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
printf 'bench passphrase' > "$work/pass"

# The default profile: every platform, the default tools_size.
cat > "$work/full.toml" <<TOML
name = "bench-boot"
languages = ["en", "es", "fr", "ar", "ru", "fa"]
[luks]
pbkdf = "pbkdf2"
pbkdf_iterations = 1000
TOML
"$tk" build --target "$work/kit.img" --size 1GiB --profile "$work/full.toml" --passphrase-file "$work/pass" \
	--binaries dist --boot "$bundle" --yes --allow-weak-passphrase > "$work/build.txt"
off=$((1 << 20))
"$tk" verify --target "$work/kit.img" > /dev/null

echo "== Boot files on the tools partition (default tools_size, all six platforms)"
mdir -/ -b -i "$work/kit.img@@$off" :: > "$work/files.txt"
total=0 boot=0 bins=0
while read -r f; do
	case "$f" in */) continue ;; esac
	n=$(mtype -i "$work/kit.img@@$off" "$f" | wc -c)
	total=$((total + n))
	case "$f" in ::/EFI/*|::/boot/*|::/.disk/*) boot=$((boot + n)) ;; ::/bin/*) bins=$((bins + n)) ;; esac
done < "$work/files.txt"
initrd=$(mtype -i "$work/kit.img@@$off" ::/boot/initrd.img | wc -c)
free=$(mdir -i "$work/kit.img@@$off" :: | awk '/bytes free/ {gsub(/[ ,]/, "", $0); sub(/bytesfree.*/, "", $0); print $0}')
mib() { echo "$(( ($1 + 524288) / 1048576 )) MiB"; }
printf '%-44s %10s\n' "boot files (bundle + initramfs + grub.cfg)" "$(mib $boot)"
printf '%-44s %10s\n' "  of which the initramfs (zstd)" "$(mib $initrd)"
printf '%-44s %10s\n' "binaries, 6 platforms" "$(mib $bins)"
printf '%-44s %10s\n' "all files on the tools partition" "$(mib $total)"
printf '%-44s %10s\n' "free on the 256 MiB tools partition" "$(mib "${free:-0}")"

echo
echo "== Power-on to menu, qemu TCG, OVMF Secure Boot on, kit on USB (one run each)"
# The peer: the same kit with boot/initrd.img replaced by a busybox initramfs.
cp --sparse=always "$work/kit.img" "$work/peer.img"
mkdir -p "$work/bb/bin" "$work/bb/dev" "$work/bb/proc"
cp "$(command -v busybox)" "$work/bb/bin/busybox"
cat > "$work/bb/init" <<'SH'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev
# /dev/console is the screen (the last console= on the kit's command line): write to
# the serial port, as the kit's menu does
/bin/busybox echo "BUSYBOX-READY uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
/bin/busybox poweroff -f
SH
chmod +x "$work/bb/init"
(cd "$work/bb" && find . | cpio -o -H newc --quiet | zstd -q -19 > "$work/bb.img")
mcopy -o -i "$work/peer.img@@$off" "$work/bb.img" ::boot/initrd.img

# boot IMAGE MARKER...: boots IMAGE and prints, for each marker in turn, the seconds from
# qemu's start to the marker's first appearance on the serial console.
boot() {
	local img=$1
	shift
	cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd "$work/vars.fd"
	: > "$work/console"
	local start pid
	start=$(date +%s.%N)
	qemu-system-x86_64 -machine q35,smm=on -accel tcg -cpu max -m 1024 -nodefaults -no-user-config \
		-display none -vga std -serial stdio -monitor none -no-reboot \
		-global driver=cfi.pflash01,property=secure,value=on \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
		-drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
		-device qemu-xhci,id=xhci -drive if=none,format=raw,id=kit,file="$img" \
		-device usb-storage,bus=xhci.0,removable=on,drive=kit < /dev/null > "$work/console" 2>&1 &
	pid=$!
	local marker out=""
	for marker in "$@"; do
		local t=""
		for _ in $(seq 1 12000); do # 20 minutes at most
			if grep -qF -- "$marker" "$work/console"; then
				t=$(echo "$(date +%s.%N) - $start" | bc)
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[ -n "$t" ] || { kill "$pid" 2>/dev/null; echo "bench-boot: $img never printed $marker" >&2; exit 1; }
		out+="$t "
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "$out"
}
read -r tmenu tkit <<<"$(boot "$work/kit.img" "Looking for the kit drive" "Tools partition:")"
read -r tpeer <<<"$(boot "$work/peer.img" "BUSYBOX-READY")"
[ -n "$tmenu" ] && [ -n "$tkit" ] && [ -n "$tpeer" ] || { echo "bench-boot: a boot did not finish" >&2; exit 1; }
printf '%-52s %8.1f s\n' "travelkit: power-on to the menu drawn" "$tmenu"
printf '%-52s %8.1f s\n' "travelkit: power-on to the kit found and checked" "$tkit"
printf '%-52s %8.1f s\n' "busybox initramfs: power-on to its first line" "$tpeer"
printf '%-52s %8.2f\n' "ratio travelkit menu / busybox" "$(echo "$tmenu / $tpeer" | bc -l)"
printf '%-52s %8.2f\n' "ratio travelkit kit checked / busybox" "$(echo "$tkit / $tpeer" | bc -l)"
