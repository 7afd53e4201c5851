#!/usr/bin/env bash
# Gathers the boot bundle: the files that make a kit bootable on x86-64 UEFI computers with
# Secure Boot on, taken unchanged from Debian's signed packages with `apt-get download`
# (apt checks every package against the archive's signed Release file):
#   shim-signed              EFI/BOOT/BOOTX64.EFI   (shimx64, signed by Microsoft's UEFI CA)
#   grub-efi-amd64-signed    EFI/BOOT/grubx64.efi   (gcdx64, Debian's live-media grub)
#   linux-image-<ver>-amd64  boot/vmlinuz and boot/modules/*.ko (signed by Debian)
#   console-setup-linux      boot/fonts/*.psf.gz    (console fonts with Cyrillic)
#   fonts-noto-core          boot/fonts/*.ttf       (the screen's fonts when the menu draws on the
#                            framebuffer: Noto Sans, Noto Naskh Arabic, and the arrows of Noto
#                            Sans Symbols cut out with pyftsubset; SIL Open Font License 1.1,
#                            the package's copyright file beside them as boot/fonts/noto-copyright)
#   ntfs-3g, libntfs-3g89, libc6   boot/userspace/*  (NTFS through FUSE: Debian 12's kernel has
#                            no ntfs3; the program and the libraries it links, nothing else)
# The bundle is a folder laid out as on the kit's tools partition, with boot/bundle.json
# (package names, versions and sha256 of the .deb files; every file with size and sha256).
#
# usage: scripts/bootenv.sh [OUT]     (default dist/bootenv; make bootenv)
# Downloaded packages are kept in ${BOOTENV_DEBS:-OUT/../.bootenv-debs} and reused while
# their sha256 still matches apt's record.
set -euo pipefail
out=${1:-dist/bootenv}
mkdir -p "$out"
out=$(cd "$out" && pwd)
debs=${BOOTENV_DEBS:-$(dirname "$out")/.bootenv-debs}
mkdir -p "$debs"
debs=$(cd "$debs" && pwd)

for c in apt-get apt-cache dpkg-deb depmod modprobe sha256sum pyftsubset; do
	command -v "$c" >/dev/null || { echo "bootenv: $c not found (Debian's apt, dpkg, kmod and fonttools are needed)" >&2; exit 1; }
done
[ -x /usr/sbin/depmod ] && depmod=/usr/sbin/depmod || depmod=$(command -v depmod)

# The modules the boot environment loads (finit_module), dependencies first: USB storage
# (xhci, ehci, ohci, uhci, usb-storage, uas), NVMe, AHCI/SATA, SD cards, virtio (for the
# tests), the filesystems a computer's disks or a second stick may hold, code pages for
# vfat, and USB keyboards. Built-in ones are skipped.
modules="xhci_pci ehci_pci ohci_pci uhci_hcd usb_storage uas sd_mod nvme ahci sdhci_pci mmc_block
virtio_pci virtio_blk virtio_scsi
vfat exfat fuse ext4 hfsplus crc32c_generic crc32c_intel
nls_cp437 nls_ascii nls_iso8859-1 nls_utf8
usbhid hid_generic hid_apple efivarfs"
fonts="Uni2-Fixed16.psf.gz Uni2-VGA16.psf.gz"

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { echo "bootenv: apt knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
pkgs="shim-signed grub-efi-amd64-signed $kpkg console-setup-linux fonts-noto-core ntfs-3g libntfs-3g89 libc6"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# field PKG NAME: a field of the candidate version's record.
field() { apt-cache show --no-all-versions "$1" | awk -v f="$2:" '$1 == f {print $2; exit}'; }

pkgjson=""
for p in $pkgs; do
	ver=$(field "$p" Version)
	sum=$(field "$p" SHA256)
	arch=$(field "$p" Architecture)
	[ -n "$ver" ] && [ -n "$sum" ] || { echo "bootenv: apt has no candidate for $p" >&2; exit 1; }
	deb=$(ls "$debs"/"${p}"_*.deb 2>/dev/null | while read -r f; do
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sum" ] && echo "$f"; done | head -1 || true)
	if [ -z "$deb" ]; then
		rm -f "$debs"/"${p}"_*.deb
		echo "bootenv: apt-get download $p=$ver"
		(cd "$debs" && flock /tmp/apt.lock apt-get download -qq "$p=$ver")
		deb=$(ls "$debs"/"${p}"_*.deb | head -1)
		[ "$(sha256sum "$deb" | cut -d' ' -f1)" = "$sum" ] || { echo "bootenv: $deb does not match apt's sha256" >&2; exit 1; }
	fi
	mkdir -p "$work/x"
	dpkg-deb -x "$deb" "$work/x"
	pkgjson+="${pkgjson:+,}
    {\"name\": \"$p\", \"version\": \"$ver\", \"architecture\": \"$arch\", \"sha256\": \"$sum\"}"
done
x=$work/x

rm -rf "$out/EFI" "$out/boot"
mkdir -p "$out/EFI/BOOT" "$out/boot/modules" "$out/boot/fonts" "$out/boot/userspace"
cp "$x/usr/lib/shim/shimx64.efi.signed" "$out/EFI/BOOT/BOOTX64.EFI"
cp "$x/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed" "$out/EFI/BOOT/grubx64.efi"
kver=${kpkg#linux-image-}
cp "$x/boot/vmlinuz-$kver" "$out/boot/vmlinuz"
for f in $fonts; do cp "$x/usr/share/consolefonts/$f" "$out/boot/fonts/$f"; done
# The screen's fonts (package bootenv draws the menu with them on /dev/fb0): Latin, Greek
# and Cyrillic; Arabic and Persian; and the four arrows the key help shows, which neither
# has (a 2 KiB cut of Noto Sans Symbols, not its 250 KiB).
noto=$x/usr/share/fonts/truetype/noto
cp "$noto/NotoSans-Regular.ttf" "$noto/NotoNaskhArabic-Regular.ttf" "$out/boot/fonts/"
pyftsubset "$noto/NotoSansSymbols-Regular.ttf" --unicodes=U+2190-2193 --layout-features= \
	--no-hinting --output-file="$out/boot/fonts/NotoSansSymbols-Arrows.ttf"
cp "$x/usr/share/doc/fonts-noto-core/copyright" "$out/boot/fonts/noto-copyright"
# userspace programs: bundle path -> path in the initramfs
userspace="bin/ntfs-3g:/usr/bin/ntfs-3g
lib/x86_64-linux-gnu/libntfs-3g.so.89:/lib/x86_64-linux-gnu/libntfs-3g.so.89
lib/x86_64-linux-gnu/libc.so.6:/lib/x86_64-linux-gnu/libc.so.6
lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2"
userjson=""
while IFS=: read -r src dst; do
	name=$(basename "$dst")
	cp -L "$x/$src" "$out/boot/userspace/$name" 2>/dev/null || cp -L "$x/usr/$src" "$out/boot/userspace/$name"
	userjson+="${userjson:+,}
    {\"path\": \"boot/userspace/$name\", \"install\": \"$dst\"}"
done <<<"$userspace"

# Module dependencies from the package's own tree (depmod writes modules.dep into the
# scratch copy, never into the host's /lib/modules).
"$depmod" -b "$x" "$kver"
order=""
for m in $modules; do
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		name=$(basename "$path")
		case " $order " in *" $name "*) continue ;; esac
		cp "$path" "$out/boot/modules/$name"
		order+=" $name"
	done < <(modprobe -d "$x" -S "$kver" --show-depends "$m")
done

modjson=""
for n in $order; do modjson+="${modjson:+, }\"boot/modules/$n\""; done
filejson=""
while read -r f; do
	rel=${f#"$out"/}
	filejson+="${filejson:+,}
    {\"path\": \"$rel\", \"size\": $(stat -c %s "$f"), \"sha256\": \"$(sha256sum "$f" | cut -d' ' -f1)\"}"
done < <(find "$out/EFI" "$out/boot" -type f | LC_ALL=C sort)

cat > "$out/boot/bundle.json" <<EOF
{
  "format": 1,
  "arch": "amd64",
  "kernel_version": "$kver",
  "packages": [$pkgjson
  ],
  "modules": [$modjson],
  "userspace": [$userjson
  ],
  "files": [$filejson
  ]
}
EOF
total=$(du -sb "$out" | cut -f1)
echo "bootenv: $out: $(find "$out" -type f | wc -l) files, $((total / 1024 / 1024)) MiB (kernel $kver)"
[ "$total" -lt $((100 << 20)) ] || { echo "bootenv: the bundle is over 100 MiB" >&2; exit 1; }
