#!/usr/bin/env bash
# Regenerates kernel-unclean.img.gz: a travelkit-formatted ext4 volume that the
# Linux kernel mounted, wrote to, and then shut down (EXT4_IOC_SHUTDOWN with
# LOGFLUSH: the journal is committed but not checkpointed), so needs_recovery
# is set and the kernel's changes exist only in the journal. Needs root, a
# loop device and the ext4 module. Not run by the tests; they use the output.
set -euo pipefail
cd "$(dirname "$0")"
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'umount "$tmp/mnt" 2>/dev/null || true; [ -n "${loop:-}" ] && losetup -d "$loop" 2>/dev/null || true; rm -rf "$tmp"' EXIT
(cd "$root" && go run ./testdata/image/mkfixture "$tmp/k.img")
cat > "$tmp/shut.go" <<'GO'
package main

import (
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	fd, err := unix.Open(os.Args[1], unix.O_RDONLY, 0)
	if err != nil {
		panic(err)
	}
	// EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32); flag 1 = EXT4_GOING_FLAGS_LOGFLUSH
	if err := unix.IoctlSetPointerInt(fd, 0x8004587D, 1); err != nil {
		panic(err)
	}
}
GO
(cd "$root" && go build -o "$tmp/shut" "$tmp/shut.go")
loop=$(losetup -f --show "$tmp/k.img")
mkdir "$tmp/mnt"
mount -t ext4 "$loop" "$tmp/mnt"
m=$tmp/mnt
mkdir -p "$m/kernel/deep"
seq 1 60000 > "$m/kernel/deep/seq.txt"            # ~350 KB, many blocks
echo "kernel note" > "$m/kernel/note.txt"
echo appended >> "$m/from-travelkit/hello.txt"
for i in $(seq 1 50); do echo "$i" > "$m/kernel/f$i"; done
rm "$m/kernel/f7"
# fsync (not sync(2), which would also write the metadata home): data and a
# journal commit reach the image; the metadata is not checkpointed.
python3 -c 'import os,sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY); os.fsync(fd); os.close(fd)' \
	"$m/kernel/deep/seq.txt" "$m/kernel/note.txt" "$m/from-travelkit/hello.txt" "$m/kernel/f50" "$m/kernel/deep" "$m/kernel" "$m"
"$tmp/shut" "$m"
# The power cut: copy the image now, before umount lets the kernel checkpoint.
cp --sparse=always "$tmp/k.img" "$tmp/snap.img"
umount "$m"
losetup -d "$loop"; loop=
dumpe2fs -h "$tmp/snap.img" 2>/dev/null | grep -q needs_recovery
gzip -9 < "$tmp/snap.img" > kernel-unclean.img.gz
ls -l kernel-unclean.img.gz
