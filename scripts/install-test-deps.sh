#!/usr/bin/env bash
# Installs the Debian packages the tests use, when they are missing. Idempotent.
# The tests never skip because a tool is missing: this script is what makes them present.
set -euo pipefail
need=()
check() { # check COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || need+=("$2")
}
check cryptsetup cryptsetup-bin
check restic restic
check age age
check sgdisk gdisk
check fsck.vfat dosfstools
check mdir mtools
check e2fsck e2fsprogs
check zstd zstd
check /usr/bin/time time
check sfdisk fdisk
check losetup mount
check sha256sum coreutils
check ssh-keygen openssh-client
check modprobe kmod
check blkid util-linux
{ command -v busybox >/dev/null && ! ldd "$(command -v busybox)" >/dev/null 2>&1; } || need+=(busybox-static)
check debugfs e2fsprogs
check swtpm swtpm
check swtpm_setup swtpm-tools
check tpm2_createprimary tpm2-tools
check qemu-system-x86_64 qemu-system-x86
check borg borgbackup
check openssl openssl
check gcc gcc
check systemd-cryptenroll systemd
check mkfs.ntfs ntfs-3g            # NTFS disks for the boot tests (mkfs.ntfs, ntfs-3g, ntfsls, ntfscat)
check mkfs.exfat exfatprogs
check age-keygen age
check flock util-linux
check pyftsubset fonttools          # scripts/bootenv.sh cuts the arrows out of Noto Sans Symbols
check tesseract tesseract-ocr       # OCR of the boot menu's screen in Arabic and Persian (vmtest, menu/graphic)
[ -f /usr/share/tesseract-ocr/5/tessdata/ara.traineddata ] || need+=(tesseract-ocr-ara)
[ -f /usr/share/tesseract-ocr/5/tessdata/fas.traineddata ] || need+=(tesseract-ocr-fas)
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] && [ -f /usr/share/OVMF/OVMF_VARS_4M.ms.fd ] || need+=(ovmf)
check ssss-split ssss
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
check rclone rclone
check qemu-aarch64-static qemu-user-static   # the arm64 XTS assembly, run under qemu-user
# Windows under Wine (package wintest, scripts/wine): the 64-bit loader and the mingw C compiler
[ -x /usr/lib/wine/wine64 ] || need+=(wine wine64)
check x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64-win32
# the restore wizard in a real browser (go test ./wizard -run TestBrowserRestore): Debian's
# headless Chromium, and fonts for Arabic and Persian (and the rest) in its screenshots
check chromium chromium
[ -f /usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf ] || need+=(fonts-noto-core)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || need+=(python3-cryptography)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
if [ ${#need[@]} -gt 0 ]; then
	echo "install-test-deps: installing ${need[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-test-deps: need root to apt-get install ${need[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# one apt at a time on a shared machine
	flock /tmp/apt.lock apt-get update -qq
	flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
