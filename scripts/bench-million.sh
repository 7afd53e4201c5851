#!/bin/bash
# bench-million.sh [FILES...] -- travelkit beside restic (and borg) on home folders of many
# small files (internal/homedata: photos, documents, source trees, a mail store; 100000
# files are about 520 MB in 2,000-3,500 folders). For each size: first backup, no-change
# incremental, incremental after a 1% change, full restore; wall, CPU, peak RSS, the load
# average, and the ratios travelkit/restic. Not a test: it prints a comparison.
# The tools take turns step by step (travelkit first, so a warm page cache helps the peers,
# not travelkit) over one copy of the dataset: each step of every tool runs under about the
# same load of a shared machine.
#   FILES default: 100000 300000 1000000
#   env: TOOLS (default "restic borg travelkit"; borg is left out above 300000 files unless
#        BORG_ALL=1), BENCH_DIR (default /tmp/travelkit-bench), SEED,
#        INPLACE=1: back up the dataset itself (no copy; it is changed and then removed),
#        for 1,000,000 files on a small disk (the backed-up tree then stays on BENCH_DIR's
#        filesystem; repositories and restores go where BENCH_FS says),
#        BENCH_FS=ext4 (default; needs root): for each size, the work directory (source copy,
#          repositories, caches, restores) on a fresh JOURNALED ext4 (mkfs.ext4 defaults, as a
#          laptop's disk; more inodes only if the files need them) in a loop-mounted sparse
#          image under BENCH_DIR, removed after that size; BENCH_FS=tmpfs: in memory (refused
#          when it does not fit); BENCH_FS=root: the old behaviour, on BENCH_DIR's filesystem.
#        Why not / by default: this VM's / is ext4 without a journal, where creating files
#        costs up to 10x the system time for minutes after any rm -rf (README "Benchmarks",
#        "Where the work directory lives"). Results stay in $BENCH_DIR/work-many-N.
set -euo pipefail
SIZES=${*:-100000 300000 1000000}
TOOLS=${TOOLS:-"restic borg travelkit"}
SEED=${SEED:-42}
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$ROOT/scripts/benchfs.sh"
benchfs_check; benchfs_trap
BENCH_DIR=${BENCH_DIR:-/tmp/travelkit-bench}; mkdir -p "$BENCH_DIR"
TK=$BENCH_DIR/travelkit; MK=$BENCH_DIR/mkhome
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TK" ./cmd/travelkit && go build -o "$MK" ./scripts/mkhome)
echo "travelkit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo +changes), $(restic version | cut -d' ' -f1-2), $(borg --version 2>/dev/null || echo 'no borg'), $(nproc) cores, $(date -u +%FT%TZ)"
export RESTIC_PASSWORD=bench-pass BORG_PASSPHRASE=bench-pass RESTIC_PROGRESS_FPS=0.016 BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
log() { echo "[$(date +%T)] $*" >&2; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

for N in $SIZES; do
  DS=$BENCH_DIR/many-$N-s$SEED W=$BENCH_DIR/work-many-$N
  if [ ! -f "$DS.ok" ]; then
    rm -rf "$DS"; log "making $N files in $DS"; "$MK" make "$N" "$DS" "$SEED" >&2; touch "$DS.ok"
  fi
  tools=""
  for tool in $TOOLS; do
    if [ "$tool" = borg ] && [ "$N" -gt 300000 ] && [ "${BORG_ALL:-0}" != 1 ]; then log "borg left out at $N files (BORG_ALL=1 runs it)"; continue; fi
    tools="$tools $tool"
  done
  # travelkit first in every step
  case " $tools " in *" travelkit "*) tools="travelkit $(echo "$tools" | sed 's/\btravelkit\b//')";; esac
  OUT=$W
  if [ "$BENCH_FS" != root ]; then
    # room for the source copy, three repositories with their caches and one restore; sparse,
    # mounted with discard (deleted files give their space back)
    dsbytes=$(du -s --block-size=1 "$DS" | cut -f1)
    benchfs_mount "$BENCH_DIR" $((6 * dsbytes + (1 << 30))) $((3 * N + 100000))
    W=$BENCHFS_MNT/work-many-$N
  fi
  rm -rf "$W"; mkdir -p "$W/log"; RES=$W/results.tsv
  echo -e "tool\tstep\twall_s\tcpu_s\tmaxrss_kb\tforeign_cpu_s\tload1" > "$RES"
  if [ "${INPLACE:-0}" = 1 ]; then
    SRC=$DS; rm -f "$DS.ok"
    # read it all once: the first tool would otherwise read from a cold page cache and the
    # others from a warm one (the copy below warms it for every tool alike)
    log "reading the source once"; "$MK" digest "$SRC" >/dev/null
  else
    SRC=$W/home; cp -a "$DS" "$SRC"
  fi
  sync
  measure() {  # TOOL STEP -- cmd...
    local tool=$1 step=$2; shift 3
    local tf=$W/log/$tool-$step.time b0 b1 load
    load=$(cut -d' ' -f1 /proc/loadavg)
    b0=$(busy)
    if ! /usr/bin/time -v -o "$tf" "$@" > "$W/log/$tool-$step.log" 2>&1; then log "FAILED: $tool $step"; tail -3 "$W/log/$tool-$step.log" >&2; fi
    b1=$(busy)
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
    user=$(awk -F': ' '/User time/{print $2}' "$tf"); sys=$(awk -F': ' '/System time/{print $2}' "$tf")
    rss=$(awk -F': ' '/Maximum resident/{print $2}' "$tf")
    local cpu; cpu=$(echo "$user+$sys" | bc)
    local foreign; foreign=$(echo "scale=1; ($b1-$b0)/$(getconf CLK_TCK) - $cpu" | bc)
    echo -e "$tool\t$step\t$wall\t$cpu\t$rss\t$foreign\t$load" >> "$RES"
    log "$N $tool $step wall=${wall}s cpu=${cpu}s rss=${rss}KB foreign_cpu=${foreign}s load=$load"
  }
  backup_cmd() {  # TOOL: the backup command in B
    local R=$W/repo-$1
    case $1 in
      restic) B=(env RESTIC_CACHE_DIR="$W/cache-restic" restic -r "$R" backup --host bench "$SRC") ;;
      borg) B=(env BORG_BASE_DIR="$W/cache-borg" borg create --compression lz4 "$R::{now:%H%M%S%f}" "$SRC") ;;
      travelkit) B=("$TK" backup --repo "$R" --password-file "$W/pw" --host bench "$SRC") ;;
    esac
  }
  printf '%s\n' "$RESTIC_PASSWORD" > "$W/pw"
  for tool in $tools; do
    R=$W/repo-$tool
    case $tool in
      restic) RESTIC_CACHE_DIR=$W/cache-restic restic -r "$R" init >/dev/null ;;
      borg) BORG_BASE_DIR=$W/cache-borg borg init -e repokey "$R" >/dev/null 2>&1 ;;
      travelkit) "$TK" init --repo "$R" --password-file "$W/pw" >/dev/null ;;
    esac
  done
  for step in backup1 backup2-nochange mutate backup3-1pct; do
    if [ $step = mutate ]; then "$MK" mutate "$SRC" "$SEED" 1 >/dev/null; continue; fi
    for tool in $tools; do backup_cmd "$tool"; measure "$tool" "$step" -- "${B[@]}"; done
  done
  a=$("$MK" digest "$SRC")
  for tool in $tools; do
    R=$W/repo-$tool RT=$W/restore; rm -rf "$RT"; mkdir -p "$RT"; sync
    case $tool in
      restic) RS=(env RESTIC_CACHE_DIR="$W/cache-restic" restic -r "$R" restore latest --target "$RT") ;;
      borg) RS=(env BORG_BASE_DIR="$W/cache-borg" bash -c "cd '$RT' && exec borg extract \"$R::\$(borg list --last 1 --short '$R')\"") ;;
      travelkit) RS=("$TK" restore --repo "$R" --password-file "$W/pw" latest --to "$RT") ;;
    esac
    measure "$tool" restore -- "${RS[@]}"
    b=$("$MK" digest "$RT$SRC" 2>/dev/null || echo missing)
    if [ "$a" = "$b" ]; then log "$N $tool restore: same tree ($a)"; else log "$N $tool restore DIFFERS: source $a, restored $b"; fi
    rm -rf "$RT"
  done
  if [ -d "$W/repo-travelkit" ] && [ "$N" -le 100000 ]; then
    measure restic-reads-travelkit check-read-data -- restic -r "$W/repo-travelkit" --no-cache check --read-data
  fi
  for tool in $tools; do rm -rf "$W/repo-$tool" "$W/cache-$tool"; done
  if [ "${INPLACE:-0}" = 1 ]; then rm -rf "$DS"; else rm -rf "$SRC"; fi
  echo "== $N files: travelkit / restic (wall; bar <= 0.50), CPU ratio, and peak RSS (bar <= restic's) =="
  python3 - "$RES" <<'PY'
import csv, sys
rows = {(r["tool"], r["step"]): r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
for step in ["backup1", "backup2-nochange", "backup3-1pct", "restore"]:
    line = f"{step:17s}"
    for t in ["restic", "borg", "travelkit"]:
        r = rows.get((t, step))
        if r:
            line += f"  {t} {float(r['wall_s']):7.2f}s {float(r['cpu_s']):7.2f}cpu {int(r['maxrss_kb'])//1024:5d}MB load {r['load1']}"
    tk, re = rows.get(("travelkit", step)), rows.get(("restic", step))
    if tk and re:
        ratio = float(tk["wall_s"]) / float(re["wall_s"])
        cpu = float(tk["cpu_s"]) / float(re["cpu_s"])
        rss = int(tk["maxrss_kb"]) <= int(re["maxrss_kb"])
        line += f"  ratio {ratio:.2f} {'ok' if ratio <= 0.5 else 'SLOWER'}, CPU {cpu:.2f}, RSS {int(tk['maxrss_kb'])/int(re['maxrss_kb']):.2f} {'ok' if rss else 'HIGHER'}"
    print(line)
PY
  if [ "$BENCH_FS" != root ]; then
    rm -rf "$OUT"; mkdir -p "$OUT"; cp -r "$RES" "$W/log" "$OUT/"
    benchfs_cleanup
    echo "($N files: work directory on BENCH_FS=$BENCH_FS, removed; results in $OUT)"
  fi
done
