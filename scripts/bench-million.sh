#!/bin/bash
# bench-million.sh [FILES...] -- travelkit beside restic (and borg) on home folders of many
# small files (internal/homedata: photos, documents, source trees, a mail store; 100000
# files are about 520 MB in 2,000-3,500 folders). For each size, in one run per tool: first
# backup, no-change incremental, incremental after a 1% change, full restore; wall, CPU,
# peak RSS, and the ratios travelkit/restic. Not a test: it prints a comparison.
#   FILES default: 100000 300000 1000000
#   env: TOOLS (default "restic borg travelkit"), BENCH_DIR (default /tmp/travelkit-bench), SEED
set -euo pipefail
SIZES=${*:-100000 300000 1000000}
TOOLS=${TOOLS:-"restic borg travelkit"}
SEED=${SEED:-42}
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/travelkit-bench}; mkdir -p "$BENCH_DIR"
TK=$BENCH_DIR/travelkit; MK=$BENCH_DIR/mkhome
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$TK" ./cmd/travelkit && go build -o "$MK" ./scripts/mkhome)
export RESTIC_PASSWORD=bench-pass BORG_PASSPHRASE=bench-pass RESTIC_PROGRESS_FPS=0.016 BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
log() { echo "[$(date +%T)] $*" >&2; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

for N in $SIZES; do
  DS=$BENCH_DIR/many-$N-s$SEED W=$BENCH_DIR/work-many-$N
  if [ ! -f "$DS.ok" ]; then
    rm -rf "$DS"; log "making $N files in $DS"; "$MK" make "$N" "$DS" "$SEED" >&2; touch "$DS.ok"
  fi
  rm -rf "$W"; mkdir -p "$W/log"; RES=$W/results.tsv
  echo -e "tool\tstep\twall_s\tcpu_s\tmaxrss_kb\tforeign_cpu_s" > "$RES"
  SRC=$W/home
  measure() {  # TOOL STEP -- cmd...
    local tool=$1 step=$2; shift 3
    local tf=$W/log/$tool-$step.time b0 b1
    b0=$(busy)
    if ! /usr/bin/time -v -o "$tf" "$@" > "$W/log/$tool-$step.log" 2>&1; then log "FAILED: $tool $step"; tail -3 "$W/log/$tool-$step.log" >&2; fi
    b1=$(busy)
    local wall user sys rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
    user=$(awk -F': ' '/User time/{print $2}' "$tf"); sys=$(awk -F': ' '/System time/{print $2}' "$tf")
    rss=$(awk -F': ' '/Maximum resident/{print $2}' "$tf")
    local cpu; cpu=$(echo "$user+$sys" | bc)
    local foreign; foreign=$(echo "scale=1; ($b1-$b0)/$(getconf CLK_TCK) - $cpu" | bc)
    echo -e "$tool\t$step\t$wall\t$cpu\t$rss\t$foreign" >> "$RES"
    log "$N $tool $step wall=${wall}s cpu=${cpu}s rss=${rss}KB foreign_cpu=${foreign}s"
  }
  for tool in $TOOLS; do
    rm -rf "$SRC" "$W/repo" "$W/restore" "$W/cache"; cp -a "$DS" "$SRC"; sync
    R=$W/repo RT=$W/restore; mkdir -p "$RT"
    case $tool in
      restic)
        export RESTIC_CACHE_DIR=$W/cache
        restic -r "$R" init >/dev/null
        B=(restic -r "$R" backup --host bench "$SRC")
        RS=(restic -r "$R" restore latest --target "$RT"); OUT=$RT$SRC ;;
      borg)
        export BORG_BASE_DIR=$W/cache
        borg init -e repokey "$R" >/dev/null
        B=(borg create --compression lz4 "$R::{now:%H%M%S%f}" "$SRC")
        RS=(bash -c "cd '$RT' && exec borg extract \"$R::\$(borg list --last 1 --short '$R')\""); OUT=$RT$SRC ;;
      travelkit)
        printf '%s\n' "$RESTIC_PASSWORD" > "$W/pw"
        "$TK" init --repo "$R" --password-file "$W/pw" >/dev/null
        B=("$TK" backup --repo "$R" --password-file "$W/pw" --host bench "$SRC")
        RS=("$TK" restore --repo "$R" --password-file "$W/pw" latest --to "$RT"); OUT=$RT$SRC ;;
    esac
    measure "$tool" backup1 -- "${B[@]}"
    measure "$tool" backup2-nochange -- "${B[@]}"
    "$MK" mutate "$SRC" "$SEED" 1 >/dev/null
    measure "$tool" backup3-1pct -- "${B[@]}"
    measure "$tool" restore -- "${RS[@]}"
    a=$("$MK" digest "$SRC"); b=$("$MK" digest "$OUT" 2>/dev/null || echo missing)
    if [ "$a" = "$b" ]; then log "$N $tool restore: same tree ($a)"; else log "$N $tool restore DIFFERS: source $a, restored $b"; fi
    if [ "$tool" = travelkit ] && [ "$N" -le 100000 ]; then
      measure restic-reads-travelkit check-read-data -- restic -r "$R" --no-cache check --read-data
    fi
    rm -rf "$R" "$RT" "$W/cache" "$SRC"
  done
  echo "== $N files: travelkit / restic (wall; bar <= 0.50) and peak RSS (bar <= restic's) =="
  python3 - "$RES" <<'PY'
import csv, sys
rows = {(r["tool"], r["step"]): r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
for step in ["backup1", "backup2-nochange", "backup3-1pct", "restore"]:
    line = f"{step:17s}"
    for t in ["restic", "borg", "travelkit"]:
        r = rows.get((t, step))
        if r:
            line += f"  {t} {float(r['wall_s']):7.2f}s {float(r['cpu_s']):7.2f}cpu {int(r['maxrss_kb'])//1024:5d}MB"
    tk, re = rows.get(("travelkit", step)), rows.get(("restic", step))
    if tk and re:
        ratio = float(tk["wall_s"]) / float(re["wall_s"])
        rss = int(tk["maxrss_kb"]) <= int(re["maxrss_kb"])
        line += f"  ratio {ratio:.2f} {'ok' if ratio <= 0.5 else 'SLOWER'}, RSS {'ok' if rss else 'HIGHER'}"
    print(line)
PY
done
