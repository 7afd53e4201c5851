# benchfs.sh -- sourced by bench-backup.sh and bench-million.sh: puts the benchmark's work
# directory (source copies, repositories, restores, kits) on a filesystem made for the run.
#   BENCH_FS=ext4  (default) a fresh ext4 WITH its journal (mkfs.ext4 defaults, as on a
#                  laptop's disk) in a sparse image file under BENCH_DIR, attached with
#                  `losetup --direct-io=on` (no second copy in the page cache) and mounted with
#                  -o discard (a deleted file gives its space back to the shared disk). Needs root.
#   BENCH_FS=tmpfs a tmpfs of the same size (memory; no disk at all). Needs root.
#   BENCH_FS=root  the old behaviour: the work directory on BENCH_DIR's own filesystem.
# Why: this VM's / is ext4 WITHOUT a journal; there the inode allocator steps over every inode
# deleted in the last 35 s to 5 min (recently_deleted(), journal-less ext4 only), so creating
# files right after any rm -rf (the bench deletes the previous tool's trees right before each
# tool) costs up to 10x the system time, by chance of timing and order.
# Everything made is removed on exit, on errors and on INT/TERM/HUP (benchfs_cleanup).

BENCHFS_MNT= BENCHFS_DEV= BENCHFS_IMG=

# benchfs_log MESSAGE
benchfs_log() { echo "[$(date +%T)] benchfs: $*" >&2; }

# benchfs_check: refuses clearly, before anything is made, when BENCH_FS cannot be used.
benchfs_check() {
  case ${BENCH_FS:=ext4} in
    root) return 0 ;;
    ext4|tmpfs) ;;
    *) echo "BENCH_FS=$BENCH_FS: unknown; use ext4 (journaled loop-mounted ext4, the default), tmpfs, or root (the work directory on BENCH_DIR's own filesystem, the old behaviour)" >&2; exit 2 ;;
  esac
  if [ "$(id -u)" != 0 ]; then
    echo "BENCH_FS=$BENCH_FS needs root (mount$([ "$BENCH_FS" = ext4 ] && echo ', losetup, mkfs.ext4')): run this script as root, or set BENCH_FS=root to keep the work directory on BENCH_DIR's own filesystem (the old behaviour; on a journal-less ext4 file creation then costs more right after each rm -rf)" >&2
    exit 2
  fi
  local c
  for c in mount umount $([ "$BENCH_FS" = ext4 ] && echo losetup mkfs.ext4); do
    command -v "$c" >/dev/null || { echo "BENCH_FS=$BENCH_FS needs $c (apt-get install util-linux e2fsprogs), or set BENCH_FS=root" >&2; exit 2; }
  done
}

# benchfs_mount BASE BYTES [INODES]: makes the filesystem (BYTES large, at least INODES inodes)
# and mounts it on BASE/benchfs-mnt-PID, left in BENCHFS_MNT ("" for BENCH_FS=root). Call it
# directly, not in $(...): benchfs_cleanup needs the variables it sets.
benchfs_mount() {
  local base=$1 bytes=$2 inodes=${3:-0}
  [ "$BENCH_FS" = root ] && return 0
  BENCHFS_MNT=$base/benchfs-mnt-$$
  mkdir -p "$BENCHFS_MNT"
  if [ "$BENCH_FS" = tmpfs ]; then
    local avail; avail=$(awk '/^MemAvailable:/{printf "%.0f", $2 * 1024}' /proc/meminfo)
    if [ "$bytes" -gt "$avail" ]; then
      echo "BENCH_FS=tmpfs: the work directory needs about $((bytes >> 20)) MiB of memory, only $((avail >> 20)) MiB available; use BENCH_FS=ext4" >&2
      rmdir "$BENCHFS_MNT"; BENCHFS_MNT=; exit 2
    fi
    local ni=; [ "$inodes" -gt 0 ] && ni=,nr_inodes=$inodes
    mount -t tmpfs -o "size=$bytes$ni,mode=755" benchfs "$BENCHFS_MNT"
    benchfs_log "tmpfs of $((bytes >> 20)) MiB on $BENCHFS_MNT"
  else
    BENCHFS_IMG=$base/benchfs-$$.img
    rm -f "$BENCHFS_IMG"; truncate -s "$bytes" "$BENCHFS_IMG"
    # mkfs.ext4's defaults (journal, 4 KiB blocks, one inode per 16 KiB), more inodes only if
    # the dataset needs them
    local n=() def=$((bytes / 16384))
    [ "$inodes" -gt "$def" ] && n=(-N "$inodes")
    # inode tables and journal written now, not by ext4lazyinit in the background of the run
    mkfs.ext4 -q -F -L benchfs -E lazy_itable_init=0,lazy_journal_init=0 "${n[@]}" "$BENCHFS_IMG"
    BENCHFS_DEV=$(losetup --find --show --direct-io=on "$BENCHFS_IMG")
    mount -o discard "$BENCHFS_DEV" "$BENCHFS_MNT"
    benchfs_log "journaled ext4 of $((bytes >> 20)) MiB ($(dumpe2fs -h "$BENCHFS_DEV" 2>/dev/null | awk -F': *' '/^Inode count/{print $2}') inodes) in $BENCHFS_IMG on $BENCHFS_DEV (direct I/O), mounted on $BENCHFS_MNT"
  fi
}

# benchfs_cleanup: unmounts, detaches and removes what benchfs_mount made (safe to call twice).
benchfs_cleanup() {
  if [ -n "$BENCHFS_MNT" ]; then
    if mountpoint -q "$BENCHFS_MNT"; then
      umount "$BENCHFS_MNT" 2>/dev/null || { sleep 2; umount "$BENCHFS_MNT" 2>/dev/null; } || umount -l "$BENCHFS_MNT" || true
    fi
    rmdir "$BENCHFS_MNT" 2>/dev/null || true
    BENCHFS_MNT=
  fi
  if [ -n "$BENCHFS_DEV" ]; then losetup -d "$BENCHFS_DEV" 2>/dev/null || true; BENCHFS_DEV=; fi
  if [ -n "$BENCHFS_IMG" ]; then rm -f "$BENCHFS_IMG"; BENCHFS_IMG=; fi
}

# benchfs_trap: cleanup on exit, on errors (set -e exits through EXIT) and on signals.
benchfs_trap() {
  trap 'benchfs_cleanup' EXIT
  trap 'benchfs_cleanup; trap - EXIT; exit 130' INT
  trap 'benchfs_cleanup; trap - EXIT; exit 143' TERM
  trap 'benchfs_cleanup; trap - EXIT; exit 129' HUP
}
